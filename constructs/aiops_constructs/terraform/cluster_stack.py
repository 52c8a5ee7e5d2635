"""The Terraform stack of one environment: network, cluster, node pools and roles, on its cloud."""

from __future__ import annotations

from cdktn import TerraformStack
from constructs import Construct

from aiops.model import Environment
from aiops_constructs.terraform.remote_backend import add_remote_backend

# The folder name of each cloud's stack under dist/<environment>/terraform/.
STACK_NAMES = {"aws": "eks", "azure": "aks", "gcp": "gke"}


class ClusterStack(TerraformStack):
    """One stack per environment, named after the cloud's managed Kubernetes service."""

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        self.stack_name = STACK_NAMES[environment.cloud]
        add_remote_backend(self, environment, self.stack_name)
        # Import the cloud's bindings only now: each costs seconds to load.
        if environment.cloud == "aws":
            from aiops_constructs.terraform.eks.cluster import EksCluster

            EksCluster(self, "eks", environment=environment)
        elif environment.cloud == "azure":
            from aiops_constructs.terraform.aks.cluster import AksCluster

            AksCluster(self, "aks", environment=environment)
        else:
            from aiops_constructs.terraform.gke.cluster import GkeCluster

            GkeCluster(self, "gke", environment=environment)
