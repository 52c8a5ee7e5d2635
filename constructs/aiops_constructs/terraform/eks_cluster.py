"""An EKS cluster with one managed node group per node pool."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformVariable
from cdktn_provider_aws.eks_cluster import EksCluster as EksClusterResource
from cdktn_provider_aws.eks_node_group import EksNodeGroup
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

from aiops.model import Environment
from aiops_constructs.terraform.spelling import eks_effect
from aiops_constructs.terraform.tags import environment_tags, pool_tags

# Amazon Linux 2023 AMIs; the NVIDIA variant ships the GPU driver and container toolkit.
AMI_TYPE_CPU = "AL2023_x86_64_STANDARD"
AMI_TYPE_GPU = "AL2023_x86_64_NVIDIA"


class EksCluster(Construct):
    """The EKS control plane and its managed node groups, sized and labelled from the model."""

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        if environment.cloud != "aws":
            raise ValueError(f"EksCluster: environment '{environment.name}' is on {environment.cloud}, not aws")
        AwsProvider(self, "aws", region=environment.region, default_tags=[{"tags": environment_tags(environment)}])
        # Foundation only: the network and IAM roles come in as variables until this construct
        # creates them itself.
        cluster_role = TerraformVariable(self, "cluster_role_arn", type="string")
        node_role = TerraformVariable(self, "node_role_arn", type="string")
        subnets = TerraformVariable(self, "private_subnet_ids", type="list(string)")
        for variable, name in ((cluster_role, "cluster_role_arn"), (node_role, "node_role_arn"), (subnets, "private_subnet_ids")):
            variable.override_logical_id(name)
        cluster = EksClusterResource(
            self,
            "cluster",
            name=environment.name,
            version=environment.kubernetes_version,
            role_arn=cluster_role.string_value,
            vpc_config={"subnet_ids": subnets.list_value},
        )
        cluster.override_logical_id("cluster")
        for pool in environment.node_pools:
            gpus = pool.gpu_count("aws")
            group = EksNodeGroup(
                self,
                f"node-group-{pool.name}",
                cluster_name=cluster.name,
                node_group_name=pool.name,
                node_role_arn=node_role.string_value,
                subnet_ids=subnets.list_value,
                instance_types=[pool.instance_type],
                ami_type=AMI_TYPE_GPU if gpus else AMI_TYPE_CPU,
                scaling_config={"min_size": pool.min, "desired_size": pool.desired, "max_size": pool.max},
                labels=dict(pool.labels),
                taint=[{"key": t.key, "value": t.value or None, "effect": eks_effect(t)} for t in pool.taints] or None,
                tags=pool_tags(environment, pool),
            )
            group.override_logical_id(f"node_group_{pool.name.replace('-', '_')}")
        TerraformOutput(self, "cluster_name", value=cluster.name).override_logical_id("cluster_name")
        TerraformOutput(self, "cluster_endpoint", value=cluster.endpoint).override_logical_id("cluster_endpoint")
