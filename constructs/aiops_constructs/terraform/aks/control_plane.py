"""The AKS cluster itself, with the system pool as its default node pool."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.kubernetes_cluster import (
    KubernetesCluster,
    KubernetesClusterApiServerAccessProfile,
    KubernetesClusterAutoScalerProfile,
    KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl,
    KubernetesClusterDefaultNodePool,
    KubernetesClusterIdentity,
    KubernetesClusterKeyVaultSecretsProvider,
    KubernetesClusterNetworkProfile,
    KubernetesClusterNodeProvisioningProfile,
    KubernetesClusterOmsAgent,
    KubernetesClusterWebAppRouting,
)
from constructs import Construct

from aiops.model import NodePool
from aiops.model.control_plane import ControlPlane, admin_violation
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
    log_workspace_id: str  # Container insights' Log Analytics workspace (monitoring.py)
    access: ControlPlane = ControlPlane()  # endpoint and admins, from the environment
    serves: bool = False  # the cluster serves requests: its control plane gets the SLA-backed tier
    serves_tls: bool = False  # its Ingress serves a Key Vault certificate (the app routing add-on reads it)


class AksControlPlane(Construct):
    """`azurerm_kubernetes_cluster`: control plane, system pool, autoscaler profile, workload identity.

    Pool sizes: `node_count` is where the pool starts; afterwards the cluster autoscaler owns it
    and Terraform ignores changes to it, as the azurerm documentation advises for autoscaled pools.
    """

    def __init__(self, scope: Construct, id: str, *, props: AksControlPlaneProps) -> None:
        super().__init__(scope, id)
        pool = props.system_pool
        check_zones(self, "azure", props.location, props.zones)
        if props.serves_tls and not props.serves:
            raise InvalidProps(self, "serves_tls", "TLS for a cluster that serves nothing", "give serves_tls only with serves")
        if not pool.system:
            raise InvalidProps(self, "system_pool.system", f"node pool '{pool.name}' is not a system pool", "mark the pool that becomes the cluster's default pool with 'system: true'")
        check_pool(self, "azure", pool, field="system_pool")
        admin = admin_violation("azure", props.access.admins)
        if admin is not None:
            raise InvalidProps(self, f"access.admins[{admin[0]}]", admin[1], admin[2])
        access = props.access
        self.cluster = KubernetesCluster(
            self,
            "cluster",
            name=props.cluster_name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            dns_prefix=props.cluster_name,
            kubernetes_version=props.kubernetes_version,
            # A cluster that serves gets the Standard tier's financially backed API server SLA
            # (99.95% across zones); the Free tier has none.
            sku_tier="Standard" if props.serves else "Free",
            # Patch releases of the pinned minor and node-image updates arrive by themselves;
            # minors move only when the environment's kubernetesVersion does.
            automatic_upgrade_channel="patch",
            node_os_upgrade_channel="NodeImage",
            identity=KubernetesClusterIdentity(type="SystemAssigned"),
            # No local admin certificate: every user signs in with Entra ID and Azure RBAC decides
            # what they may do; controlPlane.admins are the groups with cluster-admin.
            local_account_disabled=True,
            azure_active_directory_role_based_access_control=KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl(
                azure_rbac_enabled=True, admin_group_object_ids=list(access.admins) or None
            ),
            # The API server is private (reached from the virtual network) unless the environment
            # asks for a public one, which then accepts only its authorizedCidrs (openToInternet:
            # no authorized ranges at all, which is how AKS spells "every address").
            private_cluster_enabled=not access.public,
            api_server_access_profile=KubernetesClusterApiServerAccessProfile(authorized_ip_ranges=list(access.authorized_cidrs)) if access.authorized_cidrs else None,
            # Pods get addresses from an overlay range, not from the node subnet; Azure CNI powered
            # by Cilium enforces NetworkPolicy (eBPF), the engine AKS supports with overlay.
            network_profile=KubernetesClusterNetworkProfile(network_plugin="azure", network_plugin_mode="overlay", network_data_plane="cilium", network_policy="cilium"),
            # Container insights (metrics and container logs) into the workspace, signed in with the
            # cluster's managed identity; control-plane logs are a diagnostic setting (monitoring.py).
            oms_agent=KubernetesClusterOmsAgent(log_analytics_workspace_id=props.log_workspace_id, msi_auth_for_monitoring_enabled=True),
            # Azure Policy's add-on, so the subscription's policy assignments (e.g. the Kubernetes
            # pod security baseline) audit and enforce in this cluster too.
            azure_policy_enabled=True,
            # A cluster that serves gets the application routing add-on: AKS runs and upgrades the
            # NGINX ingress controller (class webapprouting.kubernetes.azure.com) behind a public
            # load balancer, which the serving Ingress (k8s/serving_ingress.py) uses. No DNS zones:
            # the client name is Route 53's (the primary's traffic stack).
            web_app_routing=KubernetesClusterWebAppRouting(dns_zone_ids=[]) if props.serves else None,
            # The add-on reads its TLS certificate from Key Vault through the Secrets Store CSI
            # driver's Key Vault provider, with rotation so that a renewed certificate is picked
            # up (app-routing-dns-ssl: "To enable the add-on to reload certificates from Azure Key
            # Vault when they change, you should enable the secret autorotation feature").
            key_vault_secrets_provider=KubernetesClusterKeyVaultSecretsProvider(secret_rotation_enabled=True) if props.serves_tls else None,
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
                # Grow the per-zone pools of a zone-spread pool together (aiops.model.zonal).
                balance_similar_node_groups=True,
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
