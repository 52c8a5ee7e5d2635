"""An environment on Azure (the disaster-recovery cluster): resource group, network, AKS, pools."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures
from cdktn_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from aiops.model import Environment
from aiops.model.zonal import zonal_pools, zone_groups
from aiops_constructs.terraform.aks.control_plane import AksControlPlane, AksControlPlaneProps
from aiops_constructs.terraform.aks.monitoring import AksLogWorkspace, AksLogWorkspaceProps, control_plane_logs
from aiops_constructs.terraform.aks.network import AksNetwork, AksNetworkProps
from aiops_constructs.terraform.aks.node_pool import AksNodePool, AksNodePoolProps
from aiops_constructs.terraform.aks.serving_vault import ServingVault, ServingVaultProps
from aiops_constructs.terraform.props import InvalidProps
from aiops_constructs.terraform.tags import environment_tags, pool_tags


def output(scope: Construct, name: str, value: str, description: str) -> None:
    TerraformOutput(scope, name, value=value, description=description).override_logical_id(name)


class AksCluster(Construct):
    """Everything one AKS environment needs, from the model. Every Azure resource that takes
    tags carries the environment's cost tags; pools add their own name."""

    def __init__(self, scope: Construct, id: str, *, environment: Environment, primary_of_pair: bool = False) -> None:
        super().__init__(scope, id)
        if environment.cloud != "azure":
            raise InvalidProps(self, "environment.cloud", f"environment '{environment.name}' is on {environment.cloud}, not azure", "build an AKS cluster from an azure environment")
        systems = [pool for pool in environment.node_pools if pool.system]
        if len(systems) != 1:
            raise InvalidProps(self, "environment.nodePools", f"{len(systems)} system pools; AKS takes exactly one as its default pool", "mark exactly one CPU pool with 'system: true'")
        name, tags = environment.name, environment_tags(environment)
        # The subscription comes from the environment (ARM_SUBSCRIPTION_ID), like the credentials.
        AzurermProvider(self, "azurerm", features=[AzurermProviderFeatures()])
        group = ResourceGroup(self, "resource-group", name=f"{name}-rg", location=environment.region, tags=tags)
        group.override_logical_id("resource_group")
        # Either side of a failover pair with traffic serves TLS for the client name (serving_vault.py):
        # a standby that takes the clients, or the primary they are taken from (`primary_of_pair`).
        serves_tls = environment.serves and (primary_of_pair or (environment.failover is not None and environment.failover.traffic is not None))
        network = AksNetwork(self, "network", props=AksNetworkProps(name=name, location=group.location, resource_group_name=group.name, tags=tags,
                                                                    key_vault_endpoint=serves_tls, serves_https=serves_tls))
        logs = AksLogWorkspace(self, "log-workspace", props=AksLogWorkspaceProps(name=name, location=group.location, resource_group_name=group.name, tags=tags))
        control_plane = AksControlPlane(
            self,
            "control-plane",
            props=AksControlPlaneProps(
                cluster_name=name,
                location=environment.region,
                resource_group_name=group.name,
                kubernetes_version=environment.kubernetes_version,
                zones=tuple(environment.zones),
                system_pool=systems[0],
                subnet_id=network.node_subnet.id,
                tags=tags,
                system_pool_tags=pool_tags(environment, systems[0]),
                log_workspace_id=logs.workspace.id,
                access=environment.control_plane,
                serves=environment.serves,
                serves_tls=serves_tls,
            ),
        )
        cluster = control_plane.cluster
        if serves_tls:
            from aiops_constructs.serving_tls import key_vault_name

            ServingVault(
                self, "serving-vault",
                props=ServingVaultProps(
                    name=key_vault_name(name), location=group.location, resource_group_name=group.name, node_subnet_id=network.node_subnet.id,
                    add_on_identity=cluster.web_app_routing.web_app_routing_identity.get(0).object_id,
                    admins=tuple(environment.control_plane.admins), allowed_cidrs=tuple(environment.control_plane.authorized_cidrs), tags=tags,
                ),
            )
        control_plane_logs(self, cluster_id=cluster.id, workspace_id=logs.workspace.id)
        zonal = zonal_pools(environment)
        for pool in environment.node_pools:
            if pool.system:
                continue
            # A pool of zone-spread workloads becomes one node pool per zone (aiops.model.zonal).
            members = [(g.pool, (g.zone,)) for g in zone_groups(environment, pool)] if pool.name in zonal else [(pool, tuple(environment.zones))]
            for member, zones in members:
                AksNodePool(
                    self,
                    f"node-pool-{member.name}",
                    props=AksNodePoolProps(
                        cluster_id=cluster.id,
                        location=environment.region,
                        zones=zones,
                        pool=member,
                        subnet_id=network.node_subnet.id,
                        tags=pool_tags(environment, pool),
                    ),
                )
        output(self, "cluster_name", cluster.name, "AKS cluster name")
        fqdn = cluster.fqdn if environment.control_plane.public else cluster.private_fqdn
        output(self, "cluster_endpoint", f"https://{fqdn}:443", "Kubernetes API server URL")
        output(self, "oidc_issuer", cluster.oidc_issuer_url, "OIDC issuer of service-account tokens (workload identity)")
        output(self, "node_role", cluster.kubelet_identity.object_id, "object id of the kubelet managed identity the nodes use")
