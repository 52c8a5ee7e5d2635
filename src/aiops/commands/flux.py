"""`aiops flux check`: build every Flux Kustomization of a git revision as kustomize-controller would."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FLUX_VERSION = "kustomize-controller v1.9.4 (Flux v2.9.4)"


class BaseLabel:
    """The base revision when its files equal the checked ones (nothing was built for it)."""

    def __init__(self, label: str) -> None:
        self.label = label


def check(args: argparse.Namespace) -> int:
    from aiops.flux import check_repository, prune_changes
    from aiops.flux.build import FluxBuildMissing
    from aiops.flux.prune import removed_bootstrap_paths
    from aiops.flux.report import finding_order
    from aiops.flux.source import SourceError, parent_of, repository_root, resolve, tree_of

    try:
        repository = repository_root(Path(args.repo).resolve())
        head = check_repository(repository, args.rev, worktree=args.worktree, dist=args.dist)
        base_revision = args.base
        if base_revision is None and not args.no_prune:
            base_revision = "HEAD" if args.worktree else (f"{args.rev}^" if parent_of(repository, resolve(repository, args.rev)) else None)
        base, changes = None, None
        if base_revision and not args.no_prune:
            if tree_of(repository, base_revision) == head.tree:
                # Same files, same builds: nothing to prune, and no second build needed.
                base, changes = BaseLabel(f"{base_revision} ({resolve(repository, base_revision)[:12]})"), []
            else:
                base = check_repository(repository, base_revision, dist=args.dist)
                changes = prune_changes(base, head)
                head.findings[:] = sorted([*head.findings, *removed_bootstrap_paths(base, head)], key=finding_order)
    except (SourceError, FluxBuildMissing) as exc:
        print(f"aiops flux check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        import json

        print(json.dumps(_as_json(head, base, changes), indent=2, sort_keys=False))
    else:
        _print_text(head, base, changes, inventory=args.inventory)
    return EXIT_OK if head.ok else EXIT_FINDINGS


def _flags(k) -> str:
    return ", ".join(flag for flag, on in (("prune", k.prune), ("wait", k.wait or bool(k.health_checks)), ("postBuild", k.post_build is not None)) if on) or "-"


def _print_text(head, base, changes, *, inventory: bool) -> None:
    from aiops.flux.ordering import target_of

    print(f"aiops flux check: {head.label}, built as {FLUX_VERSION} would")
    for cluster in head.clusters:
        wave_of = {key: number for number, wave in enumerate(cluster.waves, start=1) for key in wave}
        states = sorted(cluster.kustomizations.values(), key=lambda s: (wave_of.get(s.kustomization.key, 999), s.kustomization.key))
        if cluster.implied:
            origin = (f"bootstrap {cluster.entry.describe()} as `flux bootstrap --path={cluster.entry.folder}` writes it; "
                      f"{cluster.entry.manifest.file} is a placeholder")
        elif cluster.bootstrapped:
            origin = f"bootstrap {cluster.entry.describe()} in {cluster.entry.manifest.file}"
        else:
            origin = "entry points without bootstrap"
        print(f"\ncluster {cluster.name} ({origin}): {len(states)} Kustomization(s) in {len(cluster.waves)} wave(s)")
        width = max(len(s.kustomization.describe()) for s in states)
        path_width = max(len(s.kustomization.path) for s in states)
        for state in states:
            k = state.kustomization
            wave = wave_of.get(k.key)
            status = {
                "built": f"{len(state.objects)} object(s)",
                "failed": "FAILS: " + (state.reason.splitlines()[0].split(":")[0] if state.reason else "see below"),
                "unchecked": "not checked offline",
            }.get(state.status, state.status)
            depends = f"  after {', '.join(f'{n}' for _, n in k.depends_on)}" if k.depends_on else ""
            target = target_of(state)
            depends += f"  (applies to the cluster of {target})" if target else ""
            print(f"  {wave if wave else '-':>2}  {k.describe():<{width}}  {k.path:<{path_width}}  {_flags(k):<22} {status}{depends}")
            if inventory and state.status == "built":
                for obj in state.objects:
                    print(f"        {obj.describe()}  ({obj.location})")
    if head.findings:
        print()
        for finding in head.findings:
            print(finding.render())
    if changes is not None:
        print(f"\nprune, from {base.label} to {head.label}:")
        if not changes:
            print("  nothing is deleted, orphaned or left unpruned")
        for change in changes:
            print(f"  {change.render()}")
    print(f"\n{head.verdict()}")


def _as_json(head, base, changes) -> dict:
    from aiops.flux.ordering import target_of

    clusters = []
    for cluster in head.clusters:
        wave_of = {key: number for number, wave in enumerate(cluster.waves, start=1) for key in wave}
        clusters.append({
            "name": cluster.name,
            "bootstrap": cluster.entry.describe() if cluster.bootstrapped else None,
            "bootstrapImplied": cluster.implied,  # as `flux bootstrap` would write it (placeholder gotk-sync.yaml)
            "kustomizations": [
                {
                    "name": s.kustomization.describe(), "file": s.kustomization.manifest.file, "path": s.kustomization.path,
                    "wave": wave_of.get(key), "status": s.status, "reason": s.reason or None,
                    "prune": s.kustomization.prune, "wait": s.kustomization.wait,
                    "dependsOn": [f"{ns}/{n}" for ns, n in s.kustomization.depends_on], "appliedBy": s.applied_by,
                    "appliesTo": target_of(s) or None,  # spec.kubeConfig: another cluster
                    "generatedKustomization": bool(s.result and s.result.generated),
                    "objects": [
                        {"apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace, "name": o.name, "file": o.file, "line": o.line}
                        for o in s.objects
                    ],
                }
                for key, s in sorted(cluster.kustomizations.items())
            ],
        })
    return {
        "revision": head.label, "commit": head.commit, "builtAs": FLUX_VERSION, "ok": head.ok, "verdict": head.verdict(),
        "built": head.built, "kustomizations": len(head.states), "notBuiltHere": [{"cluster": s.cluster, "name": s.kustomization.describe(), "reason": s.reason} for s in head.not_built_here],
        "clusters": clusters,
        "findings": [f.as_dict() for f in head.findings],
        "prune": None if changes is None else {"base": base.label, "changes": [c.as_dict() for c in changes]},
    }


def register(commands: argparse._SubParsersAction) -> None:
    flux = commands.add_parser("flux", help="Flux: check that dist/ reconciles from git")
    subcommands = flux.add_subparsers(dest="flux_command", required=True, metavar="SUBCOMMAND")
    checker = subcommands.add_parser(
        "check",
        help="clone a revision and build every Flux Kustomization as kustomize-controller does",
        description="Clone a revision with git, build every Flux Kustomization under dist/ as kustomize-controller "
        "does, and report what would stop a reconciliation; list what prune would delete relative to a base revision.",
    )
    source = checker.add_mutually_exclusive_group()
    source.add_argument("--rev", default="HEAD", metavar="REV", help="the revision to check (default HEAD)")
    source.add_argument("--worktree", action="store_true", help="check the working tree as `git add -A` would commit it")
    prune = checker.add_mutually_exclusive_group()
    prune.add_argument("--base", metavar="REV", help="revision the cluster runs now, for the prune report "
                       "(default: HEAD with --worktree, else the parent of --rev)")
    prune.add_argument("--no-prune", action="store_true", help="skip the prune report (and the second build it needs)")
    checker.add_argument("--inventory", action="store_true", help="list every object each Kustomization applies")
    checker.add_argument("--format", choices=("text", "json"), default="text")
    checker.add_argument("--repo", default=".", metavar="PATH", help="the git repository (default: the current folder)")
    checker.add_argument("--dist", default="dist", metavar="DIR", help="folder of the repository to look for Kustomizations in (default dist)")
    checker.set_defaults(handler=check)
