"""`aiops validate --flux`: `aiops flux check`'s findings on the git working tree (or a revision),
and the schemas of what its builds produce from kustomize inputs.

Patches are not objects (`aiops/tree/kustomize.py`), so the validator does not judge them alone;
what matters is the object the build makes of them. With `--flux`, every built object whose
`spec` differs from the file it came from (a patch, an image override, a generator changed it)
goes through kubeconform as built, and its schema errors are reported at the object's file and
line, naming the Kustomization whose build made it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aiops.validate.errors import ToolError, UsageError
from aiops.validate.findings import FLUX_BUILD, SCHEMA, SCHEMA_DEFAULTED, Finding

if TYPE_CHECKING:
    from aiops.flux.report import FluxReport
    from aiops.tree.manifests import Manifest
    from aiops.validate.start import Started
    from aiops.validate.validator import Options

# The static Flux rules that the build-based check (aiops flux check) also decides, more exactly:
# with --flux its findings replace theirs, so that a mistake is reported once.
STATIC_FLUX_RULES = ("flux-depends-on-missing", "flux-dependency-cycle", "flux-path-missing", "flux-crd-order", "flux-source-missing")
_FLUX_SEVERITY = {"error": "error", "warning": "warning", "unchecked": "info"}


def with_flux_build(findings: list[Finding], options: Options, manifests: list[Manifest], started: Started) -> list[Finding]:
    """The validator's findings with `aiops flux check`'s in place of the static Flux rules, and the
    schema findings of built objects. Needs a git repository (Flux reads git, and so does the check)."""
    from aiops.flux import check_repository
    from aiops.flux.build import FluxBuildMissing
    from aiops.flux.source import SourceError
    from aiops.validate.context import git_root

    root = options.repo_root or git_root(options.paths[0])
    if root is None or not (Path(root) / ".git").exists():
        raise UsageError("--flux builds the Kustomizations of a git working tree, and these paths are not in one")
    dist = options.flux_dist or flux_dist(options.paths, Path(root))
    try:
        report = check_repository(Path(root), options.flux_rev, worktree=options.flux_rev is None, dist=dist)
    except (FluxBuildMissing, SourceError) as exc:
        raise ToolError(str(exc)) from None
    kept = [f for f in findings if f.rule.id not in STATIC_FLUX_RULES]
    # An apiVersion that Flux does not serve is one mistake: api-removed says it, with the object.
    removed = {(f.file, f.line) for f in kept if f.rule.id == "api-removed"}
    built = [
        Finding(FLUX_BUILD, f.file or "", f.line, f"[{f.rule}] {f.message}", f.fix, f.kustomization, severity=_FLUX_SEVERITY[f.severity])
        for f in report.findings
        if not (f.rule == "flux/api-not-served" and (f.file, f.line) in removed)
    ]
    return kept + built + _built_schemas(report, manifests, started)


def flux_dist(paths: list[Path], root: Path) -> str:
    """Where `--flux` looks for Kustomizations: the one folder validated (relative to the repository), else dist."""
    if len(paths) == 1 and paths[0].is_dir():
        try:
            return paths[0].resolve().relative_to(root.resolve()).as_posix() or "."
        except ValueError:
            pass
    return "dist"


def _built_schemas(report: FluxReport, manifests: list[Manifest], started: Started) -> list[Finding]:
    """kubeconform on the built objects that differ from their files in `spec`, once per distinct object."""
    from aiops.tree.manifests import Manifest
    from aiops.validate import kubeconform
    from aiops.validate.start import start_by_version
    from aiops.validate.validator import _kubeconform_findings

    static: dict[tuple[str, str, str], list[Manifest]] = {}
    for manifest in manifests:
        static.setdefault((manifest.file, manifest.kind, manifest.name), []).append(manifest)
    changed: dict[str, tuple] = {}  # the built body (as JSON) -> (object, Kustomization, its kustomization.yaml)
    for cluster in report.clusters:
        for state in cluster.kustomizations.values():
            if state.status != "built":
                continue
            for o in state.objects:
                # The object's file is named relative to the repository root; the validated tree's files
                # relative to the working folder, which is the root in the usual `aiops validate . --flux`.
                sources = static.get((o.file or "", o.kind, o.name)) or []
                if len(sources) != 1 or sources[0].body.get("spec") == o.body.get("spec"):
                    continue
                text = json.dumps(o.body, sort_keys=True, default=str)
                kfile = state.result.kustomization_file if state.result else None
                changed.setdefault(text, (o, state.kustomization.describe(), kfile))
    if not changed:
        return []
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="aiops-validate-built-") as scratch:
        files, built = [], []
        for number, (text, (o, kustomization, kfile)) in enumerate(sorted(changed.items(), key=lambda item: item[1][0].location)):
            path = Path(scratch) / f"built-{number}.yaml"
            path.write_text(text + "\n", encoding="utf-8")
            files.append(str(path))
            built.append((Manifest(str(path), 0, 1, json.loads(text)), o, kustomization, kfile))
        locations = started.cache.schema_locations()
        if started.extra_dir is not None:
            from aiops.schema_cache import CRD_FOLDER, CRD_TEMPLATE

            locations = [str(started.extra_dir / CRD_FOLDER / CRD_TEMPLATE), *locations]
        by_file = {manifest.file: (o, kustomization, kfile) for manifest, o, kustomization, kfile in built}

        def version_of(file: str) -> str:  # a built object is checked at the version of the file it came from
            return started.targets.version_of(by_file[file][0].file or "") if file in by_file else started.version

        results = [result for process in start_by_version(started, files, locations, version_of) for result in kubeconform.results(process)]
        for finding in _kubeconform_findings(results, [m for m, *_ in built], set(), started.cache, started.extra_dir,
                                             started.extra_index, version_of):
            if finding.rule not in (SCHEMA, SCHEMA_DEFAULTED) or finding.file not in by_file:
                continue  # a missing schema was reported for the object's own file already
            o, kustomization, kfile = by_file[finding.file]
            made = f"Kustomization {kustomization}" + (f" ({kfile} and its patches)" if kfile else "")
            findings.append(Finding(finding.rule, o.file or "", o.line, f"as built by {made}: {finding.message}",
                                    finding.fix, o.describe(), finding.severity))
    return findings
