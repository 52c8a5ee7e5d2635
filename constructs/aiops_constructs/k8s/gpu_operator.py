"""The NVIDIA GPU operator: what makes GPU nodes schedulable and observable."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease

# The RuntimeClass handler the operator's pods (device plugin, DCGM exporter, validator) run
# with, which must name a runtime the node's containerd has:
# - AKS GPU node images preinstall the driver and toolkit under the handler
#   `nvidia-container-runtime`; NVIDIA's AKS guide installs the operator with
#   `operator.runtimeClass=nvidia-container-runtime` (docs.nvidia.com/datacenter/cloud-native/
#   gpu-operator/latest/microsoft-aks.html, "Installing the Operator"). With the chart's
#   default `nvidia`, their sandboxes fail and no node advertises nvidia.com/gpu.
# - EKS's AL2023 NVIDIA AMI configures containerd's runtime as `nvidia` (awslabs/amazon-eks-ami,
#   nodeadm's containerd template for NVIDIA instances), the chart's default
#   (gpu-operator v25.10.1 values.yaml, operator.runtimeClass).
RUNTIME_CLASS = {"aws": "nvidia", "azure": "nvidia-container-runtime"}


class GpuOperator(Construct):
    """The GPU operator's HelmRelease: NVIDIA device plugin (`nvidia.com/gpu`), GPU feature
    discovery, DCGM and the DCGM exporter on every GPU node.

    On EKS (the AL2023 NVIDIA AMI) and AKS (its GPU node image) the node already has the
    driver and the container toolkit, so both stay off by default; two drivers on one node
    break each other. With `monitoring` (the namespace and name of the kube-prometheus-stack
    release) the exporter gets a ServiceMonitor with `honorLabels`, so the `namespace` and
    `pod` labels of each GPU series name the pod using the GPU (not the exporter), which is
    what prometheus-adapter maps to the pods an HPA scales. `runtime_class` is the containerd
    handler of the preinstalled toolkit (`RUNTIME_CLASS` per cloud).
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
        runtime_class: str = RUNTIME_CLASS["aws"],
        source: ChartSource = charts.GPU_OPERATOR,
    ) -> None:
        super().__init__(scope, id)
        if not runtime_class or not all(c.isalnum() or c in "-." for c in runtime_class):
            raise ValueError(f"GpuOperator: runtime_class '{runtime_class}' is not a RuntimeClass handler name like nvidia")
        values: dict[str, Any] = {
            "operator": {"runtimeClass": runtime_class},
            "driver": {"enabled": install_driver},
            "toolkit": {"enabled": install_toolkit},
        }
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
            # The operator's daemon sets mount host paths and run privileged.
            namespace_labels={"pod-security.kubernetes.io/enforce": "privileged"},
        )
