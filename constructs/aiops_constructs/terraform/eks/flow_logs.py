"""VPC flow logs of an EKS network, to a CloudWatch log group encrypted with the cluster's key.

Which pod or node talked to what (accepted and rejected) is what an incident review of a
multi-tenant cluster starts from; the VPC CNI gives pods VPC addresses, so the flow logs name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.flow_log import FlowLog
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from aiops_constructs.terraform.eks.control_plane import LOG_RETENTION_DAYS
from aiops_constructs.terraform.eks.roles import MAX_ROLE_NAME, service_trust
from aiops_constructs.terraform.props import InvalidProps

WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams")


def flow_log_group_name(cluster_name: str) -> str:
    return f"/aws/vpc/{cluster_name}/flow-logs"


@dataclass(frozen=True)
class EksFlowLogsProps:
    cluster_name: str
    vpc_id: str
    key_arn: str  # the cluster's KMS key (its policy lets CloudWatch Logs use it for this group)
    partition: DataAwsPartition
    tags: dict[str, str]


class EksFlowLogs(Construct):
    """`aws_flow_log` of all traffic, its log group, and the role VPC Flow Logs writes with."""

    def __init__(self, scope: Construct, id: str, *, props: EksFlowLogsProps) -> None:
        super().__init__(scope, id)
        role_name = f"{props.cluster_name}-flow-logs"
        if len(role_name) > MAX_ROLE_NAME:
            raise InvalidProps(self, "cluster_name", f"the role name '{role_name}' is longer than IAM's {MAX_ROLE_NAME} characters", "use a shorter environment name")
        group = CloudwatchLogGroup(self, "log-group", name=flow_log_group_name(props.cluster_name), retention_in_days=LOG_RETENTION_DAYS, kms_key_id=props.key_arn, tags=props.tags)
        group.override_logical_id("flow_logs")
        trust = service_trust(self, "flow_logs_trust", f"vpc-flow-logs.{props.partition.dns_suffix}", ("sts:AssumeRole",))
        write = DataAwsIamPolicyDocument(
            self,
            "write",
            statement=[DataAwsIamPolicyDocumentStatement(effect="Allow", actions=list(WRITE_ACTIONS), resources=[group.arn, f"{group.arn}:*"])],
        )
        write.override_logical_id("flow_logs_write")
        role = IamRole(self, "role", name=role_name, assume_role_policy=trust.json, tags=props.tags)
        role.override_logical_id("flow_logs")
        IamRolePolicy(self, "policy", name="write-flow-logs", role=role.name, policy=write.json).override_logical_id("flow_logs_write")
        FlowLog(self, "flow-log", vpc_id=props.vpc_id, traffic_type="ALL", log_destination_type="cloud-watch-logs", log_destination=group.arn, iam_role_arn=role.arn, tags=props.tags).override_logical_id("vpc")
