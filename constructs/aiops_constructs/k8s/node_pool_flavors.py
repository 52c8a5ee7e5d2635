"""Kueue ResourceFlavors: each node pool as the scheduler sees it."""

from __future__ import annotations

from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model import Environment, NodePool
from aiops_constructs.k8s.pods import toleration

KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2"
KUEUE_LIST_LIMIT = 8  # nodeLabels, nodeTaints and tolerations each take at most 8 entries (the CRD)


def flavor_name(pool: NodePool) -> str:
    """The ResourceFlavor of a pool is named after the pool, so queues can refer to it."""
    return pool.name


def flavor_spec(pool: NodePool) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeLabels": dict(pool.labels)}
    if pool.taints:
        # What the pool's nodes carry, and the tolerations Kueue adds to the pods it admits
        # on this flavor: a queued job names only its LocalQueue, never the pool's taints.
        # (With matching tolerations Kueue no longer asks the job itself to tolerate them.)
        spec["nodeTaints"] = [
            {"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect} for t in pool.taints
        ]
        spec["tolerations"] = [toleration(t) for t in pool.taints]
    return spec


class NodePoolFlavors(Construct):
    """One Kueue `ResourceFlavor` per node pool, carrying the pool's labels and taints.

    The flavor is how queues and workloads target a pool: Kueue injects the flavor's node
    labels as a node selector and its tolerations into admitted pods.
    """

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        for pool in environment.node_pools:
            if not pool.labels:
                raise ValueError(
                    f"{environment.name}: node pool '{pool.name}' has no labels; a ResourceFlavor "
                    "needs at least one node label to select the pool's nodes"
                )
            if len(pool.labels) > KUEUE_LIST_LIMIT or len(pool.taints) > KUEUE_LIST_LIMIT:
                raise ValueError(
                    f"{environment.name}: node pool '{pool.name}' has {len(pool.labels)} labels and {len(pool.taints)} taints; "
                    f"a ResourceFlavor takes at most {KUEUE_LIST_LIMIT} of each"
                )
            flavor = ApiObject(
                self,
                pool.name,
                api_version=KUEUE_API_VERSION,
                kind="ResourceFlavor",
                metadata={"name": flavor_name(pool), "labels": {"aiops.example/node-pool": pool.name}},
            )
            flavor.add_json_patch(JsonPatch.add("/spec", flavor_spec(pool)))
