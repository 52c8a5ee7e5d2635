#!/usr/bin/env python3
"""How long a warm `aiops simulate` of one environment takes, against a named baseline measured
in the same run, and its peak memory.

    .venv/bin/python scripts/bench_simulate.py [--env NAME]... [--runs N]

  candidate   `aiops simulate --env <env>` as a user runs it (a fresh process, a fresh control
              plane, both passes), with its peak resident memory (the whole process tree:
              Python, etcd, the API server, controllers, KWOK, Kueue, KubeRay, flux-apply)
  baseline    the same control plane (same programs, same flags) started fresh, the desired
              nodes registered, then plain `kubectl apply --server-side` of exactly the objects
              the candidate applied (the files it records in its folder's applied/), in the same
              order, CRDs waited for; webhook configurations and CRD conversion webhooks are
              left out, since no host process serves them in the baseline (the replayed files are
              prepared before any timing starts)

"Warm" means the set-up has built everything and Python's bytecode is cached: one untimed run
of each comes first. Runs alternate (baseline, candidate) so that load hits both alike; the
script prints every run, the medians, the ratio and the load average before and after (the
machine may be shared). Linux only (memory from /proc).
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

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
sys.path.insert(0, str(REPO / "scripts"))
from bench_synth import _tree_rss_kib  # noqa: E402


def candidate(environment: str, keep: Path) -> tuple[float, float]:
    """Seconds and peak MiB of `aiops simulate --env <environment>`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    start = time.perf_counter()
    process = subprocess.Popen([str(BIN / "aiops"), "simulate", "--env", environment, "--quiet", "--keep", str(keep)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1):
        sys.exit(f"aiops simulate --env {environment} failed ({process.returncode}): {process.stderr.read()}")
    return elapsed, peak / 1024


def _replayable(path: Path) -> list[dict]:
    docs = [d for d in yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]
    out = []
    for doc in docs:
        if doc.get("kind") in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            continue
        if doc.get("kind") == "CustomResourceDefinition" and ((doc.get("spec") or {}).get("conversion") or {}).get("strategy") == "Webhook":
            doc["spec"]["conversion"] = {"strategy": "None"}
        out.append(doc)
    # Flux's server-side apply sends CRDs and Namespaces before the objects that need them;
    # plain kubectl applies a file in its order, and refused the namespaced objects of a file
    # whose Namespace came later (their objects were missing from the baseline).
    return sorted(out, key=lambda d: {"CustomResourceDefinition": 0, "Namespace": 1}.get(d.get("kind"), 2))


def replay_batches(applied: Path, folder: Path) -> list[tuple[Path, bool]]:
    """The recorded applies as files kubectl can replay (made once, before any timing), each
    with whether it holds CRDs."""
    batches = []
    for path in sorted(applied.glob("*.yaml")):
        docs = _replayable(path)
        if docs:
            batch = folder / path.name
            batch.write_text(yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))
            batches.append((batch, any(d.get("kind") == "CustomResourceDefinition" for d in docs)))
    return batches


def baseline(environment: str, batches: list[tuple[Path, bool]]) -> float:
    """Seconds of a fresh control plane, the desired nodes and kubectl apply of each batch."""
    sys.path.insert(0, str(REPO / "src"))
    from aiops.simulate.control_plane import control_plane
    from aiops.simulate.nodes import read_cluster
    from aiops.simulate.run import register_nodes

    cluster = read_cluster(REPO / "dist", environment)
    start = time.perf_counter()
    with control_plane(cluster.kubernetes_version) as plane:
        kubectl = next((REPO / ".venv" / "libexec" / "aiops").glob(f"kubernetes-{cluster.kubernetes_version}")) / "kubectl"
        version = str(plane.api.get("/version")["gitVersion"]).lstrip("v")
        register_nodes(plane.api, cluster, "desired", version)
        for batch, has_crds in batches:
            result = subprocess.run([str(kubectl), f"--kubeconfig={plane.kubeconfig}", "apply", "--server-side", "--force-conflicts",
                                     "--field-manager=kubectl-baseline", "-f", str(batch)], capture_output=True, text=True)
            if result.returncode != 0 and "no matches for kind" not in result.stderr:
                print(f"  (baseline: {batch.name}: {result.stderr.strip().splitlines()[-1]})", file=sys.stderr)
            if has_crds:
                subprocess.run([str(kubectl), f"--kubeconfig={plane.kubeconfig}", "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"],
                               capture_output=True, text=True)
    return time.perf_counter() - start


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", action="append", metavar="NAME", help="environment (repeatable; default: all three reference environments)")
    parser.add_argument("--runs", type=int, default=3, help="timed pairs per environment (default 3)")
    args = parser.parse_args()
    environments = args.env or ["aws-primary", "azure-dr", "gcp-burst"]
    print(f"{'environment':<14} {'baseline s':>10} {'simulate s':>10} {'x baseline':>10} {'peak MiB':>9}")
    for environment in environments:
        scratch = Path(tempfile.mkdtemp(prefix="aiops-bench-simulate-"))
        try:
            keep = scratch / "planes"
            candidate(environment, keep)  # warm-up, and the objects the baseline replays
            applied = scratch / "applied"
            shutil.copytree(keep / environment / "applied", applied)
            (scratch / "replay").mkdir()
            batches = replay_batches(applied, scratch / "replay")
            baseline(environment, batches)  # warm-up
            base_runs, runs, peaks = [], [], []
            load_before = _load()
            for _ in range(args.runs):
                base_runs.append(baseline(environment, batches))
                seconds, peak = candidate(environment, keep)
                runs.append(seconds)
                peaks.append(peak)
            base, sim = statistics.median(base_runs), statistics.median(runs)
            print(f"{environment:<14} {base:10.1f} {sim:10.1f} {sim / base:10.2f} {max(peaks):9.0f}"
                  f"   (baseline runs {', '.join(f'{r:.1f}' for r in base_runs)}; simulate runs {', '.join(f'{r:.1f}' for r in runs)};"
                  f" load average {load_before} -> {_load()})", flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
