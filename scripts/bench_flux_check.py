#!/usr/bin/env python3
"""How much `aiops flux check` costs next to plain `kustomize build` of the same folders.

Baseline: the pinned kustomize CLI (.venv/bin/kustomize) building the spec.path folder of
every Flux Kustomization under dist/, one after the other, in the working folder. That is
the least any build check must do. `aiops flux check --rev HEAD --no-prune` adds the git
checkout, the artifact, kustomize-controller's generation and substitution, and the
dependency, CRD and namespace checks. Both run in this process's machine, alternating, N times;
the medians and their ratio are printed.

    .venv/bin/python scripts/bench_flux_check.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from aiops.tree.flux import flux_kustomizations
    from aiops.tree.manifests import scan_manifests

    folders = sorted({str(k.folder) for k in flux_kustomizations(scan_manifests([ROOT / "dist"], root=ROOT).manifests)})

    def baseline() -> None:
        for folder in folders:
            subprocess.run([str(BIN / "kustomize"), "build", folder], cwd=ROOT, check=True, capture_output=True)

    def flux_check() -> None:
        result = subprocess.run([str(BIN / "aiops"), "flux", "check", "--rev", "HEAD", "--no-prune"], cwd=ROOT, capture_output=True)
        if result.returncode not in (0, 1):
            raise SystemExit(result.stderr.decode())

    timings: dict[str, list[float]] = {"kustomize build (baseline)": [], "aiops flux check": []}
    for _ in range(args.runs):
        for name, action in (("kustomize build (baseline)", baseline), ("aiops flux check", flux_check)):
            start = time.perf_counter()
            action()
            timings[name].append(time.perf_counter() - start)
    base = statistics.median(timings["kustomize build (baseline)"])
    check = statistics.median(timings["aiops flux check"])
    print(f"{len(folders)} Kustomization folders, {args.runs} runs each (median):")
    print(f"  kustomize build (baseline)  {base:6.2f} s")
    print(f"  aiops flux check            {check:6.2f} s  ({check / base:.1f}x the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
