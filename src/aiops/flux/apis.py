"""What a cluster has before Flux applies anything, and which charts install which CRDs.

A custom resource reaches the API server only after its CRD; `aiops flux check` needs to know
which API groups need no CRD from this repository at all (Kubernetes' own, and the Flux APIs
that `flux bootstrap` installs) and which HelmReleases install which groups (read from the
pinned charts themselves: aiops.flux.chart_crds).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# API groups that Kubernetes serves itself (no CRD needed); "" is the core group.
KUBERNETES_GROUPS = frozenset({
    "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
    "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io",
    "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
})

# The CRDs of Flux's default components (source, kustomize, helm and notification controllers),
# which `flux bootstrap` installs before it creates the first Kustomization. The image
# automation APIs (image.toolkit.fluxcd.io) come only with `--components-extra`, so they are
# treated like any other CRD.
FLUX_BOOTSTRAP_GROUPS = frozenset({
    "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io", "notification.toolkit.fluxcd.io",
})

# Flux components that `flux bootstrap` installs only when asked (--components-extra), with their CRDs' groups.
FLUX_EXTRA_GROUPS = {
    "source.extensions.fluxcd.io": "source-watcher",
    "image.toolkit.fluxcd.io": "image-reflector-controller,image-automation-controller",
}

# Namespaces every cluster has; flux-system is created by `flux bootstrap`.
PRESENT_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "flux-system"})


def needs_crd(group: str) -> bool:
    return group not in KUBERNETES_GROUPS and group not in FLUX_BOOTSTRAP_GROUPS


@dataclass(frozen=True)
class ChartCrds:
    chart: str
    groups: tuple[str, ...]
    crds: str  # crds-folder | templates
    source: str

    def installed_by(self, helm_release: dict) -> bool:
        """Whether a HelmRelease of this chart installs the CRDs on first install."""
        install = ((helm_release.get("spec") or {}).get("install") or {})
        return not (self.crds == "crds-folder" and install.get("crds") == "Skip")


@cache
def chart_crds() -> dict[str, ChartCrds]:
    """Which chart installs which CRD groups, by chart name: what the set-up found by rendering
    the pinned charts of the chart cache with Helm (aiops.flux.chart_crds); {} without the cache."""
    from aiops.flux.chart_crds import read_index

    table: dict[str, ChartCrds] = {}
    for chart, groups in read_index().items():
        if groups:
            mode = "templates" if "templates" in groups.values() else "crds-folder"
            table[chart] = ChartCrds(chart, tuple(sorted(groups)), mode, f"the pinned chart {chart} (tools/charts.lock), rendered with Helm by the set-up")
    return table


def chart_name(helm_release: dict, objects: list[dict]) -> str | None:
    """The chart a HelmRelease installs: spec.chart.spec.chart, or the last path segment of the
    OCIRepository (or the chart of the HelmChart) that spec.chartRef names among `objects`."""
    spec = helm_release.get("spec") or {}
    chart = ((spec.get("chart") or {}).get("spec") or {}).get("chart")
    if chart:
        return str(chart).rstrip("/").rsplit("/", 1)[-1]
    reference = spec.get("chartRef") or {}
    namespace = reference.get("namespace") or (helm_release.get("metadata") or {}).get("namespace")
    for other in objects:
        metadata = other.get("metadata") or {}
        if other.get("kind") == reference.get("kind") and metadata.get("name") == reference.get("name") and metadata.get("namespace") == namespace:
            other_spec = other.get("spec") or {}
            if other.get("kind") == "OCIRepository" and other_spec.get("url"):
                return str(other_spec["url"]).rstrip("/").rsplit("/", 1)[-1]
            if other.get("kind") == "HelmChart" and other_spec.get("chart"):
                return str(other_spec["chart"]).rstrip("/").rsplit("/", 1)[-1]
    return None


@cache
def flux_served_versions() -> dict[tuple[str, str], tuple[tuple[str, ...], str]] | None:
    """(group, kind) -> (the versions the emulated Flux serves, which controller) for the Flux
    kinds whose CRDs the schema cache pins (schemas/sources.yaml: Kustomization, GitRepository,
    HelmRepository, OCIRepository, HelmRelease); None when there is no schema cache."""
    from aiops.schema_cache import CacheError, SchemaCache, default_cache_dir

    try:
        crds = SchemaCache(default_cache_dir()).index.get("crds", {})
    except CacheError:
        return None
    served = {}
    for group in FLUX_BOOTSTRAP_GROUPS:
        for kind, entry in (crds.get(group) or {}).items():
            versions = tuple(v["name"] for v in entry.get("versions") or [] if v.get("served"))
            served[(group, kind)] = (versions, str(entry.get("source", group)))
    return served


def unserved(api_version: str, kind: str) -> tuple[tuple[str, ...], str] | None:
    """(served versions, controller) when the emulated Flux does not serve this apiVersion of a Flux kind."""
    group, _, version = api_version.rpartition("/")
    known = (flux_served_versions() or {}).get((group, kind))
    if known is None or version in known[0]:
        return None
    return known
