"""A throwaway git repository with the commits a reviewer meets, for the `aiops diff` tests.

base    (main) the committed dist/ (what `aiops synth` writes today) plus an apps/ folder for aws-primary,
        applied by a Flux Kustomization `apps` with prune: true, holding a RayCluster and an HPA
head    (checked out) aws-primary.yaml changed and the real `aiops synth` run: gpu-training max 10 -> 12 (a pool
        resized) and gpu-inference g4dn.xlarge -> p3.2xlarge (an EKS node group that Terraform
        must replace); in apps/ the RayCluster is removed and the HPA's CPU target goes 70 -> 80
emptied the apps/ folder deleted while its Kustomization stays (Flux: "path not found")
dropped  the apps/ folder and its Kustomization deleted in the same commit (fluxcd/flux2#2627)

PLACEHOLDER (issue 3): today's synthesis writes no apps/, RayCluster or HPA. Until it does, this
scenario adds real-shaped objects by hand: the KubeRay sample RayCluster from
/work/shared/upstream/samples (the same file the shared upstream mirror pins) and an
autoscaling/v2 HPA. Once issue 3 lands, produce these with `aiops synth` from an environment
change instead, and delete APPS_* below. Every spot is marked "PLACEHOLDER (issue 3)".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from conftest import aiops, copy_project, run

UPSTREAM_RAY_SAMPLE = Path(os.environ.get("AIOPS_UPSTREAM", "/work/shared/upstream")) / "samples/kuberay/ray-cluster.sample.yaml"

# PLACEHOLDER (issue 3): the Flux Kustomization that applies apps/, as issue 3's layout names it.
APPS_KUSTOMIZATION = """\
# PLACEHOLDER (issue 3): hand-written until the synthesis generates apps/.
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./dist/aws-primary/apps
  prune: true
  wait: true
  dependsOn:
    - name: infra-configs
"""

# PLACEHOLDER (issue 3): an autoscaling/v2 HPA of the inference Deployment.
APPS_HPA = """\
# PLACEHOLDER (issue 3): hand-written until the synthesis generates the inference HPA.
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: inference
  namespace: ml-inference
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: inference
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {target}
"""


@dataclass(frozen=True)
class Scenario:
    repo: Path
    base: str
    head: str
    emptied: str
    dropped: str


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo, check=True).stdout.strip()


def _apps(repo: Path, *, ray: bool, hpa_target: int, kustomization: bool = True, folder: bool = True) -> None:
    """PLACEHOLDER (issue 3): write (or leave out) the hand-made apps/ layer of aws-primary."""
    cluster = repo / "dist/aws-primary/cluster"
    apps = repo / "dist/aws-primary/apps"
    if kustomization:
        (cluster / "apps.yaml").write_text(APPS_KUSTOMIZATION)
        listing = (cluster / "kustomization.yaml").read_text()
        if "  - apps.yaml\n" not in listing:
            (cluster / "kustomization.yaml").write_text(listing.replace("resources:\n", "resources:\n  - apps.yaml\n", 1))
    if not folder:
        return
    apps.mkdir(parents=True, exist_ok=True)
    files = ["inference-hpa.yaml"]
    (apps / "inference-hpa.yaml").write_text(APPS_HPA.format(target=hpa_target))
    if ray:
        (apps / "ray-cluster.yaml").write_bytes(UPSTREAM_RAY_SAMPLE.read_bytes())
        files.append("ray-cluster.yaml")
    (apps / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"  - {name}\n" for name in sorted(files))
    )


def build(root: Path) -> Scenario:
    repo = copy_project(root)
    (repo / ".gitignore").write_text(".venv\ncdk8s.out/\ncdktf.out/\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "review@example.org")
    git(repo, "config", "user.name", "Reviewer")
    git(repo, "config", "commit.gpgsign", "false")

    _apps(repo, ray=True, hpa_target=70)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base: reference dist/ with an apps layer")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "feature")  # main stays at base, like a pull request's target

    environment = repo / "environments/aws-primary.yaml"
    text = environment.read_text()
    assert "    max: 10\n" in text and "instanceType: g4dn.xlarge" in text
    text = text.replace("    max: 10\n", "    max: 12\n", 1).replace("instanceType: g4dn.xlarge", "instanceType: p3.2xlarge", 1)
    environment.write_text(text)
    # The real synthesis of the changed environment rewrites dist/aws-primary (and drops the hand-made apps/).
    aiops("synth", "--env", "aws-primary", cwd=repo, check=True)
    _apps(repo, ray=False, hpa_target=80)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "head: resize gpu-training, move inference to p3.2xlarge, drop the RayCluster")
    head = git(repo, "rev-parse", "HEAD")

    git(repo, "rm", "--quiet", "-r", "dist/aws-primary/apps")
    git(repo, "commit", "--quiet", "-m", "emptied: apps/ deleted, its Kustomization kept")
    emptied = git(repo, "rev-parse", "HEAD")

    git(repo, "checkout", "--quiet", head)
    git(repo, "rm", "--quiet", "-r", "dist/aws-primary/apps", "dist/aws-primary/cluster/apps.yaml")
    listing = repo / "dist/aws-primary/cluster/kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - apps.yaml\n", ""))
    git(repo, "commit", "--quiet", "-am", "dropped: apps/ and its Kustomization deleted together")
    dropped = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", head)  # the working tree holds head; its merge base with main is base
    return Scenario(repo, base, head, emptied, dropped)
