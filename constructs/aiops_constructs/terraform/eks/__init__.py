"""EKS: one construct per part (network, roles, control plane, node group, autoscaling-group
tags, cluster-autoscaler role), composed by `cluster.EksCluster`. Importing any of them loads
the AWS provider bindings."""
