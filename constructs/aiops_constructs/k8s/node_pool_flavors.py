"""Kueue ResourceFlavors: each node pool as the scheduler sees it."""

from __future__ import annotations

from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model import Environment, NodePool

KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2"


def flavor_name(pool: NodePool) -> str:
    """The ResourceFlavor of a pool is named after the pool, so queues can refer to it."""
    return pool.name


def flavor_spec(pool: NodePool) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeLabels": dict(pool.labels)}
    if pool.taints:
        # Kueue admits a workload to a tainted flavor only if it tolerates these taints.
        spec["nodeTaints"] = [
            {"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect} for t in pool.taints
        ]
    return spec


class NodePoolFlavors(Construct):
    """One Kueue `ResourceFlavor` per node pool, carrying the pool's labels and taints.

    The flavor is how queues and workloads target a pool: Kueue injects the flavor's node
    labels as a node selector into admitted pods, and refuses flavors whose taints the
    workload does not tolerate.
    """

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        for pool in environment.node_pools:
            if not pool.labels:
                raise ValueError(
                    f"{environment.name}: node pool '{pool.name}' has no labels; a ResourceFlavor "
                    "needs at least one node label to select the pool's nodes"
                )
            flavor = ApiObject(
                self,
                pool.name,
                api_version=KUEUE_API_VERSION,
                kind="ResourceFlavor",
                metadata={"name": flavor_name(pool), "labels": {"aiops.example/node-pool": pool.name}},
            )
            flavor.add_json_patch(JsonPatch.add("/spec", flavor_spec(pool)))
