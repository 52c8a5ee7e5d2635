"""`aiops simulate`: reconcile environments on a real Kubernetes control plane whose nodes are their pools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


def simulate(args: argparse.Namespace) -> int:
    from aiops.flux import check_checkout
    from aiops.flux.build import FluxBuildMissing
    from aiops.flux.source import SourceError, checkout, repository_root
    from aiops.simulate import simulate_environment
    from aiops.simulate.binaries import MissingBinary
    from aiops.simulate.control_plane import ControlPlaneError
    from aiops.simulate.nodes import ClusterError
    from aiops.simulate.report import as_json, render_text

    log = (lambda message: None) if args.quiet or args.format == "json" else (lambda message: print(f"  {message}", file=sys.stderr, flush=True))
    results = []
    try:
        repository = repository_root(Path(args.repo).resolve())
        dist = Path(args.dist)
        dist_rel = str((Path.cwd() / dist).resolve().relative_to(repository)) if not dist.is_absolute() or dist.is_relative_to(repository) else None
        if dist_rel is None:
            print(f"aiops simulate: {args.dist} is not inside the git repository {repository}", file=sys.stderr)
            return EXIT_USAGE
        with checkout(repository, args.rev, worktree=args.rev is None) as source:
            tree = source.path / dist_rel
            if not tree.is_dir():
                print(f"aiops simulate: {dist_rel}/ does not exist at {source.label}", file=sys.stderr)
                return EXIT_USAGE
            available = sorted(p.name for p in tree.iterdir() if (p / "terraform").is_dir())
            wanted = args.env or available
            unknown = [name for name in wanted if name not in available]
            if unknown:
                print(f"aiops simulate: no environment {', '.join(unknown)} in {dist_rel}/ (there are: {', '.join(available) or 'none'})", file=sys.stderr)
                return EXIT_USAGE
            log(f"building the Flux Kustomizations of {', '.join(wanted)} at {source.label} as kustomize-controller would")
            report = check_checkout(source, dist_rel, only=frozenset(wanted))
            clusters = {cluster.name: cluster for cluster in report.clusters if cluster.bootstrapped}
            for name in wanted:
                if name not in clusters:
                    print(f"aiops simulate: {dist_rel}/{name} has no bootstrap Kustomization (aiops flux check finds none), so Flux would apply nothing", file=sys.stderr)
                    return EXIT_USAGE
                results.append(simulate_environment(tree, name, clusters[name], keep=Path(args.keep) / name if args.keep else None, log=log))
    except (SourceError, FluxBuildMissing, MissingBinary, ClusterError) as exc:
        print(f"aiops simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ControlPlaneError as exc:
        print(f"aiops simulate: the control plane failed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aiops simulate: interrupted; the control plane was stopped", file=sys.stderr)
        return 130
    if args.format == "json":
        import json

        print(json.dumps(as_json(results), indent=2))
    else:
        print(render_text(results))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FINDINGS


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="reconcile environments on a throwaway Kubernetes control plane whose nodes are their pools",
        description="Start a real kube-apiserver, controller manager and scheduler on 127.0.0.1, register one KWOK node per "
        "pool member, reconcile dist/<env> as Flux would (Helm charts from their pins, Kueue and KubeRay running on the host), "
        "then report where every pod lands at the pools' desired and maximum sizes, what each PodDisruptionBudget allows and "
        "what Kueue admits. Exit 1 when a pod cannot be placed at desired, a budget allows no disruption or a queued workload "
        "is not admitted; 2 for bad input or a control plane that failed.",
    )
    parser.add_argument("--env", action="append", metavar="NAME", help="simulate only this environment (repeatable; default: every one in --dist)")
    parser.add_argument("--dist", default="dist", metavar="DIR", help="the tree to simulate, inside the git repository (default: dist)")
    parser.add_argument("--rev", metavar="REV", help="simulate this git revision instead of the working tree")
    parser.add_argument("--repo", default=".", metavar="DIR", help="a folder inside the git repository (default: the current folder)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--keep", metavar="DIR", help="keep each control plane's folder (logs, kubeconfig) under DIR/<env> instead of removing it")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    parser.set_defaults(handler=simulate)
