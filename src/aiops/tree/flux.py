"""Flux Kustomizations found in a tree, and which of them applies a given file.

This is the static reading: a Kustomization applies what lies under its `spec.path` (relative
to the repository root). `aiops flux check` (`aiops.flux`) goes further and builds each one
the way kustomize-controller does; `aiops diff` uses this to say which deleted objects Flux
will prune.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from aiops.tree.manifests import Manifest
from aiops.tree.shapes import mapping, mappings

KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"


@dataclass(frozen=True)
class FluxKustomization:
    manifest: Manifest
    name: str
    namespace: str
    path: str  # spec.path as written, e.g. ./dist/aws-primary/apps
    prune: bool
    wait: bool
    depends_on: tuple[tuple[str, str], ...]  # (namespace, name); namespace defaults to the Kustomization's
    source_kind: str
    source_name: str
    source_namespace: str = ""  # spec.sourceRef.namespace, defaulting to the Kustomization's
    target_namespace: str = ""
    # spec.postBuild as written (None when absent: then Flux runs no substitution at all)
    post_build: dict[str, Any] | None = field(default=None, compare=False)
    # spec.healthChecks as (group, kind, namespace, name)
    health_checks: tuple[tuple[str, str, str, str], ...] = ()
    health_check_exprs: bool = False  # spec.healthCheckExprs: custom CEL health checks
    decryption: bool = False  # spec.decryption (SOPS)
    deletion_policy: str = "MirrorPrune"  # spec.deletionPolicy (MirrorPrune, Delete, WaitForTermination, Orphan)
    suspend: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """What names it for dependsOn: (namespace, name)."""
        return (self.namespace, self.name)

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    @cached_property
    def folder(self) -> PurePosixPath:
        """spec.path relative to the repository root, without ./ (an empty path is the root)."""
        return PurePosixPath(self.path.strip().lstrip("/") or ".")  # PurePosixPath drops a leading ./

    @cached_property
    def _prefix(self) -> str:
        return "" if self.folder == PurePosixPath(".") else f"{self.folder}/"

    def applies(self, repository_path: str) -> bool:
        """Whether a file at this path (relative to the repository root) is under spec.path."""
        # Plain string prefixes: `aiops diff` asks this for thousands of files, and PurePosixPath
        # is slow. The paths are repository-relative POSIX paths without ./ or .. parts.
        return not self._prefix or repository_path.startswith(self._prefix) or repository_path == self._prefix[:-1]

    @property
    def deletes_on_removal(self) -> bool:
        """Whether removing this Kustomization from the cluster deletes what it applied.

        kustomize-controller's finalizer: deletionPolicy MirrorPrune (the default) follows
        spec.prune; Delete and WaitForTermination always delete; Orphan never does.
        """
        if self.deletion_policy in ("Delete", "WaitForTermination"):
            return True
        if self.deletion_policy == "Orphan":
            return False
        return self.prune

    def checks_health_of(self, group: str, kind: str, namespace: str, name: str) -> bool:
        """Whether this Kustomization becomes Ready only after that object is Ready."""
        return self.wait or (group, kind, namespace, name) in self.health_checks


def flux_kustomization(manifest: Manifest) -> FluxKustomization | None:
    """The Flux Kustomization a manifest declares, or None when it is something else."""
    if manifest.group != KUSTOMIZATION_GROUP or manifest.kind != "Kustomization":
        return None
    spec = mapping(manifest.body.get("spec"))
    namespace = manifest.namespace or "flux-system"
    source = mapping(spec.get("sourceRef"))
    post_build = spec.get("postBuild")
    health_checks = []
    for check in mappings(spec.get("healthChecks")):
        api_version = str(check.get("apiVersion", ""))
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        health_checks.append((group, str(check.get("kind", "")), str(check.get("namespace") or namespace), str(check.get("name", ""))))
    return FluxKustomization(
        manifest=manifest,
        name=manifest.name,
        namespace=namespace,
        path=str(spec.get("path") or "./"),
        prune=bool(spec.get("prune", False)),
        wait=bool(spec.get("wait", False)),
        depends_on=tuple(
            (str(d.get("namespace") or namespace), str(d.get("name", ""))) for d in mappings(spec.get("dependsOn"))
        ),
        source_kind=str(source.get("kind", "")),
        source_name=str(source.get("name", "")),
        source_namespace=str(source.get("namespace") or namespace),
        target_namespace=str(spec.get("targetNamespace") or ""),
        post_build=post_build if isinstance(post_build, dict) else ({} if post_build is not None else None),
        health_checks=tuple(health_checks),
        health_check_exprs=bool(spec.get("healthCheckExprs")),
        decryption=spec.get("decryption") is not None,
        deletion_policy=str(spec.get("deletionPolicy") or "MirrorPrune"),
        suspend=bool(spec.get("suspend", False)),
    )


def flux_kustomizations(manifests: Iterable[Manifest]) -> list[FluxKustomization]:
    # The kind first: a diff asks this of every object it reads.
    found = (flux_kustomization(m) for m in manifests if m.body.get("kind") == "Kustomization")
    return [k for k in found if k is not None]


def owner_of(repository_path: str, kustomizations: list[FluxKustomization]) -> FluxKustomization | None:
    """The Kustomization that applies a file: the one with the deepest spec.path above it."""
    owners = [k for k in kustomizations if k.applies(repository_path)]
    return max(owners, key=lambda k: len(k.folder.parts), default=None)


@dataclass(frozen=True)
class DependencyProblem:
    kind: str  # unknown | cycle
    kustomization: FluxKustomization
    names: tuple[tuple[str, str], ...]  # the unknown dependency, or the cycle in order


def dependency_order(kustomizations: list[FluxKustomization]) -> tuple[list[list[FluxKustomization]], list[DependencyProblem]]:
    """The order in which Flux can make Kustomizations Ready, following spec.dependsOn.

    Returns waves (each wave depends only on earlier ones; names sorted within a wave) and the
    problems that stop Flux: a dependency that names no Kustomization here (Flux retries
    "dependency not found" forever) and cycles (each waits for the other forever). What waits
    for a missing name or a cycle, directly or not, is in no wave: Flux never applies it.
    """
    by_key = {k.key: k for k in kustomizations}
    problems: list[DependencyProblem] = []
    for k in kustomizations:
        for dependency in k.depends_on:
            if dependency not in by_key:
                problems.append(DependencyProblem("unknown", k, (dependency,)))
    waves: list[list[FluxKustomization]] = []
    done: set[tuple[str, str]] = set()
    remaining = dict(by_key)
    while remaining:
        wave = [k for k in remaining.values() if all(d in done for d in k.depends_on)]
        if not wave:
            break
        wave.sort(key=lambda k: k.key)
        waves.append(wave)
        for k in wave:
            done.add(k.key)
            del remaining[k.key]
    reported: set[frozenset[tuple[str, str]]] = set()
    for start in sorted(remaining):
        cycle = _cycle_from(start, by_key, remaining)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            first = min(cycle)
            at = cycle.index(first)
            ordered = tuple(cycle[at:] + cycle[:at])
            problems.append(DependencyProblem("cycle", by_key[first], ordered))
    return waves, problems


def _cycle_from(start, by_key, remaining) -> list[tuple[str, str]] | None:
    """Follow dependencies among the unresolved Kustomizations until one repeats."""
    path: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        following = sorted(d for d in by_key[current].depends_on if d in remaining)
        if not following:
            return None
        current = following[0]
    return path[seen[current]:]


def depends_on_transitively(kustomization: FluxKustomization, other: tuple[str, str], by_key: dict[tuple[str, str], FluxKustomization]) -> bool:
    """Whether `kustomization` waits (directly or through others) for the Kustomization `other`."""
    stack, seen = list(kustomization.depends_on), set()
    while stack:
        key = stack.pop()
        if key == other:
            return True
        if key in seen or key not in by_key:
            continue
        seen.add(key)
        stack.extend(by_key[key].depends_on)
    return False
