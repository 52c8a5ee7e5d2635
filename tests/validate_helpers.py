"""Helpers for the `aiops validate` tests: the upstream samples, the design, trees to break."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO


def _upstream() -> Path:
    """../shared/upstream beside the repository (CI), else the parent of $AIOPS_SCHEMA_MIRROR."""
    candidates = [REPO.parent / "shared" / "upstream"]
    if os.environ.get("AIOPS_SCHEMA_MIRROR"):
        candidates.append(Path(os.environ["AIOPS_SCHEMA_MIRROR"]).parent)
    for candidate in candidates:
        if (candidate / "samples").is_dir():
            return candidate
    # A clone with nothing beside it (GitHub): the samples and the design are this project's test
    # oracle, never copied into it, so every module that reads them is skipped, saying why.
    pytest.skip("the upstream samples and the design are not at ../shared/upstream (the test oracle beside this project's "
                "CI checkout); elsewhere set AIOPS_SCHEMA_MIRROR=/path/to/shared/upstream/crds", allow_module_level=True)


UPSTREAM = _upstream()
SAMPLES = UPSTREAM / "samples"
DESIGN = UPSTREAM.parent / "design" / "platform-design.md"


def design_block(name: str) -> str:
    """A code block of the platform design, by the file name in its first comment line."""
    text = DESIGN.read_text(encoding="utf-8")
    match = re.search(r"```[a-z]*\n(# " + re.escape(name) + r"\n.*?)```", text, re.S)
    assert match, f"no block {name} in {DESIGN}"
    return match.group(1)


def sample(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((SAMPLES / name).read_text()) if d]


def dump(*documents: dict) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in documents)


def dist_copy(target: Path, *, git: bool = False) -> Path:
    """A copy of the reference dist/ at target/dist (a git work tree when asked)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "dist", target / "dist")
    if git:
        subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target / "dist"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_validate(*paths: Path | str, **options):
    """The real validator (kubeconform included) on these paths, in-process."""
    from aiops.validate import Options, validate

    return validate(Options(paths=[Path(p) for p in paths], **options))


def of_rule(report, rule: str) -> list:
    return [f for f in report.findings if f.rule.id == rule]


def rules_of(report) -> list[str]:
    return sorted(f.rule.id for f in report.findings)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of the reference dist/ (in a git work tree), with the working folder beside it."""
    monkeypatch.chdir(tmp_path)
    return dist_copy(tmp_path, git=True)


def ray_sample(name: str = "ray-cluster.sample.yaml") -> dict:
    return next(d for d in sample(f"kuberay/{name}") if d["kind"] == "RayCluster")


def untaint_gpu_inference(tree: Path) -> None:
    """aws-primary's gpu-inference pool as with `gpuTaint: false` (its node group untainted)."""
    stack = tree / "aws-primary/terraform/eks/cdk.tf.json"
    data = json.loads(stack.read_text())
    data["resource"]["aws_eks_node_group"]["node_group_gpu_inference_us_east_1a"].pop("taint")
    stack.write_text(json.dumps(data, indent=2))
