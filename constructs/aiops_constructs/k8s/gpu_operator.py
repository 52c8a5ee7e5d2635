"""The NVIDIA GPU operator: what makes GPU nodes schedulable and observable."""

from __future__ import annotations

import re
from typing import Any

import yaml

from constructs import Construct

from aiops.model.gpu_sharing import MAX_TIME_SLICES, mig_config, time_slicing_config
from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.k8s.security_context import pod_security_labels

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


DEVICE_PLUGIN_CONFIG = "aiops-device-plugin-config"
MIG_PARTED_CONFIG = "aiops-mig-parted-config"


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def sharing_values(time_slices: tuple[int, ...], mig_profiles: dict[str, int]) -> dict[str, Any]:
    """Chart values for GPU sharing (gpu-operator v25.10.1 values.yaml: devicePlugin.config,
    migManager.config, mig.strategy). Each pool picks its config by a node label
    (aiops.model.gpu_sharing): `nvidia.com/device-plugin.config=replicas-N` for N time slices of
    every GPU, `nvidia.com/mig.config=all-<profile>` for MIG. With MIG the device plugin runs the
    `mixed` strategy, so MIG instances are advertised as nvidia.com/mig-<profile> and GPUs
    without MIG stay nvidia.com/gpu. The ConfigMaps are created by the chart (`create: true`)."""
    if not time_slices and not mig_profiles:
        return {}
    strategy = "mixed" if mig_profiles else "none"
    plugin = {"default": _yaml({"version": "v1", "flags": {"migStrategy": strategy}})}
    for replicas in time_slices:
        plugin[time_slicing_config(replicas)] = _yaml({
            "version": "v1", "flags": {"migStrategy": strategy},
            "sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": replicas}]}},
        })
    values: dict[str, Any] = {"devicePlugin": {"config": {"create": True, "name": DEVICE_PLUGIN_CONFIG, "default": "default", "data": plugin}}}
    if mig_profiles:
        configs: dict[str, Any] = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}
        for profile, count in mig_profiles.items():
            configs[mig_config(profile)] = [{"devices": "all", "mig-enabled": True, "mig-devices": {profile: count}}]
        values["mig"] = {"strategy": "mixed"}
        values["migManager"] = {"config": {"create": True, "name": MIG_PARTED_CONFIG, "default": "all-disabled",
                                           "data": {"config.yaml": _yaml({"version": "v1", "mig-configs": configs})}}}
    return values


# The chart's own daemonsets.tolerations (values.yaml of gpu-operator v25.10.1).
DEFAULT_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


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
        extra_tolerations: tuple[dict[str, str], ...] = (),
        time_slices: tuple[int, ...] = (),
        mig_profiles: dict[str, int] | None = None,
        source: ChartSource = charts.GPU_OPERATOR,
    ) -> None:
        super().__init__(scope, id)
        if not runtime_class or not all(c.isalnum() or c in "-." for c in runtime_class):
            raise ValueError(f"GpuOperator: runtime_class '{runtime_class}' is not a RuntimeClass handler name like nvidia")
        for replicas in time_slices:
            if not 2 <= replicas <= MAX_TIME_SLICES:
                raise ValueError(f"GpuOperator: time_slices holds {replicas}; use 2 to {MAX_TIME_SLICES} replicas per GPU")
        for profile, count in (mig_profiles or {}).items():
            if not re.fullmatch(r"[0-9]+g\.[0-9]+gb(\.[a-z+]+)?", profile) or count < 1:
                raise ValueError(f"GpuOperator: mig_profiles has {profile!r}: {count!r}; expected a MIG profile like 1g.5gb and how many fit on one GPU")
        values: dict[str, Any] = {
            "operator": {"runtimeClass": runtime_class},
            "driver": {"enabled": install_driver},
            "toolkit": {"enabled": install_toolkit},
        }
        if extra_tolerations:
            # The chart's daemonsets.tolerations (default: nvidia.com/gpu only) is replaced, not
            # merged, by a value: keep its default and add the other taints of the GPU pools
            # (spot), or the device plugin would never run on a spot GPU node.
            for toleration in extra_tolerations:
                if not toleration.get("key") or toleration.get("operator") not in ("Equal", "Exists"):
                    raise ValueError(f"GpuOperator: extra_tolerations needs a key and an operator (Equal or Exists), got {toleration!r}")
            values["daemonsets"] = {"tolerations": [DEFAULT_TOLERATION, *[dict(t) for t in extra_tolerations]]}
        values |= sharing_values(tuple(sorted(set(time_slices))), dict(sorted((mig_profiles or {}).items())))
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
