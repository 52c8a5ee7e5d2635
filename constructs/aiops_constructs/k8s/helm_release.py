"""A Helm chart installed by Flux: its Namespace, its source, and the HelmRelease."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops_constructs.k8s.flux_sync import SOURCE_API_VERSION

HELM_API_VERSION = "helm.toolkit.fluxcd.io/v2"
HELM_CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_EXACT_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")


@dataclass(frozen=True)
class ChartSource:
    """A Helm chart pinned to one version: an https:// Helm repository and a chart in it, or
    the oci:// address of the chart itself."""

    url: str
    chart: str
    version: str

    @property
    def is_oci(self) -> bool:
        return self.url.startswith("oci://")


class HelmChartRelease(Construct):
    """A `Namespace` (unless it exists already), a `HelmRepository` or `OCIRepository`, and a
    `HelmRelease` (`helm.toolkit.fluxcd.io/v2`), all in the release's namespace, as in Flux's
    own flux2-kustomize-helm-example.

    The source is named after the release, so two releases from one repository never define
    the same object twice. CRDs in the chart are created and replaced on upgrade (Helm itself
    never upgrades CRDs); `depends_on` orders releases inside one Flux Kustomization, e.g. a
    chart whose ServiceMonitors need the Prometheus operator's CRDs.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        release: str,
        namespace: str,
        source: ChartSource,
        values: Mapping[str, Any] | None = None,
        depends_on: Sequence[tuple[str, str]] = (),
        create_namespace: bool = True,
        namespace_labels: Mapping[str, str] | None = None,
        interval: str = "1h",
        timeout: str = "10m",
    ) -> None:
        super().__init__(scope, id)
        who = f"HelmChartRelease '{release}'"
        if not _NAME.match(release):
            raise ValueError(f"{who}: release name '{release}' is not a valid Kubernetes name")
        if not _NAME.match(namespace):
            raise ValueError(f"{who}: namespace '{namespace}' is not a valid namespace name")
        if not _EXACT_VERSION.match(source.version):
            raise ValueError(f"{who}: chart version '{source.version}' is not an exact version; pin one, like 1.7.0")
        if not (source.is_oci or source.url.startswith("https://")):
            raise ValueError(f"{who}: chart url '{source.url}' must start with https:// (a Helm repository) or oci:// (an OCI chart)")
        for field, duration in (("interval", interval), ("timeout", timeout)):
            if not _DURATION.match(duration):
                raise ValueError(f"{who}: {field} '{duration}' is not a Go duration like 10m or 1h")
        for dependency in depends_on:
            if len(dependency) != 2 or not all(_NAME.match(part) for part in dependency):
                raise ValueError(f"{who}: depends_on entry {dependency!r} is not a (namespace, release) pair")

        if create_namespace:
            ApiObject(
                self,
                "namespace",
                api_version="v1",
                kind="Namespace",
                metadata={"name": namespace, **({"labels": dict(namespace_labels)} if namespace_labels else {})},
            )
        metadata = {"name": release, "namespace": namespace}
        if source.is_oci:
            repository = ApiObject(self, "source", api_version=SOURCE_API_VERSION, kind="OCIRepository", metadata=metadata)
            repository.add_json_patch(
                JsonPatch.add(
                    "/spec",
                    {
                        "interval": "12h",
                        "url": source.url,
                        "ref": {"tag": source.version},
                        "layerSelector": {"mediaType": HELM_CHART_MEDIA_TYPE, "operation": "copy"},
                    },
                )
            )
            chart: dict[str, Any] = {"chartRef": {"kind": "OCIRepository", "name": release}}
        else:
            repository = ApiObject(self, "source", api_version=SOURCE_API_VERSION, kind="HelmRepository", metadata=metadata)
            repository.add_json_patch(JsonPatch.add("/spec", {"interval": "12h", "url": source.url}))
            chart = {
                "chart": {
                    "spec": {
                        "chart": source.chart,
                        "version": source.version,
                        "sourceRef": {"kind": "HelmRepository", "name": release},
                        "interval": "12h",
                    }
                }
            }
        spec: dict[str, Any] = {"interval": interval, "timeout": timeout, "releaseName": release, **chart}
        if depends_on:
            spec["dependsOn"] = [{"name": name, "namespace": ns} for ns, name in depends_on]
        spec["install"] = {"crds": "CreateReplace", "remediation": {"retries": 3}}
        spec["upgrade"] = {"crds": "CreateReplace", "remediation": {"retries": 3, "remediateLastFailure": True}}
        if values:
            spec["values"] = dict(values)
        helm_release = ApiObject(self, "release", api_version=HELM_API_VERSION, kind="HelmRelease", metadata=metadata)
        helm_release.add_json_patch(JsonPatch.add("/spec", spec))
