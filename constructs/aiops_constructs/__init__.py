"""The construct library of aiops-gitops.

`k8s` holds cdk8s constructs (Kubernetes manifests), `terraform` holds CDK Terrain constructs
(Terraform JSON for EKS, AKS and GKE). Both take the typed environment model as props, so node
pools and the workloads that must fit on them come from one source.

This package lives in the top-level `constructs/` folder, which is deliberately not a Python
package itself: a `constructs/__init__.py` would shadow the `constructs` library that cdk8s
and cdktn are built on for any Python started at the repository root.
"""

import aiops  # noqa: F401  (puts the project's Node.js on PATH before jsii starts)
