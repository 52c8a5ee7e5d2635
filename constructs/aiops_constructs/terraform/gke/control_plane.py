"""A regional GKE cluster whose default node pool is removed: every pool is managed separately."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_google.container_cluster import (
    ContainerCluster,
    ContainerClusterIpAllocationPolicy,
    ContainerClusterPrivateClusterConfig,
    ContainerClusterWorkloadIdentityConfig,
)
from constructs import Construct

from aiops_constructs.terraform.props import check_zones


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


class GkeControlPlane(Construct):
    """`google_container_cluster`: VPC-native, private nodes, workload identity.

    GKE needs a node pool to create a cluster, so it starts with a one-node default pool and
    removes it at once (`remove_default_node_pool`); the model's pools are `GkeNodePool`s.
    """

    def __init__(self, scope: Construct, id: str, *, props: GkeControlPlaneProps) -> None:
        super().__init__(scope, id)
        check_zones(self, "gcp", props.region, props.zones)
        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=props.cluster_name,
            project=props.project,
            location=props.region,
            node_locations=list(props.zones),
            min_master_version=props.kubernetes_version,
            network=props.network,
            subnetwork=props.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=ContainerClusterIpAllocationPolicy(
                cluster_secondary_range_name=props.pod_range_name, services_secondary_range_name=props.service_range_name
            ),
            # Nodes get internal addresses only and reach the internet through Cloud NAT; the
            # API server keeps its public endpoint.
            private_cluster_config=ContainerClusterPrivateClusterConfig(enable_private_nodes=True, enable_private_endpoint=False),
            workload_identity_config=ContainerClusterWorkloadIdentityConfig(workload_pool=f"{props.project}.svc.id.goog"),
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=True,
            resource_labels=props.labels,
        )
        self.cluster.override_logical_id("cluster")
        # GKE's service-account token issuer (the same URL serves its discovery document).
        self.oidc_issuer = f"https://container.googleapis.com/v1/{self.cluster.id}"
