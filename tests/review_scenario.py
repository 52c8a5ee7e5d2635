"""A throwaway git repository with the commits a reviewer meets, for the `aiops diff` tests.

Every commit but one comes from the real `aiops synth` after an environment change:

base     (main) the committed dist/ of the reference environments
head     (checked out) aws-primary.yaml changed and synthesized: gpu-training max 20 -> 22 (a pool
         resized), gpu-inference g4dn.xlarge -> p3.2xlarge (an EKS node group Terraform must
         replace), the RayCluster removed, the inference HPA's CPU target 70 -> 80
emptied  from head, the apps/ folder deleted by hand while its Flux Kustomization stays: the
         mistake that makes Flux stop with "kustomization path not found"
dropped  from head, every workload removed from aws-primary.yaml and synthesized: the synthesis
         deletes the apps Kustomization and its folder in the same commit (fluxcd/flux2#2627)
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, aiops, copy_project, run


@dataclass(frozen=True)
class Scenario:
    repo: Path
    base: str
    head: str
    emptied: str
    dropped: str


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo, check=True).stdout.strip()


def _edit(path: Path, *replacements: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements:
        assert re.search(old, text, flags=re.S), f"{old!r} not in {path}"
        text = re.sub(old, new, text, count=1, flags=re.S)
    path.write_text(text)


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def build(root: Path) -> Scenario:
    repo = copy_project(root)
    shutil.copy2(REPO / ".gitignore", repo / ".gitignore")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "review@example.org")
    git(repo, "config", "user.name", "Reviewer")
    git(repo, "config", "commit.gpgsign", "false")
    base = _commit(repo, "base: the reference environments and their dist/")
    git(repo, "checkout", "--quiet", "-b", "feature")  # main stays at base, like a pull request's target

    environment = repo / "environments/aws-primary.yaml"
    _edit(
        environment,
        (r"(  - name: gpu-training\n.*?)    max: 20\n", r"\1    max: 22\n"),
        (r"(  - name: gpu-inference\n)    instanceType: g4dn\.xlarge", r"\1    instanceType: p3.2xlarge"),
        (r"  # The design's aiops-ray-cluster.*?(  # The design's aiops-dask)", r"\1"),
        (r"(  inference:\n.*?)cpuUtilization: 70", r"\1cpuUtilization: 80"),
    )
    aiops("synth", "--env", "aws-primary", cwd=repo, check=True)  # only the changed environment: faster
    head = _commit(repo, "head: resize gpu-training, move inference to p3.2xlarge, drop the RayCluster, HPA target 80%")

    git(repo, "rm", "--quiet", "-r", "dist/aws-primary/apps")
    emptied = _commit(repo, "emptied: apps/ deleted by hand, its Kustomization kept")

    git(repo, "checkout", "--quiet", head)
    _edit(environment, (r"  # The design's ml-training-workers.*", ""))
    aiops("synth", "--env", "aws-primary", cwd=repo, check=True)
    dropped = _commit(repo, "dropped: no workloads left in aws-primary")

    git(repo, "checkout", "--quiet", head)  # the working tree holds head; its merge base with main is base
    return Scenario(repo, base, head, emptied, dropped)
