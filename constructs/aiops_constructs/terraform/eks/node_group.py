"""One EKS managed node group: a node pool of the model, in the EKS API's spelling."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn import ITerraformDependable, TerraformResourceLifecycle
from cdktn_provider_aws.eks_node_group import EksNodeGroup as EksNodeGroupResource
from cdktn_provider_aws.eks_node_group import EksNodeGroupScalingConfig, EksNodeGroupTaint
from constructs import Construct

from aiops.model import NodePool
from aiops.model.catalog import load_catalog
from aiops.model.gpu_sharing import node_labels as sharing_labels
from aiops_constructs.terraform.props import check_pool, terraform_id
from aiops_constructs.terraform.spelling import eks_effect

# Amazon Linux 2023 AMIs; the NVIDIA variant ships the GPU driver and container toolkit.
AMI_TYPE_CPU = "AL2023_x86_64_STANDARD"
AMI_TYPE_GPU = "AL2023_x86_64_NVIDIA"

# cluster-autoscaler's GPU label on AWS (cloudprovider/aws/README.md, "Special note on GPU
# instances"): with it, the autoscaler treats a new GPU node as not ready until the device
# plugin advertises its GPUs, instead of scaling up again in the meantime.
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"


def gpus_per_node(pool: NodePool) -> int:
    """GPUs on one node of an EKS pool, which its instance type decides (from the catalog)."""
    machine = load_catalog().instance_type("aws", pool.instance_type)
    return machine.gpu.count if machine and machine.gpu else 0


def accelerator_label_value(pool: NodePool) -> str | None:
    """`nvidia-tesla-v100` for a p3: the autoscaler README's naming (P2 -> nvidia-tesla-k80)."""
    machine = load_catalog().instance_type("aws", pool.instance_type)
    return f"nvidia-tesla-{machine.gpu.model.lower()}" if machine and machine.gpu else None


def eks_node_labels(pool: NodePool) -> dict[str, str]:
    """The labels EKS puts on the pool's nodes: the model's, plus the accelerator label on GPU
    pools and the GPU operator's sharing config label (aiops.model.gpu_sharing)."""
    accelerator = accelerator_label_value(pool)
    return {**pool.labels, **({ACCELERATOR_LABEL: accelerator} if accelerator else {}), **sharing_labels(*pool.sharing())}


def node_group_id(pool: NodePool) -> str:
    return terraform_id("node_group", pool.name)


@dataclass(frozen=True)
class EksNodeGroupProps:
    cluster_name: str
    pool: NodePool
    subnet_ids: list[str]
    node_role_arn: str
    tags: dict[str, str]
    depends_on: list[ITerraformDependable] = field(default_factory=list)  # e.g. the node role's policy attachments


class EksNodeGroup(Construct):
    """`aws_eks_node_group`: instance type, sizes, labels and taints of one pool.

    The desired size is where the group starts: afterwards cluster-autoscaler owns it, so
    Terraform ignores changes to it (otherwise every plan would undo the autoscaler's work).
    """

    def __init__(self, scope: Construct, id: str, *, props: EksNodeGroupProps) -> None:
        super().__init__(scope, id)
        pool = props.pool
        check_pool(self, "aws", pool)
        self.pool = pool
        self.gpus_per_node = gpus_per_node(pool)
        self.node_labels = eks_node_labels(pool)
        self.group = EksNodeGroupResource(
            self,
            "node-group",
            cluster_name=props.cluster_name,
            node_group_name=pool.name,
            node_role_arn=props.node_role_arn,
            subnet_ids=props.subnet_ids,
            # A spot pool may name interchangeable alternatives (same vCPUs, memory and GPUs, by the
            # catalog), so EC2 can draw on several spot capacity pools. EKS itself turns on
            # Capacity Rebalancing for spot groups and drains a node on its rebalance signal.
            instance_types=pool.instance_types,
            capacity_type="SPOT" if pool.spot else None,  # EKS defaults to ON_DEMAND
            # GPU pools default to 200 GiB (the model's diskSizeGib): EKS's 20 GiB does not hold
            # the NVIDIA AMI and a CUDA image, and a larger disk later replaces the group.
            disk_size=pool.disk_size("aws"),
            ami_type=AMI_TYPE_GPU if self.gpus_per_node else AMI_TYPE_CPU,
            scaling_config=EksNodeGroupScalingConfig(min_size=pool.min, desired_size=pool.desired, max_size=pool.max),
            labels=self.node_labels,
            taint=[EksNodeGroupTaint(key=t.key, value=t.value or None, effect=eks_effect(t)) for t in pool.taints] or None,
            tags=props.tags,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
            depends_on=props.depends_on,
        )
        self.group.override_logical_id(node_group_id(pool))

    @property
    def autoscaling_group_name(self) -> str:
        """The name of the EC2 autoscaling group EKS made for this node group (a Terraform reference)."""
        return self.group.resources.get(0).autoscaling_groups.get(0).name
