"""Reading manifest trees: what validate, diff and flux check know about files on disk.

This layer reads files only (never the environment model), so it works on any tree, ours or
not: Kubernetes manifests (`manifests.py`), Terraform JSON (`terraform.py`), and the node
pools that Terraform declares (`pools.py`).
"""
