"""The throwaway git repositories of the `aiops flux check` tests: a copy of the reference dist/
of some environments, committed with the real git, and ways to read and edit it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from aiops.tree.flux import flux_kustomizations
from aiops.tree.manifests import scan_manifests
from conftest import REPO, GitScratch, aiops


class FluxRepo(GitScratch):
    """A throwaway git repository holding a copy of the reference dist/ of some environments."""

    def __init__(self, root: Path, environments: tuple[str, ...] = ("aws-primary",)) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "--quiet")
        for environment in environments:
            shutil.copytree(REPO / "dist" / environment, root / "dist" / environment)
        self.commit("reference tree")

    def check(self, *args: str):
        return aiops("flux", "check", *args, cwd=self.root)

    # -- reading and editing the tree --------------------------------------------------------------
    def kustomization(self, name: str):
        """The Flux Kustomization of that name, read statically (file, index, body)."""
        found = [k for k in flux_kustomizations(scan_manifests([self.root / "dist"], root=self.root).manifests) if k.name == name]
        assert len(found) == 1, f"expected one Kustomization {name}, found {found}"
        return found[0]

    def edit_spec(self, name: str, **changes) -> str:
        """Set spec fields of a Kustomization (None deletes one); returns its file."""
        k = self.kustomization(name)
        path = self.root / k.manifest.file
        documents = list(yaml.safe_load_all(path.read_text()))
        spec = documents[k.manifest.index]["spec"]
        for key, value in changes.items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        return k.manifest.file

    def add_file(self, folder: str, name: str, text: str, *, listed: bool = True) -> str:
        """Write a file into a folder and list it in the folder's kustomization.yaml."""
        (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / folder / name).write_text(text)
        kustomization = self.root / folder / "kustomization.yaml"
        if listed:
            body = yaml.safe_load(kustomization.read_text()) if kustomization.exists() else {
                "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": []}
            body["resources"].append(name)
            kustomization.write_text(yaml.safe_dump(body, sort_keys=False))
        return f"{folder}/{name}"

    def spec_line(self, name: str, key: str) -> int:
        """The line of `key:` in the spec of the Kustomization of that name (as the file is now)."""
        k = self.kustomization(name)
        return self.line_of(k.manifest.file, rf"^\s+{key}:", after=k.manifest.line)

    def objects_under(self, folder: str) -> list:
        """The objects in the files under a folder, read statically, in file and document order."""
        return scan_manifests([self.root / folder], root=self.root).manifests

    def line_of(self, file: str, pattern: str, after: int = 0) -> int:
        lines = (self.root / file).read_text().splitlines()
        return next(n + 1 for n, text in enumerate(lines) if n + 1 > after and re.search(pattern, text))


def findings(result, rule: str) -> list[str]:
    """The rendered findings of one rule (location, message and fix) in a text report."""
    blocks = re.split(r"\n(?=\S)", result.stdout)
    return [block.rstrip("\n") for block in blocks if f"[{rule}]" in block]


@pytest.fixture
def repo(tmp_path) -> FluxRepo:
    return FluxRepo(tmp_path / "repo")


@pytest.fixture(scope="session")
def shared_upstream() -> Path:
    """../shared/upstream (the upstream samples), wherever the checkout sits under it."""
    for parent in REPO.parents:
        if (parent / "shared" / "upstream" / "samples").is_dir():
            return parent / "shared" / "upstream"
    pytest.skip("the shared upstream samples (../shared/upstream) are not next to this checkout")


def ray_kustomizations(**workloads_spec) -> str:
    """Two Flux Kustomizations of azure-dr: a test KubeRay operator and the Ray workloads after it."""
    def kustomization(name, path, **spec):
        return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                         "path": path, "prune": True, **spec}}
    operator_spec = workloads_spec.pop("operator", {})
    return yaml.safe_dump_all([
        kustomization("test-ray-operator", "./dist/azure-dr/test/ray-operator", **operator_spec),
        kustomization("test-ray-workloads", "./dist/azure-dr/test/ray-workloads", **workloads_spec),
    ], sort_keys=False)
