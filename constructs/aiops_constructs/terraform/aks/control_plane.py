"""The AKS cluster itself, with the system pool as its default node pool."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.kubernetes_cluster import (
    KubernetesCluster,
    KubernetesClusterAutoScalerProfile,
    KubernetesClusterDefaultNodePool,
    KubernetesClusterIdentity,
    KubernetesClusterNetworkProfile,
    KubernetesClusterNodeProvisioningProfile,
)
from constructs import Construct

from aiops.model import NodePool
from aiops_constructs.terraform.aks.node_pool import pool_settings
from aiops_constructs.terraform.props import InvalidProps, check_pool, check_zones


@dataclass(frozen=True)
class AksControlPlaneProps:
    cluster_name: str
    location: str  # the Azure region
    resource_group_name: str
    kubernetes_version: str
    zones: tuple[str, ...]
    system_pool: NodePool
    subnet_id: str
    tags: dict[str, str]
    system_pool_tags: dict[str, str]


class AksControlPlane(Construct):
    """`azurerm_kubernetes_cluster`: control plane, system pool, autoscaler profile, workload identity.

    Pool sizes: `node_count` is where the pool starts; afterwards the cluster autoscaler owns it
    and Terraform ignores changes to it, as the azurerm documentation advises for autoscaled pools.
    """

    def __init__(self, scope: Construct, id: str, *, props: AksControlPlaneProps) -> None:
        super().__init__(scope, id)
        pool = props.system_pool
        check_zones(self, "azure", props.location, props.zones)
        if not pool.system:
            raise InvalidProps(self, "system_pool.system", f"node pool '{pool.name}' is not a system pool", "mark the pool that becomes the cluster's default pool with 'system: true'")
        check_pool(self, "azure", pool, field="system_pool")
        self.cluster = KubernetesCluster(
            self,
            "cluster",
            name=props.cluster_name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            dns_prefix=props.cluster_name,
            kubernetes_version=props.kubernetes_version,
            identity=KubernetesClusterIdentity(type="SystemAssigned"),
            # Pods get addresses from an overlay range, not from the node subnet.
            network_profile=KubernetesClusterNetworkProfile(network_plugin="azure", network_plugin_mode="overlay"),
            # Service accounts can take Azure identities (the counterpart of IAM roles for
            # service accounts on EKS); the issuer is an output.
            oidc_issuer_enabled=True,
            workload_identity_enabled=True,
            # The cluster autoscaler sizes the pools below (node auto-provisioning stays off).
            node_provisioning_profile=KubernetesClusterNodeProvisioningProfile(mode="Manual"),
            auto_scaler_profile=KubernetesClusterAutoScalerProfile(
                # Of the pools that could take a pending pod, grow the one left with the least
                # idle CPU and memory, rather than a random one.
                expander="least-waste",
            ),
            default_node_pool=KubernetesClusterDefaultNodePool(
                **pool_settings(pool, props.zones, props.subnet_id),
                only_critical_addons_enabled=False,
                tags=props.system_pool_tags,
            ),
            tags=props.tags,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["default_node_pool[0].node_count"]),
        )
        self.cluster.override_logical_id("cluster")
