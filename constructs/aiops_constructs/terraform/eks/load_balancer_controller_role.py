"""The IAM role of the AWS Load Balancer Controller's service account, bound with EKS Pod Identity.

Like cluster-autoscaler's (cluster_autoscaler_role.py): only EKS Pod Identity can assume it, and
the association names the namespace and service account the Kubernetes side creates
(aiops_constructs/load_balancer_controller_identity.py), so no ARN travels into a manifest.

The permissions are this project's own, narrower than the controller's published example
(docs/install/iam_policy.json), which leaves most write actions unconditioned:

- reads that IAM cannot scope (EC2 and ELB Describe calls, ACM's list and describe for
  certificate discovery) on every resource;
- the service-linked role of Elastic Load Balancing, and nothing else of IAM;
- load balancers, target groups and security groups created only with this cluster's tag
  (`elbv2.k8s.aws/cluster: <cluster>`, which the controller puts on everything it creates),
  and changed or deleted only when they carry it;
- listeners and rules on application load balancers (their own ARNs cannot carry a condition
  on the load balancer's tags), and ingress rules on security groups: with `target-type: ip`
  the controller opens the pods' security group to its load balancer.

Shield, WAF and WAFv2 are switched off in the chart's values and not allowed here.
"""

from __future__ import annotations

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

from aiops_constructs import load_balancer_controller_identity as identity
from aiops_constructs.terraform.eks.cluster_autoscaler_role import POD_IDENTITY_PRINCIPAL
from aiops_constructs.terraform.eks.roles import MAX_ROLE_NAME, service_trust
from aiops_constructs.terraform.props import InvalidProps

READ_ACTIONS = (
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeTags",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:DescribeCapacityReservation",
    "acm:ListCertificates",
)
OWN_RESOURCE_ACTIONS = (  # on load balancers and target groups this cluster's controller created
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:RemoveTags",
)
LISTENER_ACTIONS = (
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:DeleteRule",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:SetRulePriorities",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:RemoveTags",
)
OWN_SECURITY_GROUP_ACTIONS = ("ec2:DeleteSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags")
SECURITY_GROUP_RULE_ACTIONS = ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")
ELB_SERVICE = "elasticloadbalancing.amazonaws.com"


@dataclass(frozen=True)
class LoadBalancerControllerRoleProps:
    cluster_name: str  # a plain name: the value of the controller's cluster tag in the conditions
    cluster: str  # the cluster's name as Terraform knows it (a reference), for the association
    partition: str  # the ARN partition (a reference to aws_partition)
    pod_identity_agent: EksAddon  # the add-on the association needs (cluster_autoscaler_role.py installs it)


class LoadBalancerControllerRole(Construct):
    """A role only EKS Pod Identity can assume, for kube-system/aws-load-balancer-controller."""

    def __init__(self, scope: Construct, id: str, *, props: LoadBalancerControllerRoleProps) -> None:
        super().__init__(scope, id)
        role_name = f"{props.cluster_name}-load-balancer-controller"
        if len(role_name) > MAX_ROLE_NAME:
            raise InvalidProps(self, "cluster_name", f"the role name '{role_name}' is longer than IAM's {MAX_ROLE_NAME} characters", "use a shorter environment name")
        arn = f"arn:{props.partition}"
        tagged = f"aws:ResourceTag/{identity.CLUSTER_TAG}"
        requested = f"aws:RequestTag/{identity.CLUSTER_TAG}"

        def this_cluster(variable: str) -> list[DataAwsIamPolicyDocumentStatementCondition]:
            return [DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable=variable, values=[props.cluster_name])]

        load_balancers = [f"{arn}:elasticloadbalancing:*:*:loadbalancer/app/*/*", f"{arn}:elasticloadbalancing:*:*:targetgroup/*/*"]
        security_groups = [f"{arn}:ec2:*:*:security-group/*"]
        statement = [
            DataAwsIamPolicyDocumentStatement(sid="Read", effect="Allow", actions=list(READ_ACTIONS), resources=["*"]),
            DataAwsIamPolicyDocumentStatement(sid="DiscoverCertificates", effect="Allow", actions=["acm:DescribeCertificate"],
                                              resources=[f"{arn}:acm:*:*:certificate/*"]),
            DataAwsIamPolicyDocumentStatement(
                sid="LoadBalancingServiceLinkedRole", effect="Allow", actions=["iam:CreateServiceLinkedRole"],
                resources=[f"{arn}:iam::*:role/aws-service-role/{ELB_SERVICE}/*"],
                condition=[DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable="iam:AWSServiceName", values=[ELB_SERVICE])],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="CreateTaggedLoadBalancers", effect="Allow",
                actions=["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags"],
                resources=load_balancers, condition=this_cluster(requested),
            ),
            DataAwsIamPolicyDocumentStatement(sid="ChangeOwnLoadBalancers", effect="Allow", actions=list(OWN_RESOURCE_ACTIONS),
                                              resources=load_balancers, condition=this_cluster(tagged)),
            DataAwsIamPolicyDocumentStatement(
                sid="ListenersAndRules", effect="Allow", actions=list(LISTENER_ACTIONS),
                resources=[f"{arn}:elasticloadbalancing:*:*:loadbalancer/app/*/*", f"{arn}:elasticloadbalancing:*:*:listener/app/*/*/*",
                           f"{arn}:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="CreateTaggedSecurityGroups", effect="Allow", actions=["ec2:CreateSecurityGroup", "ec2:CreateTags"],
                resources=security_groups, condition=this_cluster(requested),
            ),
            DataAwsIamPolicyDocumentStatement(sid="SecurityGroupsInTheVpc", effect="Allow", actions=["ec2:CreateSecurityGroup", "ec2:GetSecurityGroupsForVpc"],
                                              resources=[f"{arn}:ec2:*:*:vpc/*"]),
            DataAwsIamPolicyDocumentStatement(sid="ChangeOwnSecurityGroups", effect="Allow", actions=list(OWN_SECURITY_GROUP_ACTIONS),
                                              resources=security_groups, condition=this_cluster(tagged)),
            DataAwsIamPolicyDocumentStatement(sid="OpenPodsToTheLoadBalancer", effect="Allow", actions=list(SECURITY_GROUP_RULE_ACTIONS), resources=security_groups),
        ]
        permissions = DataAwsIamPolicyDocument(self, "permissions", statement=statement)
        permissions.override_logical_id("load_balancer_controller_permissions")
        trust = service_trust(self, "load_balancer_controller_trust", POD_IDENTITY_PRINCIPAL, ("sts:AssumeRole", "sts:TagSession"))
        self.role = IamRole(self, "role", name=role_name, assume_role_policy=trust.json)
        self.role.override_logical_id("load_balancer_controller")
        IamRolePolicy(self, "policy", name="aws-load-balancer-controller", role=self.role.name, policy=permissions.json).override_logical_id("load_balancer_controller_policy")
        association = EksPodIdentityAssociation(
            self, "association", cluster_name=props.cluster, namespace=identity.NAMESPACE, service_account=identity.SERVICE_ACCOUNT,
            role_arn=self.role.arn, depends_on=[props.pod_identity_agent],
        )
        association.override_logical_id("load_balancer_controller_pod_identity")
