"""The public Flux repositories of ../shared/upstream/flux-repos as scratch git repositories, and
the rows the tests of test_flux_repos.py and test_flux_repo_changes.py compare."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, GitScratch, aiops

REPOSITORIES = ("flux2-hub-spoke-example", "flux2-kustomize-helm-example", "flux2-monitoring-example",
                "flux2-multi-tenancy", "gitops-istio")


@pytest.fixture(scope="session")
def flux_repos() -> Path:
    for parent in REPO.parents:
        folder = parent / "shared" / "upstream" / "flux-repos"
        if folder.is_dir():
            return folder
    pytest.skip("the public Flux repositories (../shared/upstream/flux-repos) are not next to this checkout")


class Scratch(GitScratch):
    """A scratch git repository holding a copy of one upstream repository."""

    def __init__(self, root: Path, source: Path) -> None:
        self.root = root
        shutil.copytree(source, root)
        self.git("init", "--quiet")
        self.commit("upstream")

    def flux(self, *args: str) -> tuple[int, dict]:
        result = aiops("flux", "check", "--dist", ".", "--format", "json", *args, cwd=self.root)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)

    def validate(self, *args: str) -> tuple[int, dict]:
        result = aiops("validate", ".", "--format", "json", *args, cwd=self.root)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)


@pytest.fixture
def scratch(tmp_path, flux_repos):
    def make(name: str) -> Scratch:
        return Scratch(tmp_path / name, flux_repos / name)
    return make


def flux_rows(report: dict) -> list[tuple]:
    return [(f["severity"], f["rule"], f["file"], f["line"], f["kustomization"], f["cluster"]) for f in report["findings"]]


# The pod-security rules (privileged, root, hostPath, unlabelled namespaces) judge workloads, not
# Flux: their findings on these repositories are pinned on their own, in
# test_pod_security_findings_on_each_repository.
POD_SECURITY_RULES = {"namespace-pod-security", "pod-privileged", "pod-runs-as-root", "pod-host-path", "pod-security-restricted"}


def validate_rows(report: dict) -> list[tuple]:
    return [(f["severity"], f["rule"], f["file"], f["line"]) for f in report["findings"] if f["rule"] not in POD_SECURITY_RULES]


def without_reasons(rows: list[tuple]) -> list[tuple]:
    return [row[:-1] for row in rows]


def message(report: dict, rule: str, file: str, line: int | None, kustomization: str | None = None) -> str:
    (found,) = [f for f in report["findings"] if (f["rule"], f["file"], f["line"]) == (rule, file, line)
                and kustomization in (None, f["kustomization"])]
    return found["message"]
