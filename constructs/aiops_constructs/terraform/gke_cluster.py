"""A regional GKE cluster without the default pool, and one node pool per model pool."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_google.container_cluster import ContainerCluster
from cdktn_provider_google.container_node_pool import ContainerNodePool
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from aiops.model import Environment
from aiops_constructs.terraform.spelling import gke_effect
from aiops_constructs.terraform.tags import environment_tags, pool_tags


class GkeCluster(Construct):
    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        if environment.cloud != "gcp":
            raise ValueError(f"GkeCluster: environment '{environment.name}' is on {environment.cloud}, not gcp")
        GoogleProvider(self, "google", project=environment.gcp_project, region=environment.region, default_labels=environment_tags(environment))
        cluster = ContainerCluster(
            self,
            "cluster",
            name=environment.name,
            location=environment.region,
            node_locations=list(environment.zones),
            remove_default_node_pool=True,
            initial_node_count=1,
            min_master_version=environment.kubernetes_version,
            deletion_protection=True,
        )
        cluster.override_logical_id("cluster")
        for pool in environment.node_pools:
            node_config: dict = {
                "machine_type": pool.instance_type,
                "labels": dict(pool.labels),
                "resource_labels": pool_tags(environment, pool),
            }
            if pool.gpu is not None:
                node_config["guest_accelerator"] = [{"type": pool.gpu.type, "count": pool.gpu.count}]
            if pool.taints:
                node_config["taint"] = [{"key": t.key, "value": t.value, "effect": gke_effect(t)} for t in pool.taints]
            node_pool = ContainerNodePool(
                self,
                f"node-pool-{pool.name}",
                name=pool.name,
                cluster=cluster.id,
                location=environment.region,
                initial_node_count=pool.desired,
                autoscaling={"total_min_node_count": pool.min, "total_max_node_count": pool.max},
                node_config=node_config,
            )
            node_pool.override_logical_id(f"node_pool_{pool.name.replace('-', '_')}")
        TerraformOutput(self, "cluster_name", value=cluster.name).override_logical_id("cluster_name")
        TerraformOutput(self, "cluster_endpoint", value=cluster.endpoint).override_logical_id("cluster_endpoint")
