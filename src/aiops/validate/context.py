"""What the platform rules read: the tree's objects, its node pools and Flux graph, and a few facts
about where the tree lives (its repository root, whether git tracks it, the target versions)."""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from aiops.tree.manifests import Manifest, Problem
from aiops.tree.pools import PoolFacts, pools_and_problems
from aiops.tree.terraform import TerraformTree
from aiops.tree.workloads import PodTemplate, pod_templates
from aiops.validate.findings import Finding, Rule


def git_root(path: Path) -> Path | None:
    """The work tree a path is in (a folder holding .git, a folder or a worktree's file)."""
    start = (path if path.is_dir() else path.parent).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass
class Context:
    manifests: list[Manifest]
    terraform: TerraformTree
    kubernetes_version_of: Callable[[str], str]  # a file -> the full version it is checked at, e.g. 1.36.0 (targets.py)
    crd_index: Callable[[str, str], dict | None]  # (group, kind) -> versions and source, or None
    chart_groups: dict[str, list[str]]  # Helm chart -> API groups whose CRDs it installs
    repo_root: Path | None
    today: date
    committed_override: bool | None = None
    _ignored_cache: dict[str, bool] = field(default_factory=dict, repr=False)
    _repository_paths: dict[str, str | None] = field(default_factory=dict, repr=False)

    # --- objects ---------------------------------------------------------------------------
    @cached_property
    def templates(self) -> list[PodTemplate]:
        return [template for manifest in self.manifests for template in pod_templates(manifest)]

    def of_kind(self, group: str, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m.group == group and m.kind == kind]

    # --- node pools ------------------------------------------------------------------------
    @cached_property
    def _pools_and_problems(self) -> tuple[list[PoolFacts], list[Problem]]:
        return pools_and_problems(self.terraform)

    @property
    def pools(self) -> list[PoolFacts]:
        return self._pools_and_problems[0]

    @property
    def pool_problems(self) -> list[Problem]:
        """Node pool resources too malformed to read."""
        return self._pools_and_problems[1]

    @cached_property
    def pools_by_environment(self) -> dict[str | None, list[PoolFacts]]:
        grouped: dict[str | None, list[PoolFacts]] = defaultdict(list)
        for pool in self.pools:
            grouped[pool.environment].append(pool)
        return dict(grouped)

    def pools_for(self, manifest: Manifest) -> list[PoolFacts]:
        return self.pools_by_environment.get(manifest.environment, [])

    # --- where the tree lives --------------------------------------------------------------
    def repository_path(self, file: str) -> str | None:
        """A file's path relative to the repository root (what Flux paths are relative to)."""
        if self.repo_root is None:
            return None
        if file not in self._repository_paths:  # rules ask for the same files again and again
            relative = os.path.relpath(Path(file).resolve(), self._resolved_root)
            self._repository_paths[file] = None if relative.startswith("..") else Path(relative).as_posix()
        return self._repository_paths[file]

    @cached_property
    def _resolved_root(self) -> Path:
        return self.repo_root.resolve()

    def committed(self, file: str) -> bool:
        """Whether git tracks (or would track) the file: inside a work tree and not ignored."""
        if self.committed_override is not None:
            return self.committed_override
        if file not in self._ignored_cache:
            root = git_root(Path(file))
            if root is None:
                self._ignored_cache[file] = False
            else:
                try:
                    ignored = subprocess.run(["git", "check-ignore", "-q", str(Path(file).resolve())], cwd=root, capture_output=True).returncode == 0
                except OSError:
                    ignored = False  # no git binary: a folder with .git is committed as far as we know
                self._ignored_cache[file] = not ignored
        return self._ignored_cache[file]


def finding(rule: Rule, manifest: Manifest, path: Iterable[str | int], message: str, fix: str | None = None, **extra: Any) -> Finding:
    return Finding(rule, manifest.file, manifest.line_of(tuple(path)), message, fix, manifest.describe(), extra={"document": (manifest.file, manifest.index), **extra})


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
