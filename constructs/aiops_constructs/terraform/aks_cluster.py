"""An AKS cluster: the system pool as its default pool, every other pool as a user pool."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_azurerm.kubernetes_cluster import KubernetesCluster
from cdktn_provider_azurerm.kubernetes_cluster_node_pool import KubernetesClusterNodePool
from cdktn_provider_azurerm.provider import AzurermProvider
from cdktn_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from aiops.model import Environment, NodePool
from aiops_constructs.terraform.spelling import aks_taint
from aiops_constructs.terraform.tags import environment_tags, pool_tags


def _scaling(pool: NodePool) -> dict:
    return {"auto_scaling_enabled": True, "min_count": pool.min, "max_count": pool.max, "node_count": pool.desired}


class AksCluster(Construct):
    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        if environment.cloud != "azure":
            raise ValueError(f"AksCluster: environment '{environment.name}' is on {environment.cloud}, not azure")
        AzurermProvider(self, "azurerm", features=[{}])
        group = ResourceGroup(self, "resource-group", name=f"{environment.name}-rg", location=environment.region, tags=environment_tags(environment))
        group.override_logical_id("resource_group")
        system = next(pool for pool in environment.node_pools if pool.system)
        cluster = KubernetesCluster(
            self,
            "cluster",
            name=environment.name,
            location=group.location,
            resource_group_name=group.name,
            dns_prefix=environment.name,
            kubernetes_version=environment.kubernetes_version,
            identity={"type": "SystemAssigned"},
            node_provisioning_profile={},
            default_node_pool={
                "name": system.name,
                "vm_size": system.instance_type,
                "zones": list(environment.zones),
                "node_labels": dict(system.labels),
                "only_critical_addons_enabled": False,
                **_scaling(system),
            },
            tags=environment_tags(environment),
        )
        cluster.override_logical_id("cluster")
        for pool in environment.node_pools:
            if pool.system:
                continue
            node_pool = KubernetesClusterNodePool(
                self,
                f"node-pool-{pool.name}",
                name=pool.name,
                kubernetes_cluster_id=cluster.id,
                vm_size=pool.instance_type,
                mode="User",
                zones=list(environment.zones),
                node_labels=dict(pool.labels),
                node_taints=[aks_taint(t) for t in pool.taints] or None,
                tags=pool_tags(environment, pool),
                **_scaling(pool),
            )
            node_pool.override_logical_id(f"node_pool_{pool.name}")
        TerraformOutput(self, "cluster_name", value=cluster.name).override_logical_id("cluster_name")
