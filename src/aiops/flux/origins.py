"""Where a Kustomization's files come from: this repository, another source, or nothing at all.

Flux builds a Kustomization from the artifact of its spec.sourceRef. Only a GitRepository of
this repository (the `flux-system/flux-system` that `flux bootstrap` creates, or one fetching
the same URL and ref) gives files that are in the checked revision; every other source is not
built here. A source that the cluster never gets stops the Kustomization ("Source ... not found").
"""

from __future__ import annotations

from aiops.flux.report import Cluster, InventoryObject
from aiops.tree.flux import SOURCE_GROUP, owner_of
from aiops.tree.manifests import Manifest

# The GitRepository `flux bootstrap` creates for the repository it bootstraps.
BOOTSTRAP_SOURCE = ("flux-system", "flux-system")


def objects_so_far(cluster: Cluster) -> list[InventoryObject]:
    """What the cluster's builds have produced until now."""
    return [o for s in cluster.kustomizations.values() for o in s.objects]


def same_git_source(a: dict, b: dict) -> bool:
    spec_a, spec_b = a.get("spec") or {}, b.get("spec") or {}
    return spec_a.get("url") == spec_b.get("url") and (spec_a.get("ref") or {}) == (spec_b.get("ref") or {})


class Origins:
    """The sources of one revision: the static files, and what each cluster's builds apply."""

    def __init__(self, static_sources: list[Manifest], manifests: list[Manifest]) -> None:
        self.static_sources = static_sources  # source.toolkit.fluxcd.io objects in the files
        self.manifests = manifests

    def is_this_repository(self, kind: str, namespace: str, name: str) -> bool:
        """Whether a source is the repository being checked: the GitRepository flux-system/flux-system
        that `flux bootstrap` creates for it, or one that fetches the same URL and ref."""
        if kind != "GitRepository":
            return False
        if (namespace, name) == BOOTSTRAP_SOURCE:
            return True
        bootstrap = self.static_git_repository(*BOOTSTRAP_SOURCE)
        other = self.static_git_repository(namespace, name)
        return bootstrap is not None and other is not None and same_git_source(bootstrap, other)

    def defined(self, cluster: Cluster, kind: str, namespace: str, name: str) -> bool:
        """Whether the cluster gets that source (from a build so far, or a file under the path of one
        of its Kustomizations), or, for an ExternalArtifact, an ArtifactGenerator producing it."""
        members = [s.kustomization for s in cluster.kustomizations.values()]
        bodies = [o.body for o in objects_so_far(cluster)]
        bodies += [m.body for m in self.manifests
                   if m.kind in (kind, "ArtifactGenerator") and owner_of(m.file, members) is not None]
        for body in bodies:
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
            if (metadata.get("namespace") or namespace) != namespace:
                continue
            if body.get("kind") == kind and metadata.get("name") == name:
                return True
            if kind == "ExternalArtifact" and body.get("kind") == "ArtifactGenerator":
                if any(isinstance(a, dict) and a.get("name") == name for a in spec.get("artifacts") or []):
                    return True
        return False

    def static_git_repository(self, namespace: str, name: str) -> dict | None:
        return next((m.body for m in self.static_sources
                     if m.kind == "GitRepository" and (m.namespace or "flux-system") == namespace and m.name == name), None)

    def git_repository(self, cluster: Cluster, namespace: str, name: str) -> dict | None:
        """The GitRepository object of that name: from the cluster's builds, else the static files."""
        for o in objects_so_far(cluster):
            if o.group == SOURCE_GROUP and o.kind == "GitRepository" and (o.namespace or "flux-system") == namespace and o.name == name:
                return o.body
        members = [s.kustomization for s in cluster.kustomizations.values()]
        for m in self.static_sources:
            if m.kind == "GitRepository" and (m.namespace or "flux-system") == namespace and m.name == name and owner_of(m.file, members):
                return m.body
        return None
