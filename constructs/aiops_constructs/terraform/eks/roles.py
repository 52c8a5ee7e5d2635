"""IAM roles that an AWS service assumes (the EKS control plane, the EC2 nodes), with their
AWS-managed policies attached.

ARNs and service principals are built from the `aws_partition` data source, so the same JSON
works in the aws, aws-cn and aws-us-gov partitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from aiops_constructs.terraform.props import InvalidProps, terraform_id

MAX_ROLE_NAME = 64  # IAM's limit on role names

# What each role needs, per the EKS user guide ("Amazon EKS cluster IAM role", "Amazon EKS node IAM role").
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
CLUSTER_TRUST_ACTIONS = ("sts:AssumeRole", "sts:TagSession")
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


def service_trust(scope: Construct, logical_id: str, principal: str, actions: tuple[str, ...] | list[str] = ("sts:AssumeRole",)) -> DataAwsIamPolicyDocument:
    """The trust policy of a role that one AWS service principal may assume (with `actions`)."""
    trust = DataAwsIamPolicyDocument(
        scope,
        "trust",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=list(actions),
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[principal])],
            )
        ],
    )
    trust.override_logical_id(logical_id)
    return trust


@dataclass(frozen=True)
class ServiceRoleProps:
    role_name: str  # the IAM role's name
    service: str  # the service that assumes it, without the domain: "eks", "ec2"
    managed_policies: tuple[str, ...]  # names of AWS-managed policies, e.g. "AmazonEKSClusterPolicy"
    partition: DataAwsPartition
    logical_id: str  # prefix of every Terraform id this construct makes, e.g. "cluster_role"
    trust_actions: tuple[str, ...] = ("sts:AssumeRole",)


class ServiceRole(Construct):
    """An IAM role a service assumes, and one attachment per AWS-managed policy."""

    def __init__(self, scope: Construct, id: str, *, props: ServiceRoleProps) -> None:
        super().__init__(scope, id)
        if len(props.role_name) > MAX_ROLE_NAME:
            raise InvalidProps(self, "role_name", f"'{props.role_name}' is longer than IAM's {MAX_ROLE_NAME} characters", "use a shorter environment name")
        if not props.managed_policies:
            raise InvalidProps(self, "managed_policies", "a service role needs at least one policy", "name the AWS-managed policies the service needs")
        trust = service_trust(self, f"{props.logical_id}_trust", f"{props.service}.{props.partition.dns_suffix}", props.trust_actions)
        self.role = IamRole(self, "role", name=props.role_name, assume_role_policy=trust.json)
        self.role.override_logical_id(props.logical_id)
        self.attachments = []
        for policy in props.managed_policies:
            attachment = IamRolePolicyAttachment(
                self, policy, role=self.role.name, policy_arn=f"arn:{props.partition.partition}:iam::aws:policy/{policy}"
            )
            attachment.override_logical_id(terraform_id(props.logical_id, policy))
            self.attachments.append(attachment)
