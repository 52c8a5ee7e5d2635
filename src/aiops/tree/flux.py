"""Flux Kustomizations found in a tree, and which of them applies a given file.

This is the static reading: a Kustomization applies what lies under its `spec.path` (relative
to the repository root). `aiops flux check` goes further and builds each one with kustomize;
`aiops diff` uses this to say which deleted objects Flux will prune.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from aiops.tree.manifests import Manifest
from aiops.tree.shapes import mapping, mappings

KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io"


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

    @property
    def folder(self) -> PurePosixPath:
        """spec.path relative to the repository root, without ./ (an empty path is the root)."""
        return PurePosixPath(self.path.strip().lstrip("/") or ".")  # PurePosixPath drops a leading ./

    def applies(self, repository_path: str) -> bool:
        """Whether a file at this path (relative to the repository root) is under spec.path."""
        folder = self.folder
        return folder == PurePosixPath(".") or PurePosixPath(repository_path).is_relative_to(folder)


def flux_kustomizations(manifests: list[Manifest]) -> list[FluxKustomization]:
    found: list[FluxKustomization] = []
    for manifest in manifests:
        if manifest.group != KUSTOMIZATION_GROUP or manifest.kind != "Kustomization":
            continue
        spec = mapping(manifest.body.get("spec"))
        namespace = manifest.namespace or "flux-system"
        source = mapping(spec.get("sourceRef"))
        found.append(
            FluxKustomization(
                manifest=manifest,
                name=manifest.name,
                namespace=namespace,
                path=str(spec.get("path") or "./"),
                prune=bool(spec.get("prune", False)),
                wait=bool(spec.get("wait", False)),
                depends_on=tuple((str(d.get("namespace") or namespace), str(d.get("name", ""))) for d in mappings(spec.get("dependsOn"))),
                source_kind=str(source.get("kind", "")),
                source_name=str(source.get("name", "")),
            )
        )
    return found


def owner_of(repository_path: str, kustomizations: list[FluxKustomization]) -> FluxKustomization | None:
    """The Kustomization that applies a file: the one with the deepest spec.path above it."""
    owners = [k for k in kustomizations if k.applies(repository_path)]
    return max(owners, key=lambda k: len(k.folder.parts), default=None)
