#!/usr/bin/env python3
"""How long a synthesis takes, against a named baseline measured in the same run.

    .venv/bin/python scripts/bench_synth.py [--runs N] [--environments DIR]

Every case runs in a fresh process (as a user would run it) and writes into a scratch folder,
never into dist/:

  baseline    the Kubernetes side only: cdk8s synthesis of every environment (no cdktn, no
              provider bindings), the part of `aiops synth` the Terraform stacks add to
  all clouds  `aiops synth`: both sides, every environment, the three clouds' stacks
  <env>       `aiops synth --env <env>`: both sides, one environment (one cloud)

Cases alternate (baseline, all, each env; then again) so that a change in the machine's load
hits them alike. For each case it prints the median wall-clock seconds and the ratio to the
baseline's median, and the peak resident memory of the whole process tree (Python and the
Node.js that jsii runs, sampled from /proc every 50 ms; Linux only), also as a ratio. Run it on
an idle machine; figures from a busy one are only comparable within the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"

KUBERNETES_ONLY = """
import sys, tempfile
from pathlib import Path
from aiops.model import load_environments
from aiops.synth.kubernetes import synthesize_kubernetes
with tempfile.TemporaryDirectory() as out:
    synthesize_kubernetes(load_environments(Path(sys.argv[1])), Path(out))
"""


def _tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants, in KiB, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and peak RSS (MiB) of one run; the run must succeed. `{out}` in the
    command becomes a fresh scratch folder."""
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    scratch = tempfile.mkdtemp(prefix="aiops-bench-")
    command = [part.replace("{out}", f"{scratch}/dist") for part in command]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start  # includes sampling overhead, alike for every case
    shutil.rmtree(scratch, ignore_errors=True)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return elapsed, peak / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (default 3); the median is reported")
    parser.add_argument("--environments", default="environments", help="folder of environment files (default: environments)")
    args = parser.parse_args()

    python, aiops = str(BIN / "python"), str(BIN / "aiops")
    names = sorted(p.stem for p in (REPO / args.environments).glob("*.yaml"))
    cases = {"baseline: Kubernetes side only": [python, "-c", KUBERNETES_ONLY, args.environments]}
    cases["all clouds: aiops synth"] = [aiops, "synth", "--environments", args.environments, "--out", "{out}"]
    for name in names:
        cases[f"{name}: aiops synth --env {name}"] = [aiops, "synth", "--environments", args.environments, "--out", "{out}", "--env", name]

    measure(cases["baseline: Kubernetes side only"])  # warm the file cache; not counted
    results: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    for _ in range(args.runs):
        for case, command in cases.items():
            results[case].append(measure(command))

    base_seconds = statistics.median(s for s, _ in results["baseline: Kubernetes side only"])
    base_memory = statistics.median(m for _, m in results["baseline: Kubernetes side only"])
    print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, median of {args.runs} run(s) per case")
    print(f"{'case':<52} {'seconds':>8} {'x base':>7} {'peak MiB':>9} {'x base':>7}   all runs (s)")
    for case, runs in results.items():
        seconds, memory = statistics.median(s for s, _ in runs), statistics.median(m for _, m in runs)
        every = ", ".join(f"{s:.1f}" for s, _ in runs)
        print(f"{case:<52} {seconds:8.1f} {seconds / base_seconds:7.2f} {memory:9.0f} {memory / base_memory:7.2f}   {every}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
