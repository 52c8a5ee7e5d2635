"""The EKS control plane and the OIDC provider that lets service accounts assume IAM roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdktn import ITerraformDependable
from cdktn_provider_aws.eks_cluster import EksCluster, EksClusterAccessConfig, EksClusterVpcConfig
from cdktn_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from aiops_constructs.terraform.props import InvalidProps

# What service-account tokens are issued for when a pod assumes an IAM role (IRSA).
STS_AUDIENCE = "sts.amazonaws.com"
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")  # the EKS API's rule for cluster names


@dataclass(frozen=True)
class EksControlPlaneProps:
    cluster_name: str
    kubernetes_version: str
    subnet_ids: list[str]  # private subnets, in at least two zones
    role_arn: str
    tags: dict[str, str]
    depends_on: list[ITerraformDependable] = field(default_factory=list)  # e.g. the role's policy attachments


class EksControlPlane(Construct):
    """`aws_eks_cluster` with private and public endpoints, and its IAM OIDC provider."""

    def __init__(self, scope: Construct, id: str, *, props: EksControlPlaneProps) -> None:
        super().__init__(scope, id)
        if not _CLUSTER_NAME.match(props.cluster_name):
            raise InvalidProps(self, "cluster_name", f"'{props.cluster_name}' is not a valid EKS cluster name", "use up to 100 letters, digits, '-' and '_', starting with a letter or digit")
        if len(props.subnet_ids) < 2:
            raise InvalidProps(self, "subnet_ids", "EKS needs subnets in at least two zones", "pass the private subnets of two or more zones")
        self.cluster = EksCluster(
            self,
            "cluster",
            name=props.cluster_name,
            version=props.kubernetes_version,
            role_arn=props.role_arn,
            vpc_config=EksClusterVpcConfig(subnet_ids=props.subnet_ids, endpoint_private_access=True, endpoint_public_access=True),
            # Access entries (not the aws-auth ConfigMap) decide who may use the cluster; whoever
            # applies the stack becomes its first administrator.
            access_config=EksClusterAccessConfig(authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
            tags=props.tags,
            depends_on=props.depends_on,
        )
        self.cluster.override_logical_id("cluster")
        self.oidc_issuer = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(self, "oidc-provider", url=self.oidc_issuer, client_id_list=[STS_AUDIENCE], tags=props.tags)
        self.oidc_provider.override_logical_id("oidc_provider")
