"""A regional GKE cluster whose default node pool is removed: every pool is managed separately.

Each hardening setting carries its reason beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformResourceLifecycle
from cdktn_provider_google.container_cluster import (
    ContainerCluster,
    ContainerClusterBinaryAuthorization,
    ContainerClusterIpAllocationPolicy,
    ContainerClusterMasterAuth,
    ContainerClusterMasterAuthClientCertificateConfig,
    ContainerClusterMasterAuthorizedNetworksConfig,
    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks,
    ContainerClusterNetworkPolicy,
    ContainerClusterNodeConfig,
    ContainerClusterNodeConfigShieldedInstanceConfig,
    ContainerClusterNodeConfigWorkloadMetadataConfig,
    ContainerClusterPrivateClusterConfig,
    ContainerClusterReleaseChannel,
    ContainerClusterWorkloadIdentityConfig,
)
from cdktn_provider_google.project_iam_member import ProjectIamMember
from constructs import Construct

from aiops.model.control_plane import ControlPlane, admin_violation
from aiops_constructs.terraform.props import InvalidProps, check_zones, terraform_id

# REGULAR: new minors a few weeks after RAPID, with GKE's patches and auto-upgrades inside the
# minor we pin (min_master_version); STABLE lags too far behind for the versions we run.
RELEASE_CHANNEL = "REGULAR"
# Full access to the Kubernetes API of the project's clusters (GKE has no per-cluster IAM).
ADMIN_ROLE = "roles/container.admin"


@dataclass(frozen=True)
class GkeControlPlaneProps:
    cluster_name: str
    project: str
    region: str
    zones: tuple[str, ...]
    kubernetes_version: str
    network: str
    subnetwork: str
    pod_range_name: str
    service_range_name: str
    labels: dict[str, str]
    node_service_account: str  # e-mail of the nodes' account; the short-lived default pool uses it too
    access: ControlPlane = ControlPlane()  # endpoint and admins, from the environment


def shielded_nodes() -> dict:
    """Secure Boot (only signed boot components and kernel modules; GKE's NVIDIA drivers are
    signed) and integrity monitoring, for every node."""
    return {"enable_secure_boot": True, "enable_integrity_monitoring": True}


class GkeControlPlane(Construct):
    """`google_container_cluster`: VPC-native, private nodes, authorized networks, Dataplane V2, workload identity.

    GKE needs a node pool to create a cluster, so it starts with a one-node default pool and
    removes it at once (`remove_default_node_pool`); the model's pools are `GkeNodePool`s.
    """

    def __init__(self, scope: Construct, id: str, *, props: GkeControlPlaneProps) -> None:
        super().__init__(scope, id)
        check_zones(self, "gcp", props.region, props.zones)
        admin = admin_violation("gcp", props.access.admins)
        if admin is not None:
            raise InvalidProps(self, f"access.admins[{admin[0]}]", admin[1], admin[2])
        access = props.access
        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=props.cluster_name,
            project=props.project,
            location=props.region,
            node_locations=list(props.zones),
            min_master_version=props.kubernetes_version,
            release_channel=ContainerClusterReleaseChannel(channel=RELEASE_CHANNEL),
            network=props.network,
            subnetwork=props.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=ContainerClusterIpAllocationPolicy(
                cluster_secondary_range_name=props.pod_range_name, services_secondary_range_name=props.service_range_name
            ),
            # Nodes get internal addresses only and reach the internet through Cloud NAT. The
            # API server has a public endpoint only when the environment asks for one ...
            private_cluster_config=ContainerClusterPrivateClusterConfig(enable_private_nodes=True, enable_private_endpoint=not access.public),
            # ... and then accepts only its authorizedCidrs (not Google Cloud's public ranges either).
            master_authorized_networks_config=ContainerClusterMasterAuthorizedNetworksConfig(
                cidr_blocks=[ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks(cidr_block=cidr, display_name=f"authorized-{index}") for index, cidr in enumerate(access.public_cidrs)] or None,
                gcp_public_cidrs_access_enabled=False,
            ),
            # Dataplane V2 (Cilium, eBPF) enforces NetworkPolicy; GKE wants the Calico add-on off with it.
            datapath_provider="ADVANCED_DATAPATH",
            network_policy=ContainerClusterNetworkPolicy(enabled=False),
            # Pod-to-pod traffic on one node goes through the VPC too, so flow logs see it.
            enable_intranode_visibility=True,
            # No client certificates: they cannot be revoked. Users come through IAM.
            master_auth=ContainerClusterMasterAuth(client_certificate_config=ContainerClusterMasterAuthClientCertificateConfig(issue_client_certificate=False)),
            # Pods are admitted by the project's Binary Authorization policy (which an
            # organisation can tighten to signed images without touching this stack).
            binary_authorization=ContainerClusterBinaryAuthorization(evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
            enable_shielded_nodes=True,
            workload_identity_config=ContainerClusterWorkloadIdentityConfig(workload_pool=f"{props.project}.svc.id.goog"),
            # The default pool lives for minutes, but as hardened as the others while it does.
            node_config=ContainerClusterNodeConfig(
                service_account=props.node_service_account,
                shielded_instance_config=ContainerClusterNodeConfigShieldedInstanceConfig(**shielded_nodes()),
                workload_metadata_config=ContainerClusterNodeConfigWorkloadMetadataConfig(mode="GKE_METADATA"),
            ),
            remove_default_node_pool=True,
            initial_node_count=1,
            # The default pool's node_config matters only while it exists (at creation); after it
            # is removed, a change to it must not replace the cluster.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["node_config"]),
            deletion_protection=True,
            resource_labels=props.labels,
        )
        self.cluster.override_logical_id("cluster")
        for index, member in enumerate(access.admins):
            ProjectIamMember(self, f"admin-{index}", project=props.project, role=ADMIN_ROLE, member=member).override_logical_id(terraform_id("admin", str(index)))
        # GKE's service-account token issuer (the same URL serves its discovery document).
        self.oidc_issuer = f"https://container.googleapis.com/v1/{self.cluster.id}"
