"""GPU sharing: several pods on one GPU, by time-slicing or by MIG partitions.

A pool's `gpuSharing` says how its GPUs are offered to pods:

- `timeSlicing: N`: the device plugin advertises each GPU N times as `nvidia.com/gpu` (pods
  take turns on the GPU, with no memory isolation: for inference services that leave most of a
  GPU idle). On EKS and AKS the GPU operator's device plugin does it (a `replicas-N` config of
  its ConfigMap, chosen by the node label `nvidia.com/device-plugin.config`); on GKE the node
  pool's `gpu_sharing_config` (TIME_SHARING).
- `mig: <profile>`: every GPU of the node is cut into the profile's instances (A100, H100; the
  catalog lists each GPU's profiles and how many fit). On EKS and AKS they are advertised as
  `nvidia.com/mig-<profile>` (the device plugin's `mixed` strategy); the GPU operator's MIG
  manager applies an `all-<profile>` config, chosen by the node label `nvidia.com/mig.config`.
  On GKE the node pool's `guest_accelerator.gpu_partition_size` does it, with GKE's own device
  plugin, which advertises every partition as a plain `nvidia.com/gpu` (see GKE below).

GKE (checked 2026-12-02, each with the source it was read in):
- `guest_accelerator.gpu_partition_size` of `google_container_node_pool`: "Size of partitions to
  create on the GPU. Valid values are described in the NVIDIA mig user guide" (the provider's
  documentation as the Pulumi GCP bindings carry it, pub.dev/documentation/pulumi_gcp/latest/
  container/NodePoolNodeConfigGuestAccelerator-class.html; the same field is in the pinned
  cdktn-provider-google bindings, `ContainerNodePoolNodeConfigGuestAccelerator.gpu_partition_size`).
- The partitions are advertised as `nvidia.com/gpu`: "Each GPU partition appears as a regular GPU
  resource" (cloud.google.com/kubernetes-engine/docs/how-to/gpus-multi); GKE's device plugin
  (GoogleCloudPlatform/container-engine-accelerators) registers the one resource `nvidia.com/gpu`
  (pkg/gpu/nvidia/manager.go) and lists the partitions as its devices (pkg/gpu/nvidia/mig/mig.go,
  whose `gpuPartitionSizeMaxCount` gives the partitions per GPU of each size: the A100 40GB's
  1g.5gb 7, 2g.10gb 3, 3g.20gb 2, 7g.40gb 1; it has no 4g.20gb).
- The nodes are labelled `cloud.google.com/gke-gpu-partition-size=<size>`, and time-shared ones
  `cloud.google.com/gke-gpu-sharing-strategy=time-sharing` and
  `cloud.google.com/gke-max-shared-clients-per-gpu=<N>`: read in a GKE autoscaler source file
  of the public code index that builds on cluster-autoscaler's gce package (`GPUPartitionSizeLabel`
  "is the label added to nodes with GPU resource with GPU partitioning", `GPUSharingStrategyLabel`,
  `GPUMaxSharedClientsLabel` with the value `time-sharing`), and in public examples that select
  MIG and time-shared GKE nodes by them; Google's how-to page itself was read only as far as the
  sentence above, so these three are not from Google's documentation.

What a node then advertises (`advertised`) is what the Kueue quotas, the workload checks, the
simulation's nodes and the cost per GPU-hour count: a workload's `gpus` are of that unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiops.model.catalog import Cloud, load_catalog

if TYPE_CHECKING:
    from aiops.model.cloud_rules import Violation

GPU_RESOURCE = "nvidia.com/gpu"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"  # the GPU operator's per-node device-plugin config
MIG_CONFIG_LABEL = "nvidia.com/mig.config"  # the MIG manager's per-node config
MAX_TIME_SLICES = 48  # GKE's limit of shared clients per GPU; the device plugin has none, a bound keeps quotas sane
# The labels GKE puts on the nodes of a pool with shared GPUs (module docstring).
GKE_PARTITION_SIZE_LABEL = "cloud.google.com/gke-gpu-partition-size"
GKE_SHARING_STRATEGY_LABEL = "cloud.google.com/gke-gpu-sharing-strategy"
GKE_MAX_SHARED_CLIENTS_LABEL = "cloud.google.com/gke-max-shared-clients-per-gpu"


def time_slicing_config(replicas: int) -> str:
    return f"replicas-{replicas}"


def mig_config(profile: str) -> str:
    return f"all-{profile}"


@dataclass(frozen=True)
class Advertised:
    """What one node offers pods in place of whole GPUs."""

    resource: str  # nvidia.com/gpu or nvidia.com/mig-<profile>
    per_gpu: int  # units per physical GPU (1 without sharing)

    def per_node(self, gpus: int) -> int:
        return gpus * self.per_gpu


WHOLE = Advertised(GPU_RESOURCE, 1)


def advertised(time_slicing: int | None, mig: str | None, mig_profiles: dict[str, int] | None, cloud: str | None = None) -> Advertised:
    """What a node offers per GPU: GKE advertises its MIG partitions as nvidia.com/gpu, the GPU
    operator's device plugin (EKS, AKS) as nvidia.com/mig-<profile>."""
    if mig:
        per_gpu = (mig_profiles or {}).get(mig, 0)
        return Advertised(GPU_RESOURCE if cloud == "gcp" else MIG_RESOURCE_PREFIX + mig, per_gpu)
    if time_slicing:
        return Advertised(GPU_RESOURCE, time_slicing)
    return WHOLE


def mig_profiles(cloud: Cloud, instance_type: str) -> dict[str, int] | None:
    """The MIG profiles of the instance type's GPU, from the catalog (None: no MIG, or no GPU)."""
    machine = load_catalog().instance_type(cloud, instance_type)
    return machine.gpu.mig_profiles if machine is not None and machine.gpu is not None else None


def gke_node_labels(time_slicing: int | None, mig: str | None) -> dict[str, str]:
    """The labels GKE itself gives the nodes of a pool with shared GPUs (not set by Terraform)."""
    if mig:
        return {GKE_PARTITION_SIZE_LABEL: mig}
    if time_slicing:
        return {GKE_SHARING_STRATEGY_LABEL: "time-sharing", GKE_MAX_SHARED_CLIENTS_LABEL: str(time_slicing)}
    return {}


def node_labels(time_slicing: int | None, mig: str | None) -> dict[str, str]:
    """The node labels that select the GPU operator's config for the pool (EKS and AKS)."""
    if mig:
        return {MIG_CONFIG_LABEL: mig_config(mig)}
    if time_slicing:
        return {DEVICE_PLUGIN_CONFIG_LABEL: time_slicing_config(time_slicing)}
    return {}


def sharing_from_labels(labels: dict[str, str]) -> tuple[int | None, str | None]:
    """(time slices, MIG profile) that a pool's node labels select (the inverse of node_labels)."""
    mig = labels.get(MIG_CONFIG_LABEL, "")
    if mig.startswith("all-") and mig != "all-disabled":
        return None, mig[len("all-"):]
    config = labels.get(DEVICE_PLUGIN_CONFIG_LABEL, "")
    if config.startswith("replicas-") and config[len("replicas-"):].isdigit():
        return int(config[len("replicas-"):]), None
    return None, None


def sharing_violation(cloud: Cloud, instance_type: str, gpus: int, time_slicing: int | None, mig: str | None,
                      gpu_type: str | None = None) -> Violation | None:
    """A pool's gpuSharing must fit its GPUs: a GPU pool, and a MIG profile its GPU has."""
    from aiops.model.cloud_rules import Violation

    if time_slicing is None and mig is None:
        return None
    if not gpus:
        return Violation("gpu_sharing", f"{instance_type} has no GPU to share", "remove gpuSharing, or choose a GPU instance type", ("gpuSharing",))
    if mig is None:
        return None
    catalog = load_catalog()
    machine = catalog.instance_type(cloud, instance_type)
    accelerator = catalog.accelerator(cloud, gpu_type) if cloud == "gcp" and gpu_type else None
    model = (machine.gpu.model if machine is not None and machine.gpu is not None
             else accelerator.model if accelerator is not None else "GPU")
    profiles = mig_profiles(cloud, instance_type)
    if not profiles:
        with_mig = [name for name in catalog.instance_type_names(cloud)
                    if (m := catalog.instance_type(cloud, name)).gpu is not None and m.gpu.mig_profiles]
        return Violation(
            "gpu_sharing",
            f"the {model} GPUs of {instance_type} have no MIG profiles",
            "MIG partitions A100 and H100 GPUs" + (f" (in the {cloud} catalog: {', '.join(with_mig)})" if with_mig else "")
            + "; share this GPU with timeSlicing instead",
            ("gpuSharing", "mig"),
        )
    if mig not in profiles:
        return Violation(
            "gpu_sharing",
            f"'{mig}' is not a MIG profile of the {model} of {instance_type}",
            f"its profiles: {', '.join(profiles)}",
            ("gpuSharing", "mig"),
        )
    return None
