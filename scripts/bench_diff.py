#!/usr/bin/env python3
"""Benchmark `aiops diff` on two dist/-like trees of many objects, against baselines in the same run.

    .venv/bin/python scripts/bench_diff.py [--objects 10000] [--repeat 5]

It writes two trees under a temporary folder: three environments laid out like dist/ (Flux
Kustomizations in cluster/, workloads in apps/ and infrastructure/, EKS/AKS/GKE Terraform JSON),
10 objects per file, Deployments, Services, ConfigMaps, HPAs and RayClusters of realistic size.
Two changes are measured:

  typical   what a big pull request does: 1% of the objects changed, 0.5% removed, 0.5% added,
            1% moved to the next file, one node pool resized in each environment
  rewrite   every object changed (a label added everywhere), so every file differs

and for each, four commands, each the median of --repeat runs taken in turns after one warm-up
run, as a user runs them (a new process each time, start-up included):

  aiops diff (folders)   aiops diff OLD NEW --format json
  aiops diff (git)       aiops diff --base A --head B --format json in a repository with both commits
  parse only             the shared tree readers parsing both trees and nothing else: the floor of
                         any semantic diff written on these readers
  git diff --no-index    the textual diff a reviewer gets without this tool

Reported: seconds, and each command's time as a ratio of `parse only` and of `git diff`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OBJECTS_PER_FILE = 10
ENVIRONMENTS = ("aws-primary", "azure-dr", "gcp-burst")
BIN = Path(sys.executable).parent


def deployment(name: str, namespace: str, replicas: int, label: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}, team: ml{label}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      nodeSelector: {{workload-type: ml-inference}}
      tolerations:
        - {{key: nvidia.com/gpu, operator: Equal, value: "true", effect: NoSchedule}}
      containers:
        - name: server
          image: registry.example.org/{name}:1.4.2
          ports:
            - {{name: http, containerPort: 8080}}
          env:
            - {{name: MODEL, value: {name}}}
            - {{name: THREADS, value: "4"}}
          resources:
            requests: {{cpu: "2", memory: 8Gi, nvidia.com/gpu: "1"}}
            limits: {{cpu: "4", memory: 16Gi, nvidia.com/gpu: "1"}}
        - name: sidecar
          image: registry.example.org/metrics:0.9.1
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 200m, memory: 256Mi}}
"""


def service(name: str, namespace: str, label: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}{label}}}
spec:
  selector: {{app: {name}}}
  ports:
    - {{name: http, port: 80, targetPort: 8080}}
"""


def config_map(name: str, namespace: str, label: str) -> str:
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}{label}}}
data:
  model.yaml: |
    name: {name}
    batch: 32
    precision: fp16
"""


def hpa(name: str, namespace: str, target: int, label: str) -> str:
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}{label}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: 2
  maxReplicas: 20
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {{type: Utilization, averageUtilization: {target}}}
"""


def ray_cluster(name: str, namespace: str, replicas: int, label: str) -> str:
    return f"""apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}{label}}}
spec:
  rayVersion: "2.52.0"
  headGroupSpec:
    rayStartParams: {{num-cpus: "0"}}
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.52.0
            resources: {{requests: {{cpu: "2", memory: 8Gi}}, limits: {{cpu: "4", memory: 16Gi}}}}
  workerGroupSpecs:
    - groupName: gpu-workers
      replicas: {replicas}
      minReplicas: 1
      maxReplicas: 10
      rayStartParams: {{}}
      template:
        spec:
          containers:
            - name: ray-worker
              image: rayproject/ray:2.52.0
              resources: {{requests: {{cpu: "4", memory: 16Gi, nvidia.com/gpu: "1"}}, limits: {{cpu: "8", memory: 32Gi, nvidia.com/gpu: "1"}}}}
"""


def render(kind: str, name: str, namespace: str, variant: int, label: str) -> str:
    label = f"{label}, version: v{variant}"
    if kind == "Deployment":
        return deployment(name, namespace, 2 + variant, label)
    if kind == "Service":
        return service(name, namespace, label)
    if kind == "ConfigMap":
        return config_map(name, namespace, label)
    if kind == "HorizontalPodAutoscaler":
        return hpa(name, namespace, 70 + variant, label)
    return ray_cluster(name, namespace, 1 + variant, label)


KINDS = ("Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "RayCluster")


def flux(environment: str) -> str:
    documents = []
    for name, path, prune in (("infra-configs", "infrastructure/configs", "true"), ("apps", "apps", "true")):
        documents.append(f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  interval: 10m
  sourceRef: {{kind: GitRepository, name: flux-system}}
  path: ./dist/{environment}/{path}
  prune: {prune}
""")
    return "---\n".join(documents)


def terraform(max_size: int) -> str:
    pools = {
        f"node_group_pool_{i}": {
            "cluster_name": "${aws_eks_cluster.cluster.name}", "node_group_name": f"pool-{i}", "instance_types": ["p3.2xlarge"],
            "ami_type": "AL2023_x86_64_NVIDIA", "node_role_arn": "${var.node_role_arn}", "subnet_ids": "${var.private_subnet_ids}",
            "scaling_config": {"min_size": 0, "desired_size": 2, "max_size": max_size if i == 0 else 10},
            "labels": {"workload-type": "ml-training"},
        }
        for i in range(4)
    }
    document = {"resource": {"aws_eks_cluster": {"cluster": {"name": "bench", "role_arn": "${var.cluster_role_arn}"}},
                             "aws_eks_node_group": pools}}
    return json.dumps(document, indent=2, sort_keys=True)


Item = tuple[str, str, str, int, int, int]  # environment, folder, kind, number, file, variant


def objects(count: int) -> list[Item]:
    """`count` objects spread over the environments, folders and kinds, OBJECTS_PER_FILE to a file."""
    out = []
    for index in range(count):
        file = index // OBJECTS_PER_FILE
        environment = ENVIRONMENTS[file % len(ENVIRONMENTS)]
        folder = "apps" if file % 4 else "infrastructure/configs"
        out.append((environment, folder, KINDS[index % len(KINDS)], index, file, 0))
    return out


def write_tree(root: Path, items: list[Item], *, label: str = "", max_size: int = 10) -> None:
    files: dict[Path, list[str]] = {}
    for environment, folder, kind, number, file, variant in items:
        path = root / environment / folder / f"objects-{file:05d}.yaml"
        files.setdefault(path, []).append(render(kind, f"obj-{number:06d}", f"team-{number % 7}", variant, label))
    for path, documents in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n".join(documents))
    for environment in ENVIRONMENTS:
        (root / environment / "cluster").mkdir(parents=True, exist_ok=True)
        (root / environment / "cluster" / "apps.yaml").write_text(flux(environment))
        stack = root / environment / "terraform" / "eks"
        stack.mkdir(parents=True, exist_ok=True)
        (stack / "cdk.tf.json").write_text(terraform(max_size))


def typical_change(items: list[Item], rng: random.Random) -> list[Item]:
    """1% changed, 0.5% removed, 0.5% added, 1% moved to another file (the pool resize is in write_tree)."""
    count = len(items)
    picked = rng.sample(range(count), count // 100 + count // 200 + count // 100)
    changed, removed, moved = set(picked[: count // 100]), set(picked[count // 100: count // 100 + count // 200]), set(picked[-(count // 100):])
    head = []
    for i, (environment, folder, kind, number, file, variant) in enumerate(items):
        if i in removed:
            continue
        head.append((environment, folder, kind, number, file + 1 if i in moved else file, 1 if i in changed else variant))
    last = items[-1][4] + 1
    head += [(ENVIRONMENTS[i % 3], "apps", KINDS[i % 5], count + i, last + i // OBJECTS_PER_FILE, 0) for i in range(count // 200)]
    return head


# As bench_validate.py: Python may write its bytecode cache, as any installed copy has after its
# first run (with PYTHONDONTWRITEBYTECODE set, every run after an edit compiles the changed
# modules again, and the figures come out tenths of a second too slow).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(commands: dict[str, tuple[list[str], Path]], repeat: int) -> dict[str, float]:
    """Median seconds of each command, after one warm-up run each. The commands take turns, so a
    busy machine slows all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat + 1):
        for name, (command, cwd) in commands.items():
            start = time.perf_counter()
            result = subprocess.run(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            if round_:
                times[name].append(time.perf_counter() - start)
            if result.returncode not in (0, 1):
                raise SystemExit(f"{command} failed: {result.stderr.decode()}")
    return {name: statistics.median(values) for name, values in times.items()}


# The readers `aiops diff` itself uses (files held in memory, no YAML nodes kept), on every file.
PARSE_ONLY = (
    "import sys; from pathlib import Path;"
    "from aiops.synth.dist_tree import read_tree;"
    "from aiops.tree.manifests import scan_manifest_files; from aiops.tree.terraform import scan_terraform_files;"
    "trees = [{str(k): v for k, v in read_tree(Path(p)).items()} for p in sys.argv[1:]];"
    "[(scan_manifest_files(t), scan_terraform_files(t)) for t in trees]"
)


def git_repository(work: Path, old: Path, new: Path) -> tuple[Path, str, str]:
    repo = work / "repo"
    environment = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull}

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, env=environment, check=True, capture_output=True, text=True).stdout.strip()

    repo.mkdir()
    git("init", "--quiet")
    shutil.copytree(old, repo / "dist")
    git("add", "-A")
    git("-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "--quiet", "-m", "base")
    base = git("rev-parse", "HEAD")
    shutil.rmtree(repo / "dist")
    shutil.copytree(new, repo / "dist")
    git("add", "-A")
    git("-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "--quiet", "-m", "head")
    return repo, base, git("rev-parse", "HEAD")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    aiops = str(BIN / "aiops")
    with tempfile.TemporaryDirectory(prefix="aiops-bench-diff-") as scratch:
        work = Path(scratch)
        base_items = objects(args.objects)
        write_tree(work / "base", base_items)
        write_tree(work / "typical", typical_change(base_items, rng), max_size=12)
        write_tree(work / "rewrite", base_items, label="-x")
        files = sum(1 for _ in (work / "base").rglob("*.yaml"))
        size = sum(p.stat().st_size for p in (work / "base").rglob("*") if p.is_file())
        print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"trees: {args.objects} objects in {files} YAML files ({size / 1e6:.1f} MB) per tree, 3 environments;"
              f" median of {args.repeat} runs; {os.cpu_count()} cores; Python {platform.python_version()}")
        print()
        header = f"{'change':8}  {'command':22}  {'seconds':>8}  {'x parse only':>12}  {'x git diff':>10}"
        print(header)
        print("-" * len(header))
        for change in ("typical", "rewrite"):
            old, new = work / "base", work / change
            (work / f"git-{change}").mkdir()
            repo, base, head = git_repository(work / f"git-{change}", old, new)
            check = subprocess.run([aiops, "diff", str(old), str(new), "--format", "json"], capture_output=True, text=True, check=True)
            report = json.loads(check.stdout)
            counts = [sum(e["summary"]["objects"][a] for e in report["environments"]) for a in ("added", "changed", "removed")]
            results = timed({
                "aiops diff (folders)": ([aiops, "diff", str(old), str(new), "--format", "json", "--output", os.devnull], work),
                "aiops diff (git)": ([aiops, "diff", "--base", base, "--head", head, "--format", "json", "--output", os.devnull], repo),
                "parse only": ([sys.executable, "-c", PARSE_ONLY, str(old), str(new)], work),
                "git diff --no-index": (["git", "diff", "--no-index", "--no-color", str(old), str(new)], work),
            }, args.repeat)
            for command, seconds in results.items():
                print(f"{change:8}  {command:22}  {seconds:8.2f}  {seconds / results['parse only']:12.2f}"
                      f"  {seconds / results['git diff --no-index']:10.2f}")
            print(f"{'':8}  (report: {counts[0]} added, {counts[1]} changed, {counts[2]} removed objects)")
    print(f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
