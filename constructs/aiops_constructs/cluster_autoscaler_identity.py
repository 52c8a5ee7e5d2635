"""Who cluster-autoscaler runs as on EKS, shared by both sides so they cannot disagree.

The Kubernetes side (k8s/cluster_autoscaler.py) creates this service account in this
namespace; the Terraform side (terraform/eks/cluster_autoscaler_role.py) binds the IAM role to
exactly this pair with an EKS Pod Identity association. No ARN has to travel from Terraform's
outputs into the manifests.
"""

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
