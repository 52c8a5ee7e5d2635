"""Who the AWS Load Balancer Controller runs as on EKS, and how its load balancer is found again.

Shared by the three places that must agree, so that no name or ARN travels by hand:

- the Kubernetes side (k8s/load_balancer_controller.py) installs the controller with this
  service account in this namespace, and the serving Ingress (k8s/serving_ingress.py) joins
  the IngressGroup `INGRESS_GROUP`;
- the EKS stack (terraform/eks/load_balancer_controller_role.py) binds the controller's IAM
  role to exactly this namespace and service account with EKS Pod Identity;
- the primary's traffic stack (terraform/traffic/failover_dns.py) looks the ALB up by the tags
  the controller puts on every load balancer it creates. The controller's documentation
  (docs/guide/ingress/annotations.md, "Resource Tags", v3.5.0) lists `elbv2.k8s.aws/cluster:
  ${clusterName}` and `ingress.k8s.aws/stack: ${stackID}`, and says "The ALB for an
  IngressGroup is found by searching for an AWS tag `ingress.k8s.aws/stack` tag with the name
  of the IngressGroup as its value" (its `group.name` annotation).
"""

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
INGRESS_GROUP = "aiops-serving"  # one ALB for a cluster's serving Ingresses
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
STACK_TAG = "ingress.k8s.aws/stack"


def load_balancer_tags(cluster_name: str, group: str = INGRESS_GROUP) -> dict[str, str]:
    """The tags of the ALB the controller of `cluster_name` creates for the IngressGroup `group`."""
    return {CLUSTER_TAG: cluster_name, STACK_TAG: group}
