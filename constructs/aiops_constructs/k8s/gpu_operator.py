"""The NVIDIA GPU operator: what makes GPU nodes schedulable and observable."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.k8s.security_context import pod_security_labels


class GpuOperator(Construct):
    """The GPU operator's HelmRelease: NVIDIA device plugin (`nvidia.com/gpu`), GPU feature
    discovery, DCGM and the DCGM exporter on every GPU node.

    On EKS (the AL2023 NVIDIA AMI) and AKS (its GPU node image) the node already has the
    driver and the container toolkit, so both stay off by default; two drivers on one node
    break each other. With `monitoring` (the namespace and name of the kube-prometheus-stack
    release) the exporter gets a ServiceMonitor with `honorLabels`, so the `namespace` and
    `pod` labels of each GPU series name the pod using the GPU (not the exporter), which is
    what prometheus-adapter maps to the pods an HPA scales.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "gpu-operator",
        install_driver: bool = False,
        install_toolkit: bool = False,
        monitoring: tuple[str, str] | None = None,
        source: ChartSource = charts.GPU_OPERATOR,
    ) -> None:
        super().__init__(scope, id)
        values: dict[str, Any] = {"driver": {"enabled": install_driver}, "toolkit": {"enabled": install_toolkit}}
        if monitoring is not None:
            values["dcgmExporter"] = {"serviceMonitor": {"enabled": True, "honorLabels": True}}
        HelmChartRelease(
            self,
            "release",
            release="gpu-operator",
            namespace=namespace,
            source=source,
            values=values,
            depends_on=(monitoring,) if monitoring else (),
            # privileged: the operator and its node agents (driver, toolkit, device plugin, DCGM,
            # feature discovery) mount the node's /dev, /run and /sys and run privileged, which
            # is their job; nothing else runs in this namespace.
            namespace_labels=pod_security_labels("privileged"),
        )
