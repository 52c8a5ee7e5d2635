"""AKS: network, control plane with the system pool, user node pools, composed by
`cluster.AksCluster`. Importing any of them loads the azurerm provider bindings."""
