#!/usr/bin/env python3
"""How long a synthesis takes, against a named baseline measured in the same run.

    .venv/bin/python scripts/bench_synth.py [--runs N] [--environments DIR]

Every case runs in a fresh process (as a user would run it) and writes into a scratch folder,
never into dist/:

  baseline    one environment at a time: `aiops synth --env <env>` for each environment, one
              after the other; the baseline is the sum of their times (what a synthesis of all
              of them costs without running environments side by side)
  <env>       each of those single-environment syntheses on its own
  all         `aiops synth`: every environment, in parallel processes (the default --jobs)
  all, --jobs 1   every environment one after the other in one process
  no-op check `aiops synth --check` on an up-to-date tree whose inputs have not changed since
              the last full check (answered from the input digest, aiops.synth.stamp)
  full check  `aiops synth --check --full`: the same check, synthesizing

Cases alternate (each env, all, ...; then again) so that a change in the machine's load hits
them alike. For each case it prints the median wall-clock seconds and the ratio to the baseline,
and the peak resident memory of the whole process tree (Python, the worker processes and the
Node.js that jsii runs, sampled from /proc every 50 ms in one extra, untimed run of each case;
Linux only). Then the targets of
issue 15: all <= 0.6 x baseline, no-op check <= 0.1 x all. Run it on an idle machine; figures
from a busy one are only comparable within the same run.
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


def measure(command: list[str], *, sample_memory: bool = False) -> tuple[float, float]:
    """Wall-clock seconds and, when `sample_memory`, peak RSS (MiB) of one run; the run must
    succeed. `{out}` in the command becomes a fresh scratch folder. Timed runs are not sampled:
    walking /proc every 50 ms takes CPU from the synthesis, most of all from the parallel one,
    which needs both cores (and makes a core look busy to its choice of --jobs)."""
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    scratch = tempfile.mkdtemp(prefix="aiops-bench-")
    command = [part.replace("{out}", f"{scratch}/dist") for part in command]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    peak = 0
    if sample_memory:
        while process.poll() is None:
            peak = max(peak, _tree_rss_kib(process.pid))
            time.sleep(0.05)
    else:
        process.wait()
    elapsed = time.perf_counter() - start
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

    aiops = str(BIN / "aiops")
    names = sorted(p.stem for p in (REPO / args.environments).glob("*.yaml"))
    synth = [aiops, "synth", "--environments", args.environments]
    cases = {f"{name}: aiops synth --env {name}": [*synth, "--out", "{out}", "--env", name] for name in names}
    cases["all: aiops synth"] = [*synth, "--out", "{out}"]
    cases["all, --jobs 1: aiops synth --jobs 1"] = [*synth, "--out", "{out}", "--jobs", "1"]
    # The checks read an up-to-date tree of their own, kept for the whole run.
    kept = tempfile.mkdtemp(prefix="aiops-bench-checked-")
    measure([*synth, "--out", f"{kept}/dist", "--no-validate"])
    measure([*synth, "--check", "--full", "--out", f"{kept}/dist"])  # records the input digest
    cases["no-op check: aiops synth --check"] = [*synth, "--check", "--out", f"{kept}/dist"]
    cases["full check: aiops synth --check --full"] = [*synth, "--check", "--full", "--out", f"{kept}/dist"]

    results: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    try:
        for _ in range(args.runs):
            for case, command in cases.items():
                results[case].append(measure(command))
        memory = {case: measure(command, sample_memory=True)[1] for case, command in cases.items()}  # one sampled run each, untimed
    finally:
        shutil.rmtree(kept, ignore_errors=True)

    singles = [case for case in cases if case.split(":")[0] in names]
    # the baseline of each run: its single-environment syntheses one after the other
    baseline_runs = [sum(results[case][run][0] for case in singles) for run in range(args.runs)]
    base = statistics.median(baseline_runs)
    print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, median of {args.runs} run(s) per case")
    print(f"{'case':<52} {'seconds':>8} {'x base':>7} {'peak MiB':>9}   all runs (s)")
    print(f"{'baseline: the environments one at a time (sum)':<52} {base:8.1f} {1:7.2f} {'':>9}   {', '.join(f'{s:.1f}' for s in baseline_runs)}")
    medians = {}
    for case, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        medians[case] = seconds
        every = ", ".join(f"{s:.1f}" for s, _ in runs)
        print(f"{case:<52} {seconds:8.1f} {seconds / base:7.2f} {memory[case]:9.0f}   {every}")
    full, noop = medians["all: aiops synth"], medians["no-op check: aiops synth --check"]
    print(f"target: all <= 0.6 x baseline: {full / base:.2f} ({'met' if full <= 0.6 * base else 'NOT met'})")
    print(f"target: no-op check <= 0.1 x all: {noop / full:.3f} ({'met' if noop <= 0.1 * full else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
