"""The Kubernetes cluster autoscaler on EKS, finding the node groups by their tags."""

from __future__ import annotations

import re

from constructs import Construct

from aiops_constructs.cluster_autoscaler_identity import NAMESPACE, SERVICE_ACCOUNT
from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease

_EXPANDERS = ("random", "most-pods", "least-waste", "price", "priority", "least-nodes")


def auto_discovery_tags(cluster_name: str) -> list[str]:
    """Tag keys an autoscaling group must carry for the autoscaler to manage it."""
    return ["k8s.io/cluster-autoscaler/enabled", f"k8s.io/cluster-autoscaler/{cluster_name}"]


class ClusterAutoscaler(Construct):
    """The cluster-autoscaler HelmRelease for AWS, in kube-system.

    It discovers the node groups' autoscaling groups by the tags `auto_discovery_tags` names
    (the Terraform side puts them, and the node-template tags for scale-from-zero, on each
    group) and runs the autoscaler release that matches the cluster's minor version. Its AWS
    permissions come from the IAM role the EKS stack binds to this service account with EKS
    Pod Identity (see cluster_autoscaler_identity.py), so the service account needs no
    role annotation.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        region: str,
        kubernetes_version: str,
        expander: str = "least-waste",
        source: ChartSource = charts.CLUSTER_AUTOSCALER,
        image_tags: dict[str, str] = charts.CLUSTER_AUTOSCALER_IMAGE_TAGS,
    ) -> None:
        super().__init__(scope, id)
        if kubernetes_version not in image_tags:
            raise ValueError(
                f"ClusterAutoscaler: no cluster-autoscaler release is pinned for Kubernetes {kubernetes_version} "
                f"(pinned: {', '.join(sorted(image_tags))}); its minor must match the cluster's, add one to CLUSTER_AUTOSCALER_IMAGE_TAGS"
            )
        if expander not in _EXPANDERS:
            raise ValueError(f"ClusterAutoscaler: expander '{expander}' is not one of {', '.join(_EXPANDERS)}")
        if not re.match(r"^[a-z]{2}(-[a-z]+)+-[0-9]$", region):
            raise ValueError(f"ClusterAutoscaler: region '{region}' is not an AWS region like us-east-1")
        HelmChartRelease(
            self,
            "release",
            release="cluster-autoscaler",
            namespace=NAMESPACE,
            create_namespace=False,
            source=source,
            values={
                "cloudProvider": "aws",
                "awsRegion": region,
                "autoDiscovery": {"clusterName": cluster_name, "tags": auto_discovery_tags(cluster_name)},
                "image": {"tag": image_tags[kubernetes_version]},
                "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
                "extraArgs": {
                    "expander": expander,
                    # GPU pools in several zones are one pool to the autoscaler, kept even.
                    "balance-similar-node-groups": True,
                    "skip-nodes-with-local-storage": False,
                },
            },
        )
