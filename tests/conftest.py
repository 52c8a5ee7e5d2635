"""Shared fixtures. A real cdk8s + cdktn synthesis costs seconds, so it runs once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the project's .venv/bin: aiops, node, cdk8s, cdktn, kubeconform, ...
REFERENCE_ENVIRONMENTS = ("aws-primary", "azure-dr", "gcp-burst")
# The session's two simulations (reference_simulation, fault_simulation), shared by the modules
# that read them: defined once, so each runs once per session.
pytest_plugins = ["simulate_fixtures"]


def run(args: list[str], cwd: Path, *, env: dict[str, str] | None = None, check: bool = False, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a command the way a user would, with the project's tools first on PATH."""
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
}


class GitScratch:
    """A throwaway git repository at `root`, for tests that need a real revision history."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        return run(["git", *args], self.root, env=GIT_IDENTITY, check=True).stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def aiops(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "aiops"), *args], cwd, check=check)


def needs_the_chart_cache() -> None:
    """A simulation renders the pinned charts (.venv/share/aiops/charts), and `aiops flux check`
    learns from them which chart installs which CRDs. The set-up leaves them out
    only where it has no way to check them: no AIOPS_CHART_MIRROR, and a tools/charts.lock that does
    not pin every published digest yet (GitHub, until the "Pin chart digests" workflow has run).
    Only then is a simulation skipped; anywhere else a missing cache is a failure."""
    from aiops.charts import read_lock
    from aiops.charts.source import default_source

    if (BIN.parent / "share" / "aiops" / "charts").is_dir():
        return
    if os.environ.get("AIOPS_CHART_MIRROR") or default_source(read_lock(REPO / "tools" / "charts.lock")):
        pytest.fail("the chart cache of aiops simulate is missing although the set-up could install it: run `make setup`")
    pytest.skip("aiops simulate's charts are not installed: tools/charts.lock does not pin every published digest yet "
                "(run `aiops charts pin`, or the \"Pin chart digests\" workflow) and AIOPS_CHART_MIRROR is not set")


def copy_project(target: Path, *, with_dist: bool = True) -> Path:
    """A copy of the sources a synthesis reads (and the committed dist/), in another folder."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "environments", target / "environments")
    if with_dist:
        shutil.copytree(REPO / "dist", target / "dist")
    for name in ("cdk8s.yaml", "cdktf.json"):
        shutil.copy2(REPO / name, target / name)
    # The tools are installed once per checkout; the copy borrows them.
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


@pytest.fixture(scope="session")
def reference_environments():
    from aiops.model import load_environments

    return {e.name: e for e in load_environments(REPO / "environments")}


@pytest.fixture(scope="session")
def reference_synthesis(reference_environments, tmp_path_factory):
    """One real synthesis of every reference environment, shared by the whole session (with
    their failover pairs resolved, as `aiops synth` does)."""
    from aiops.failover import resolve
    from aiops.synth import synthesize

    workdir = tmp_path_factory.mktemp("reference-synthesis")
    resolved = resolve(REPO / "environments", list(reference_environments.values()))
    assert not resolved.errors, resolved.errors
    return synthesize(resolved.environments, workdir=workdir, traffic=resolved.traffic)


@pytest.fixture(scope="session")
def reference_documents(reference_synthesis):
    """Every Kubernetes object of the reference synthesis, by environment: list of (path, object)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    out: dict[str, list[tuple[str, dict]]] = {name: [] for name in REFERENCE_ENVIRONMENTS}
    for path, data in reference_synthesis.files.items():
        if path.suffix == ".yaml" and path.name != "kustomization.yaml":
            for document in yaml.load_all(data.decode()):
                if document:
                    out[path.parts[0]].append((str(path), document))
    return out


@pytest.fixture(scope="session")
def reference_terraform(reference_synthesis):
    """The Terraform JSON of each reference environment's cluster stack, parsed."""
    import json

    return {
        path.parts[0]: json.loads(data)
        for path, data in reference_synthesis.files.items()
        if path.name == "cdk.tf.json" and path.parts[2] != "traffic"
    }


@pytest.fixture(scope="session")
def reference_traffic(reference_synthesis):
    """The traffic stacks (Route 53 failover records) of the reference primaries, parsed."""
    import json

    return {
        path.parts[0]: json.loads(data)
        for path, data in reference_synthesis.files.items()
        if path.name == "cdk.tf.json" and path.parts[2] == "traffic"
    }


def quiet_lines(stderr: str) -> list[str]:
    """stderr as a list of lines. Nothing else may be printed."""
    return stderr.splitlines()
