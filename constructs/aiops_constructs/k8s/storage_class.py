"""The default StorageClass of an EKS cluster: gp3 volumes from the EBS CSI driver.

AKS and GKE come with a default class backed by their disk CSI drivers (AKS `default`, Azure
Disk StandardSSD_LRS; GKE `standard-rwo`, pd-balanced), so claims there name no class. EKS
1.30 and later have none: this class, with the EBS CSI add-on on the Terraform side
(terraform/eks/ebs_csi_driver.py), is what lets Prometheus keep its data on EKS.
"""

from __future__ import annotations

import re

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class EbsDefaultStorageClass(Construct):
    """A default `StorageClass` of encrypted gp3 EBS volumes, bound where the pod lands.

    `WaitForFirstConsumer` creates each volume in the zone of the node that runs the pod (an
    EBS volume cannot be attached across zones); volumes can grow in place.
    """

    def __init__(self, scope: Construct, id: str, *, name: str = "gp3", volume_type: str = "gp3") -> None:
        super().__init__(scope, id)
        if not _NAME.match(name):
            raise ValueError(f"EbsDefaultStorageClass: name '{name}' is not a valid Kubernetes name")
        if volume_type not in ("gp3", "gp2", "io1", "io2", "st1", "sc1"):
            raise ValueError(f"EbsDefaultStorageClass: volume_type '{volume_type}' is not an EBS volume type (gp3, gp2, io1, io2, st1, sc1)")
        storage_class = ApiObject(
            self,
            "storage-class",
            api_version="storage.k8s.io/v1",
            kind="StorageClass",
            metadata={"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        )
        for key, value in (
            ("/provisioner", EBS_CSI_PROVISIONER),
            ("/parameters", {"type": volume_type, "encrypted": "true"}),
            ("/volumeBindingMode", "WaitForFirstConsumer"),
            ("/allowVolumeExpansion", True),
            ("/reclaimPolicy", "Delete"),
        ):
            storage_class.add_json_patch(JsonPatch.add(key, value))
