"""One GKE node pool: machine type, attached GPUs, autoscaling limits, labels and taints in the
GKE API's spelling (`NO_SCHEDULE`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cdktn import TerraformResourceLifecycle
from cdktn_provider_google.container_node_pool import (
    ContainerNodePool,
    ContainerNodePoolAutoscaling,
    ContainerNodePoolManagement,
    ContainerNodePoolNodeConfig,
    ContainerNodePoolNodeConfigGuestAccelerator,
    ContainerNodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfig,
    ContainerNodePoolNodeConfigGuestAcceleratorGpuSharingConfig,
    ContainerNodePoolNodeConfigShieldedInstanceConfig,
    ContainerNodePoolNodeConfigTaint,
    ContainerNodePoolNodeConfigWorkloadMetadataConfig,
)
from constructs import Construct

from aiops.model import NodePool
from aiops_constructs.terraform.gke.control_plane import shielded_nodes
from aiops_constructs.terraform.props import check_pool, check_zones, terraform_id
from aiops_constructs.terraform.spelling import gke_effect

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"  # access is decided by IAM roles instead


def initial_nodes_per_zone(pool: NodePool, zones: int) -> int:
    """GKE starts a regional pool with the same number of nodes in every zone: enough for `desired`."""
    return math.ceil(pool.desired / zones)


@dataclass(frozen=True)
class GkeNodePoolProps:
    cluster_id: str
    region: str
    zones: tuple[str, ...]
    pool: NodePool
    service_account_email: str
    labels: dict[str, str]  # Google Cloud resource labels (cost allocation) of the node VMs


class GkeNodePool(Construct):
    """`google_container_node_pool` with total (all-zone) autoscaling limits.

    GKE counts `initial_node_count` per zone, so a pool starts with `ceil(desired / zones)` nodes
    in each zone; the autoscaler then keeps the total between min and max. Changing the initial
    count would recreate the pool, so Terraform ignores changes to it.
    """

    def __init__(self, scope: Construct, id: str, *, props: GkeNodePoolProps) -> None:
        super().__init__(scope, id)
        pool = props.pool
        check_pool(self, "gcp", pool)
        check_zones(self, "gcp", props.region, props.zones)
        accelerators = None
        if pool.gpu is not None:
            accelerators = [
                ContainerNodePoolNodeConfigGuestAccelerator(
                    type=pool.gpu.type,
                    count=pool.gpu.count,
                    # GKE installs the NVIDIA driver of the node image's default version.
                    gpu_driver_installation_config=ContainerNodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfig(gpu_driver_version="DEFAULT"),
                    # GKE's own time-sharing: its device plugin advertises each GPU N times.
                    gpu_sharing_config=ContainerNodePoolNodeConfigGuestAcceleratorGpuSharingConfig(
                        gpu_sharing_strategy="TIME_SHARING", max_shared_clients_per_gpu=pool.sharing()[0]) if pool.sharing()[0] else None,
                    # GKE's own MIG: every GPU cut into partitions of this size, each advertised as
                    # one nvidia.com/gpu and the nodes labelled cloud.google.com/gke-gpu-partition-size
                    # (aiops.model.gpu_sharing; no GPU operator or MIG manager on GKE).
                    gpu_partition_size=pool.sharing()[1],
                )
            ]
        self.node_pool = ContainerNodePool(
            self,
            "node-pool",
            name=pool.name,
            cluster=props.cluster_id,
            location=props.region,
            node_locations=list(props.zones),
            initial_node_count=initial_nodes_per_zone(pool, len(props.zones)),
            autoscaling=ContainerNodePoolAutoscaling(total_min_node_count=pool.min, total_max_node_count=pool.max),
            management=ContainerNodePoolManagement(auto_repair=True, auto_upgrade=True),
            node_config=ContainerNodePoolNodeConfig(
                machine_type=pool.instance_type,
                disk_size_gb=pool.disk_size("gcp"),  # the model's diskSizeGib; GPU pools get room for CUDA images
                service_account=props.service_account_email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                labels=dict(pool.labels),
                resource_labels=props.labels,
                taint=[ContainerNodePoolNodeConfigTaint(key=t.key, value=t.value, effect=gke_effect(t)) for t in pool.taints] or None,
                guest_accelerator=accelerators,
                # Spot VMs (GKE labels them cloud.google.com/gke-spot=true; the model adds the
                # taint of that key, so only interruptible pods land there).
                spot=True if pool.spot else None,
                # Pods see their workload identity, not the node's service account.
                workload_metadata_config=ContainerNodePoolNodeConfigWorkloadMetadataConfig(mode="GKE_METADATA"),
                shielded_instance_config=ContainerNodePoolNodeConfigShieldedInstanceConfig(**shielded_nodes()),
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["initial_node_count"]),
        )
        self.node_pool.override_logical_id(terraform_id("node_pool", pool.name))
