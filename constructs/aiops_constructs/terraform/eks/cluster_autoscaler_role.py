"""The IAM role of cluster-autoscaler's service account, bound with EKS Pod Identity.

EKS Pod Identity (the `eks-pod-identity-agent` add-on and an association of role to
namespace/service account) gives the pod the role's credentials without an annotation on the
service account, so the Kubernetes manifests need no ARN from Terraform's outputs; both sides
take the namespace and service account from aiops_constructs/cluster_autoscaler_identity.py.

Permissions follow cluster-autoscaler's AWS README: read access to autoscaling groups, launch
templates, instance types and node groups everywhere, and the two actions that change capacity
only on autoscaling groups tagged as this cluster's (`k8s.io/cluster-autoscaler/<cluster>`),
which EKS puts on every managed node group's autoscaling group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktn_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktn_provider_aws.eks_addon import EksAddon
from cdktn_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from aiops_constructs import cluster_autoscaler_identity
from aiops_constructs.terraform.eks.autoscaling_group_tags import AUTOSCALER_PREFIX
from aiops_constructs.terraform.eks.roles import MAX_ROLE_NAME, service_trust
from aiops_constructs.terraform.props import InvalidProps

READ_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
NODEGROUP_ACTIONS = ("eks:DescribeNodegroup",)  # the one read action IAM can scope: to this cluster's node groups
SCALING_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_AGENT = "eks-pod-identity-agent"
_KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class ClusterAutoscalerRoleProps:
    cluster_name: str  # a plain name: it becomes part of a tag key in the policy
    cluster: str  # the cluster's name as Terraform knows it (a reference), for the association
    partition: str  # the ARN partition (a reference to aws_partition), for the scoped statements
    namespace: str = cluster_autoscaler_identity.NAMESPACE
    service_account: str = cluster_autoscaler_identity.SERVICE_ACCOUNT


class ClusterAutoscalerRole(Construct):
    """A role that only EKS Pod Identity can assume, bound to one service account of one cluster."""

    def __init__(self, scope: Construct, id: str, *, props: ClusterAutoscalerRoleProps) -> None:
        super().__init__(scope, id)
        for name in ("namespace", "service_account"):
            value = getattr(props, name)
            if not _KUBERNETES_NAME.match(value):
                raise InvalidProps(self, name, f"'{value}' is not a Kubernetes object name", "use lowercase letters, digits and '-'")
        role_name = f"{props.cluster_name}-cluster-autoscaler"
        if len(role_name) > MAX_ROLE_NAME:
            raise InvalidProps(self, "cluster_name", f"the role name '{role_name}' is longer than IAM's {MAX_ROLE_NAME} characters", "use a shorter environment name")
        trust = service_trust(self, "cluster_autoscaler_trust", POD_IDENTITY_PRINCIPAL, ("sts:AssumeRole", "sts:TagSession"))
        permissions = DataAwsIamPolicyDocument(
            self,
            "permissions",
            statement=[
                # Describe and Get actions that IAM cannot scope to a resource.
                DataAwsIamPolicyDocumentStatement(sid="Read", effect="Allow", actions=list(READ_ACTIONS), resources=["*"]),
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadThisClustersNodeGroups",
                    effect="Allow",
                    actions=list(NODEGROUP_ACTIONS),
                    resources=[f"arn:{props.partition}:eks:*:*:nodegroup/{props.cluster_name}/*/*"],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="ScaleThisClustersGroups",
                    effect="Allow",
                    actions=list(SCALING_ACTIONS),
                    resources=[f"arn:{props.partition}:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable=f"aws:ResourceTag/{AUTOSCALER_PREFIX}{props.cluster_name}", values=["owned"]
                        )
                    ],
                ),
            ],
        )
        permissions.override_logical_id("cluster_autoscaler_permissions")
        self.role = IamRole(self, "role", name=role_name, assume_role_policy=trust.json)
        self.role.override_logical_id("cluster_autoscaler")
        IamRolePolicy(self, "policy", name="cluster-autoscaler", role=self.role.name, policy=permissions.json).override_logical_id("cluster_autoscaler_policy")
        agent = EksAddon(self, "pod-identity-agent", cluster_name=props.cluster, addon_name=POD_IDENTITY_AGENT)
        agent.override_logical_id("pod_identity_agent")
        self.pod_identity_agent = agent  # other Pod Identity roles (the EBS CSI driver's) need it too
        association = EksPodIdentityAssociation(
            self,
            "association",
            cluster_name=props.cluster,
            namespace=props.namespace,
            service_account=props.service_account,
            role_arn=self.role.arn,
            depends_on=[agent],
        )
        association.override_logical_id("cluster_autoscaler_pod_identity")
