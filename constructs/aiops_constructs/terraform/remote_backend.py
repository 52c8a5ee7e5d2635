"""The remote state backend of a stack: S3 (with locking), azurerm or GCS, named from the environment."""

from __future__ import annotations

from cdktn import AzurermBackend, GcsBackend, S3Backend, TerraformStack

from aiops.model import Environment


def state_key(environment: Environment, stack: str) -> str:
    return f"{environment.name}/{stack}.tfstate"


def add_remote_backend(stack: TerraformStack, environment: Environment, stack_name: str) -> None:
    """Give the stack an explicit backend.

    Without one, cdktn writes a local backend whose path is absolute, and the output would
    depend on the folder it was synthesized in.
    """
    state = environment.terraform_state
    if environment.cloud == "aws":
        S3Backend(
            stack,
            bucket=state.bucket,
            key=state_key(environment, stack_name),
            region=state.region,
            encrypt=True,
            use_lockfile=True,  # S3-native state locking (Terraform >= 1.10); no DynamoDB table needed
        )
    elif environment.cloud == "azure":
        AzurermBackend(
            stack,
            resource_group_name=state.resource_group,
            storage_account_name=state.storage_account,
            container_name=state.container,
            key=state_key(environment, stack_name),
        )
    else:
        GcsBackend(stack, bucket=state.bucket, prefix=f"{environment.name}/{stack_name}")
