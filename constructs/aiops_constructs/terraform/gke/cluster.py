"""An environment on Google Cloud: network, node service account, GKE cluster and node pools."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from aiops.model import Environment
from aiops_constructs.terraform.gke.control_plane import GkeControlPlane, GkeControlPlaneProps
from aiops_constructs.terraform.gke.network import GkeNetwork, GkeNetworkProps
from aiops_constructs.terraform.gke.node_pool import GkeNodePool, GkeNodePoolProps
from aiops_constructs.terraform.gke.node_service_account import GkeNodeServiceAccount, GkeNodeServiceAccountProps
from aiops_constructs.terraform.props import InvalidProps
from aiops_constructs.terraform.tags import environment_tags, pool_tags


def output(scope: Construct, name: str, value: str, description: str) -> None:
    TerraformOutput(scope, name, value=value, description=description).override_logical_id(name)


class GkeCluster(Construct):
    """Everything one GKE environment needs, from the model.

    The provider's `default_labels` put the environment's cost labels on every labelled
    resource; the cluster and each pool's VMs carry them explicitly too, pools with their name.
    """

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        if environment.cloud != "gcp" or not environment.gcp_project:
            raise InvalidProps(self, "environment.cloud", f"environment '{environment.name}' is not a gcp environment with a project", "build a GKE cluster from a gcp environment with gcpProject")
        name, project, tags = environment.name, environment.gcp_project, environment_tags(environment)
        provider = GoogleProvider(self, "google", project=project, region=environment.region)
        # Set as an override: cdktn snake-cases the keys of a provider's map arguments, which
        # would turn cost-centre into cost_centre and give each resource both labels.
        provider.add_override("default_labels", tags)
        network = GkeNetwork(self, "network", props=GkeNetworkProps(name=name, region=environment.region))
        nodes = GkeNodeServiceAccount(self, "node-service-account", props=GkeNodeServiceAccountProps(project=project, account_id=f"{name}-nodes"))
        control_plane = GkeControlPlane(
            self,
            "control-plane",
            props=GkeControlPlaneProps(
                cluster_name=name,
                project=project,
                region=environment.region,
                zones=tuple(environment.zones),
                kubernetes_version=environment.kubernetes_version,
                network=network.network.id,
                subnetwork=network.subnetwork.id,
                pod_range_name=network.pod_range_name,
                service_range_name=network.service_range_name,
                labels=tags,
                node_service_account=nodes.account.email,
                access=environment.control_plane,
            ),
        )
        cluster = control_plane.cluster
        for pool in environment.node_pools:
            GkeNodePool(
                self,
                f"node-pool-{pool.name}",
                props=GkeNodePoolProps(
                    cluster_id=cluster.id,
                    region=environment.region,
                    zones=tuple(environment.zones),
                    pool=pool,
                    service_account_email=nodes.account.email,
                    labels=pool_tags(environment, pool),
                ),
            )
        output(self, "cluster_name", cluster.name, "GKE cluster name")
        output(self, "cluster_endpoint", f"https://{cluster.endpoint}", "Kubernetes API server URL (the private endpoint when the cluster has no public one)")
        output(self, "oidc_issuer", control_plane.oidc_issuer, "OIDC issuer of service-account tokens (workload identity federation)")
        output(self, "node_role", nodes.account.email, "service account the nodes run as")
