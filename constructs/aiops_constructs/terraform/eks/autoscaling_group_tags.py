"""Tags on the EC2 autoscaling group behind an EKS managed node group.

EKS does not copy a node group's tags to its autoscaling group, so two kinds of tags are put
there with `aws_autoscaling_group_tag`:

- cost-allocation tags, propagated to every instance the group launches, so the bill of each
  node names its environment, pool and cost centre;
- cluster-autoscaler's node-template tags, for pools that can scale from zero. With no node to
  look at, the autoscaler learns from them which labels, taints and GPUs a new node would have,
  and so whether a pending pod would fit (cluster-autoscaler cloudprovider/aws/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktn_provider_aws.autoscaling_group_tag import AutoscalingGroupTagA, AutoscalingGroupTagTag
from constructs import Construct

from aiops.model import Taint
from aiops_constructs.terraform.props import InvalidProps, terraform_id, unique_ids

AUTOSCALER_PREFIX = "k8s.io/cluster-autoscaler/"
GPU_RESOURCE = "nvidia.com/gpu"


def scale_from_zero_tags(labels: Mapping[str, str], taints: tuple[Taint, ...] | list[Taint], gpus: int, gpu_resource: str = GPU_RESOURCE) -> dict[str, str]:
    """The node-template tags of a pool that can be empty: its labels, taints and GPUs.

    Only node-template tags: the auto-discovery tags (`k8s.io/cluster-autoscaler/enabled` and
    `.../<cluster>`) are EKS's own, put on every managed node group's autoscaling group. Declaring
    them here too would make Terraform own them, and destroying these resources (when `min`
    rises above 0) would delete the tags cluster-autoscaler discovers the group by.
    Taints keep the Kubernetes spelling here (`true:NoSchedule`), not the EKS API's. `gpus` and
    `gpu_resource` are what a node advertises (time slices and MIG instances count, by name).
    """
    tags = {f"{AUTOSCALER_PREFIX}node-template/label/{key}": value for key, value in labels.items()}
    tags |= {f"{AUTOSCALER_PREFIX}node-template/taint/{t.key}": f"{t.value}:{t.effect}" for t in taints}
    if gpus:
        tags[f"{AUTOSCALER_PREFIX}node-template/resources/{gpu_resource}"] = str(gpus)
    return tags


@dataclass(frozen=True)
class AutoscalingGroupTagsProps:
    autoscaling_group_name: str  # usually a reference to the node group's autoscaling group
    tags: Mapping[str, str]
    propagate_at_launch: bool  # copy the tag to the instances the group launches
    logical_id: str  # prefix of the Terraform ids, e.g. "gpu_training_cost"


class AutoscalingGroupTags(Construct):
    """One `aws_autoscaling_group_tag` per tag."""

    def __init__(self, scope: Construct, id: str, *, props: AutoscalingGroupTagsProps) -> None:
        super().__init__(scope, id)
        if not props.tags:
            raise InvalidProps(self, "tags", "no tags to put on the autoscaling group", "pass at least one tag, or leave the construct out")
        ids = {key: terraform_id(props.logical_id, key.removeprefix(AUTOSCALER_PREFIX)) for key in props.tags}
        unique_ids(self, "tags", ids)
        for key, value in props.tags.items():
            AutoscalingGroupTagA(
                self,
                ids[key],
                autoscaling_group_name=props.autoscaling_group_name,
                tag=AutoscalingGroupTagTag(key=key, value=value, propagate_at_launch=props.propagate_at_launch),
            ).override_logical_id(ids[key])
