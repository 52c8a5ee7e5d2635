"""GKE: network, node service account, control plane, node pools, composed by
`cluster.GkeCluster`. Importing any of them loads the google provider bindings."""
