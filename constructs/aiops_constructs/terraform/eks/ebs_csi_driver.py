"""The EBS CSI driver add-on, so that PersistentVolumeClaims on EKS get volumes.

EKS 1.30 and later create no default StorageClass and no driver that could serve one (EKS user
guide, "Store Kubernetes volumes with Amazon EBS"); without this add-on a claim stays Pending
forever, Prometheus' included. The driver's controller (service account
`kube-system/ebs-csi-controller-sa`) gets the AWS-managed `AmazonEBSCSIDriverPolicy` through
EKS Pod Identity, as cluster-autoscaler does, so no ARN has to reach the manifests. The
StorageClass itself (gp3, encrypted) is a Kubernetes object: see k8s/storage_class.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn import ITerraformDependable
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.eks_addon import EksAddon, EksAddonPodIdentityAssociation
from constructs import Construct

from aiops_constructs.terraform.eks.roles import ServiceRole, ServiceRoleProps

ADDON = "aws-ebs-csi-driver"
CONTROLLER_SERVICE_ACCOUNT = "ebs-csi-controller-sa"  # the add-on's controller, in kube-system
POLICY = "service-role/AmazonEBSCSIDriverPolicy"


@dataclass(frozen=True)
class EbsCsiDriverProps:
    cluster_name: str  # a plain name, for the role's name
    cluster: str  # the cluster's name as Terraform knows it (a reference)
    partition: DataAwsPartition
    depends_on: list[ITerraformDependable] = field(default_factory=list)  # the Pod Identity agent, the node groups


class EbsCsiDriver(Construct):
    """`aws_eks_addon` aws-ebs-csi-driver and its Pod Identity role."""

    def __init__(self, scope: Construct, id: str, *, props: EbsCsiDriverProps) -> None:
        super().__init__(scope, id)
        self.role = ServiceRole(
            self,
            "role",
            props=ServiceRoleProps(
                role_name=f"{props.cluster_name}-ebs-csi",
                service="pods.eks",
                managed_policies=(POLICY,),
                partition=props.partition,
                logical_id="ebs_csi_role",
                trust_actions=("sts:AssumeRole", "sts:TagSession"),
            ),
        ).role
        addon = EksAddon(
            self,
            "addon",
            cluster_name=props.cluster,
            addon_name=ADDON,
            pod_identity_association=[EksAddonPodIdentityAssociation(role_arn=self.role.arn, service_account=CONTROLLER_SERVICE_ACCOUNT)],
            depends_on=props.depends_on,
        )
        addon.override_logical_id("ebs_csi_driver")
