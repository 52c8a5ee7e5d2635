"""Cost-allocation tags shared by every taggable resource of an environment."""

from __future__ import annotations

from aiops.model import Environment, NodePool


def environment_tags(environment: Environment) -> dict[str, str]:
    return {
        "environment": environment.name,
        "cost-centre": environment.cost_centre,
        "managed-by": "aiops-gitops",
    }


def pool_tags(environment: Environment, pool: NodePool) -> dict[str, str]:
    return {**environment_tags(environment), "node-pool": pool.name}
