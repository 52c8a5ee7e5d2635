"""The AWS Load Balancer Controller on EKS: it turns the serving Ingress (class `alb`) into an ALB.

EKS itself serves Services of type LoadBalancer without any controller (with the cloud
provider's legacy load balancers), but not Ingress, and not a certificate found by host name:
the ALB controller attaches the ACM certificate whose name matches the Ingress's TLS host
("Certificate Discovery", docs/guide/ingress/cert_discovery.md of the controller), so the
certificate the traffic stack issues never has to be copied into a manifest as an ARN.

Its AWS permissions come from the IAM role the EKS stack binds to this service account with
EKS Pod Identity (terraform/eks/load_balancer_controller_role.py), so the service account has
no role annotation. Values are the chart's (helm/aws-load-balancer-controller/values.yaml at
v3.5.0): `clusterName` (the tag it puts on what it creates, elbv2.k8s.aws/cluster), `region`
and `vpcTags` (the VPC found by its Name tag, so the pods need neither the instance metadata
service nor a VPC id from Terraform's outputs); Shield, WAF and WAFv2 are off, since no
Ingress asks for them and the role does not allow them.

Its chart is not in this project's offline chart mirror (charts.NOT_IN_MIRROR): `aiops
simulate` reports the release as not rendered.
"""

from __future__ import annotations

import re

from constructs import Construct

from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.load_balancer_controller_identity import NAMESPACE, SERVICE_ACCOUNT


class LoadBalancerController(Construct):
    """The aws-load-balancer-controller HelmRelease, in kube-system."""

    def __init__(self, scope: Construct, id: str, *, cluster_name: str, region: str, vpc_name: str,
                 source: ChartSource = charts.AWS_LOAD_BALANCER_CONTROLLER) -> None:
        super().__init__(scope, id)
        if not re.match(r"^[a-z]{2}(-[a-z]+)+-[0-9]$", region):
            raise ValueError(f"LoadBalancerController: region '{region}' is not an AWS region like us-east-1")
        if not cluster_name or not vpc_name:
            raise ValueError("LoadBalancerController: give the EKS cluster's name and its VPC's Name tag")
        HelmChartRelease(
            self,
            "release",
            release="aws-load-balancer-controller",
            namespace=NAMESPACE,
            create_namespace=False,
            source=source,
            values={
                "clusterName": cluster_name,
                "region": region,
                "vpcTags": {"Name": vpc_name},
                "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
                "enableShield": False,
                "enableWaf": False,
                "enableWafv2": False,
            },
        )
