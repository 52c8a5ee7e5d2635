"""The KMS key of an EKS cluster: Kubernetes secrets (envelope encryption) and its control-plane logs.

The key policy follows the KMS developer guide: the account's root principal administers the
key (so IAM policies, not the key policy, decide who uses it), and CloudWatch Logs may use it
only for this cluster's two log groups (control plane, VPC flow logs). The cluster role gets the four actions EKS needs for
envelope encryption (EKS user guide, "Encrypt Kubernetes secrets with KMS").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.data_aws_region import DataAwsRegion
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from aiops_constructs.terraform.eks.control_plane import log_group_name
from aiops_constructs.terraform.eks.flow_logs import flow_log_group_name

CLUSTER_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey")
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
# 30 days, KMS's longest wait: a key deleted by mistake can be restored before the secrets it protects are lost.
DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class EksEncryptionKeyProps:
    cluster_name: str
    cluster_role_name: str  # the role EKS assumes; it gets permission to use the key
    partition: DataAwsPartition
    tags: dict[str, str]


class EksEncryptionKey(Construct):
    """`aws_kms_key` (rotated yearly), its alias, its policy, and the cluster role's permission to use it."""

    def __init__(self, scope: Construct, id: str, *, props: EksEncryptionKeyProps) -> None:
        super().__init__(scope, id)
        account = DataAwsCallerIdentity(self, "account")
        account.override_logical_id("current")
        region = DataAwsRegion(self, "region")
        region.override_logical_id("current")
        arn = f"arn:{props.partition.partition}"
        log_groups = [f"{arn}:logs:{region.region}:{account.account_id}:log-group:{name}" for name in (log_group_name(props.cluster_name), flow_log_group_name(props.cluster_name))]
        # Written as the key's own JSON, not an aws_iam_policy_document: in a key policy "*" is
        # the key itself, which scanners of IAM policy documents would read as every resource.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"{arn}:iam::{account.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "ClusterLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region.region}.{props.partition.dns_suffix}"},
                    "Action": list(LOGS_KEY_ACTIONS),
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
            ],
        }
        self.key = KmsKey(
            self,
            "key",
            description=f"EKS {props.cluster_name}: Kubernetes secrets and control-plane logs",
            enable_key_rotation=True,  # a new key version every year; old ones still decrypt
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=json.dumps(policy),
            tags=props.tags,
        )
        self.key.override_logical_id("cluster_key")
        KmsAlias(self, "alias", name=f"alias/eks/{props.cluster_name}", target_key_id=self.key.key_id).override_logical_id("cluster_key_alias")
        usage = DataAwsIamPolicyDocument(
            self,
            "usage",
            statement=[DataAwsIamPolicyDocumentStatement(sid="EnvelopeEncryption", effect="Allow", actions=list(CLUSTER_KEY_ACTIONS), resources=[self.key.arn])],
        )
        usage.override_logical_id("cluster_key_usage")
        self.usage = IamRolePolicy(self, "cluster-role-key", name="secrets-encryption", role=props.cluster_role_name, policy=usage.json)
        self.usage.override_logical_id("cluster_role_key")
