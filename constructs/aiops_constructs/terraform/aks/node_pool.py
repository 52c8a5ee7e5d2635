"""One AKS user node pool: a node pool of the model, taints in AKS spelling (`key=value:Effect`)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.kubernetes_cluster_node_pool import KubernetesClusterNodePool
from constructs import Construct

from aiops.model import NodePool
from aiops.model.gpu_sharing import node_labels as sharing_labels
from aiops.model.spot import AKS_EVICTION_POLICY, AKS_SPOT_MAX_PRICE, SPOT_LABELS
from aiops_constructs.terraform.props import InvalidProps, check_pool, check_zones, terraform_id
from aiops_constructs.terraform.spelling import aks_taint


MAX_PODS = 110


def spot_settings(pool: NodePool) -> dict:
    """A spot user pool: priority Spot, evicted VMs deleted, capped at the on-demand price. AKS
    labels and taints spot nodes itself (kubernetes.azure.com/scalesetpriority=spot); the label
    and taint are declared too (the model adds the taint), as azurerm asks, so that Terraform
    sees no drift."""
    if not pool.spot:
        return {}
    return {"priority": "Spot", "eviction_policy": AKS_EVICTION_POLICY, "spot_max_price": AKS_SPOT_MAX_PRICE}


def node_labels(pool: NodePool) -> dict[str, str]:
    """The model's labels, the spot label of a spot pool and the GPU operator's sharing config label."""
    key, value = SPOT_LABELS["azure"]
    return {**pool.labels, **({key: value} if pool.spot else {}), **sharing_labels(*pool.sharing())}


def pool_settings(pool: NodePool, zones: tuple[str, ...], subnet_id: str) -> dict:
    """What the default (system) pool and the user pools share: size, zones, network, labels.

    `temporary_name_for_rotation` lets AKS change the VM size or zones of a pool by moving its
    nodes through a temporary pool; without it such a change fails at `terraform apply`.
    """
    return {
        "name": pool.name,
        "temporary_name_for_rotation": f"{pool.name[:9]}tmp",
        "vm_size": pool.instance_type,
        "zones": list(zones),
        "vnet_subnet_id": subnet_id,
        "auto_scaling_enabled": True,
        "min_count": pool.min,
        "node_count": pool.desired,
        "max_count": pool.max,
        "node_labels": node_labels(pool),
        "os_disk_size_gb": pool.disk_size("azure"),  # the model's diskSizeGib; GPU pools get room for CUDA images
        # Temp disks, caches and the OS disk's data between VM and storage are encrypted on the
        # host too (needs the subscription's EncryptionAtHost feature).
        "host_encryption_enabled": True,
        # Stated, not left to a default that differs by network plugin: 110 pods per node, as
        # on the other clouds; GPU nodes run far fewer.
        "max_pods": MAX_PODS,
    }


@dataclass(frozen=True)
class AksNodePoolProps:
    cluster_id: str
    location: str  # the Azure region, to check the zones against
    zones: tuple[str, ...]
    pool: NodePool
    subnet_id: str
    tags: dict[str, str]


class AksNodePool(Construct):
    """`azurerm_kubernetes_cluster_node_pool` in User mode, autoscaled between the pool's min and max."""

    def __init__(self, scope: Construct, id: str, *, props: AksNodePoolProps) -> None:
        super().__init__(scope, id)
        pool = props.pool
        if pool.system:
            raise InvalidProps(self, "pool.system", f"node pool '{pool.name}' is the system pool", "the system pool is the cluster's default pool (AksControlPlane), not a user pool")
        check_pool(self, "azure", pool)
        check_zones(self, "azure", props.location, props.zones)
        self.node_pool = KubernetesClusterNodePool(
            self,
            "node-pool",
            kubernetes_cluster_id=props.cluster_id,
            mode="User",
            **pool_settings(pool, props.zones, props.subnet_id),
            **spot_settings(pool),
            node_taints=[aks_taint(t) for t in pool.taints] or None,
            tags=props.tags,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["node_count"]),
        )
        self.node_pool.override_logical_id(terraform_id("node_pool", pool.name))
