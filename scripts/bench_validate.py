#!/usr/bin/env python3
"""How much `aiops validate` costs next to kubeconform alone, on the same tree and schema cache.

    .venv/bin/python scripts/bench_validate.py                  # the reference dist/
    .venv/bin/python scripts/bench_validate.py --add ../shared/upstream/samples
                                                                # dist/ plus more manifests
    .venv/bin/python scripts/bench_validate.py --pods 10000     # 10,000 valid Pods in 100 files instead

Baseline: the pinned kubeconform alone, as a user would run it on the tree (-strict -output
json, the same schema locations, the same files, its default number of workers). Candidate:
`aiops validate` itself (schemas through kubeconform, plus reading the tree and every platform
rule). Both are timed as whole processes, in pairs (baseline, then candidate), after one
warm-up run each (which also lets Python write its bytecode cache, as any installed copy has
after its first run).

Prints the median and fastest wall time of each, the ratio of the medians, and the median of
the per-pair ratios with its spread: a shared machine's slow spells hit both runs of a pair,
so the pairs are the steadier measure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"{command[0]} failed ({result.returncode}): {result.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=str(ROOT / "dist"), help="the tree to validate (default: dist/)")
    parser.add_argument("--add", action="append", default=[], metavar="DIR", help="copy these folders into the tree too")
    parser.add_argument("--pods", type=int, metavar="N", help="instead of --tree: N valid Pods, in 100 files")
    parser.add_argument("--runs", type=int, default=21, help="timed pairs of runs (default 21)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from aiops.schema_cache import SchemaCache, default_cache_dir
    from aiops.validate.start import kubeconform_files

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="aiops-bench-") as scratch:
        work = Path(scratch)
        tree = work / "dist"
        if args.pods:
            _write_pods(tree, args.pods)
            args.tree = f"{args.pods} generated Pods"
        else:
            shutil.copytree(args.tree, tree)
        for index, extra in enumerate(args.add):
            shutil.copytree(extra, tree / f"extra-{index}")
        cache = SchemaCache(default_cache_dir())
        version = cache.kubernetes_version(None)
        os.chdir(work)
        files = kubeconform_files([Path("dist")])
        kubeconform = [str(BIN / "kubeconform"), "-strict", "-output", "json", "-kubernetes-version", version]
        for location in cache.schema_locations():
            kubeconform += ["-schema-location", location]
        kubeconform += ["--", *files]
        aiops = [str(BIN / "aiops"), "validate", "dist", "--format", "json", "--fail-on", "none"]
        for command in (kubeconform, aiops):
            timed(command, work, env)  # warm-up: page cache, bytecode cache
        baseline, candidate = [], []
        for _ in range(args.runs):
            baseline.append(timed(kubeconform, work, env))
            candidate.append(timed(aiops, work, env))
    objects = sum(1 for _ in files)
    print(f"tree: {args.tree}{' + ' + ', '.join(args.add) if args.add else ''} ({objects} manifest files), {args.runs} pairs of runs, {os.cpu_count()} CPUs")
    for name, times in (("kubeconform alone", baseline), ("aiops validate", candidate)):
        print(f"  {name:18} median {statistics.median(times) * 1000:7.0f} ms   fastest {min(times) * 1000:7.0f} ms")
    print(f"  ratio (median aiops / median kubeconform): {statistics.median(candidate) / statistics.median(baseline):.2f}x")
    ratios = sorted(c / b for b, c in zip(baseline, candidate))
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"  ratio per pair: median {statistics.median(ratios):.2f}x, middle half {quartiles[0]:.2f}x to {quartiles[2]:.2f}x")
    return 0


def _write_pods(folder: Path, count: int, files: int = 100) -> None:
    """Valid Pods (pinned image, requests and limits), spread over `files` files."""
    folder.mkdir()
    for number in range(files):
        pods = [
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{number}-{index}\n  namespace: team-{number % 5}\n"
            f"  labels:\n    app: worker\nspec:\n  containers:\n    - name: main\n"
            f"      image: ghcr.io/example-org/worker:1.0.{index}\n      resources:\n"
            "        requests: {cpu: 250m, memory: 256Mi}\n        limits: {cpu: 500m, memory: 512Mi}\n"
            for index in range(number, count, files)
        ]
        (folder / f"pods-{number:03d}.yaml").write_text("---\n".join(pods))


if __name__ == "__main__":
    sys.exit(main())
