"""The EKS control plane: endpoint access, secrets encryption, audit logs, access entries,
the VPC CNI with network policy, and the OIDC provider that lets service accounts assume IAM roles.

Each setting carries its reason beside it; the key and its policy are in encryption.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cdktn import ITerraformDependable
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.eks_access_entry import EksAccessEntry
from cdktn_provider_aws.eks_access_policy_association import EksAccessPolicyAssociation, EksAccessPolicyAssociationAccessScope
from cdktn_provider_aws.eks_addon import EksAddon
from cdktn_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterVpcConfig,
)
from cdktn_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from aiops.model.control_plane import ControlPlane, admin_violation
from aiops_constructs.terraform.props import InvalidProps, terraform_id

# What service-account tokens are issued for when a pod assumes an IAM role (IRSA).
STS_AUDIENCE = "sts.amazonaws.com"
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")  # the EKS API's rule for cluster names

# Every control-plane log type. audit: who did what through the API; api and authenticator:
# requests and IAM identities; scheduler and controllerManager: why a GPU pod stays Pending or a
# node is not replaced. EKS sends them to /aws/eks/<cluster>/cluster.
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# A year of logs: what audits of a multi-tenant platform ask for (and CloudWatch's default is forever).
LOG_RETENTION_DAYS = 365
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
VPC_CNI = "vpc-cni"


def log_group_name(cluster_name: str) -> str:
    """The log group EKS writes control-plane logs to (EKS user guide, "Send control plane logs to CloudWatch Logs")."""
    return f"/aws/eks/{cluster_name}/cluster"


@dataclass(frozen=True)
class EksControlPlaneProps:
    cluster_name: str
    kubernetes_version: str
    subnet_ids: list[str]  # private subnets, in at least two zones
    role_arn: str
    tags: dict[str, str]
    key_arn: str  # the KMS key for Kubernetes secrets and the control-plane logs (encryption.py)
    partition: DataAwsPartition
    access: ControlPlane = ControlPlane()  # endpoint and admins, from the environment
    depends_on: list[ITerraformDependable] = field(default_factory=list)  # e.g. the role's policy attachments


class EksControlPlane(Construct):
    """`aws_eks_cluster` and what hardens it: its log group, access entries, VPC CNI add-on, OIDC provider."""

    def __init__(self, scope: Construct, id: str, *, props: EksControlPlaneProps) -> None:
        super().__init__(scope, id)
        if not _CLUSTER_NAME.match(props.cluster_name):
            raise InvalidProps(self, "cluster_name", f"'{props.cluster_name}' is not a valid EKS cluster name", "use up to 100 letters, digits, '-' and '_', starting with a letter or digit")
        if len(props.subnet_ids) < 2:
            raise InvalidProps(self, "subnet_ids", "EKS needs subnets in at least two zones", "pass the private subnets of two or more zones")
        admin = admin_violation("aws", props.access.admins)
        if admin is not None:
            raise InvalidProps(self, f"access.admins[{admin[0]}]", admin[1], admin[2])
        access = props.access
        # Created before the cluster, so EKS writes into a group with our retention and key
        # instead of creating one that keeps logs forever, unencrypted.
        logs = CloudwatchLogGroup(self, "log-group", name=log_group_name(props.cluster_name), retention_in_days=LOG_RETENTION_DAYS, kms_key_id=props.key_arn, tags=props.tags)
        logs.override_logical_id("cluster_logs")
        self.cluster = EksCluster(
            self,
            "cluster",
            name=props.cluster_name,
            version=props.kubernetes_version,
            role_arn=props.role_arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=props.subnet_ids,
                # Nodes and pods reach the API inside the VPC; from outside only the environment's
                # authorizedCidrs can, and only when it asks for a public endpoint.
                endpoint_private_access=True,
                endpoint_public_access=access.public,
                public_access_cidrs=access.public_cidrs or None,
            ),
            # Secrets are envelope-encrypted with our KMS key, so a copy of etcd reveals nothing.
            encryption_config=EksClusterEncryptionConfig(provider=EksClusterEncryptionConfigProvider(key_arn=props.key_arn), resources=["secrets"]),
            enabled_cluster_log_types=list(LOG_TYPES),
            # Access entries (not the aws-auth ConfigMap) decide who may use the cluster, and the
            # stack names its admins: nobody is an administrator just for having applied it.
            access_config=EksClusterAccessConfig(authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False),
            tags=props.tags,
            depends_on=[*props.depends_on, logs],
        )
        self.cluster.override_logical_id("cluster")
        for index, principal in enumerate(access.admins):
            logical = terraform_id("admin", str(index))
            entry = EksAccessEntry(self, f"admin-{index}", cluster_name=self.cluster.name, principal_arn=principal, type="STANDARD", tags=props.tags)
            entry.override_logical_id(f"{logical}_access_entry")
            EksAccessPolicyAssociation(
                self,
                f"admin-{index}-policy",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                policy_arn=f"arn:{props.partition.partition}:eks::aws:cluster-access-policy/{ADMIN_POLICY}",
                access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
                depends_on=[entry],
            ).override_logical_id(f"{logical}_cluster_admin")
        # The VPC CNI enforces NetworkPolicy (its network policy agent, eBPF) only when asked to;
        # the team namespaces' policies would otherwise be accepted and ignored.
        cni = EksAddon(
            self,
            "vpc-cni",
            cluster_name=self.cluster.name,
            addon_name=VPC_CNI,
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            # Take over the settings of the CNI that EKS installs by itself.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
        )
        cni.override_logical_id("vpc_cni")
        self.oidc_issuer = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(self, "oidc-provider", url=self.oidc_issuer, client_id_list=[STS_AUDIENCE], tags=props.tags)
        self.oidc_provider.override_logical_id("oidc_provider")
