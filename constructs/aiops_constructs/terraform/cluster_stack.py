"""The Terraform stack of one environment: network, cluster, node pools and roles, on its cloud."""

from __future__ import annotations

from cdktn import TerraformStack
from constructs import Construct

from aiops.model import Environment
from aiops_constructs.terraform.remote_backend import add_remote_backend

# The folder name of each cloud's stack under dist/<environment>/terraform/.
STACK_NAMES = {"aws": "eks", "azure": "aks", "gcp": "gke"}
# The backends' S3-native locking (`use_lockfile`) needs Terraform (or OpenTofu) 1.10; an older
# binary would otherwise stop at `terraform init` with a message about an unknown argument.
REQUIRED_TERRAFORM = ">= 1.10"


def versions_tf() -> str:
    """`versions.tf` beside each stack's cdk.tf.json: the Terraform version it needs.

    Not in the JSON: Checkov 3.3.30's terraform_json parser fails on any attribute of the
    `terraform` block that is not a block (`required_version`), and then checks nothing in the
    file. Terraform merges the `terraform` blocks of every file of the folder.
    """
    return f"# Written by aiops synth beside cdk.tf.json: S3-native state locking (use_lockfile) needs 1.10.\nterraform {{\n  required_version = \"{REQUIRED_TERRAFORM}\"\n}}\n"


class ClusterStack(TerraformStack):
    """One stack per environment, named after the cloud's managed Kubernetes service."""

    def __init__(self, scope: Construct, id: str, *, environment: Environment, primary_of_pair: bool = False) -> None:
        """`primary_of_pair`: the environment is the primary of a failover pair with traffic, so its
        serving Ingress presents the client name's certificate (on AKS from the Key Vault this stack makes)."""
        super().__init__(scope, id)
        self.stack_name = STACK_NAMES[environment.cloud]
        add_remote_backend(self, environment, self.stack_name)
        # Import the cloud's bindings only now: each costs seconds to load.
        if environment.cloud == "aws":
            from aiops_constructs.terraform.eks.cluster import EksCluster

            EksCluster(self, "eks", environment=environment)
        elif environment.cloud == "azure":
            from aiops_constructs.terraform.aks.cluster import AksCluster

            AksCluster(self, "aks", environment=environment, primary_of_pair=primary_of_pair)
        else:
            from aiops_constructs.terraform.gke.cluster import GkeCluster

            GkeCluster(self, "gke", environment=environment)
