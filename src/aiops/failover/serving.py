"""The switch: a standby at serving scale when its `failover.state` is `active`.

`serving_environment(standby, primary)` is the environment synthesis builds the standby from.
In `standby` state it is the file as written (the standby scale). In `active` state each
workload the standby stands in for takes the primary's replica bounds (minReplicas and
maxReplicas of its HPA, Ray worker group or Dask workers), and each pool that runs them gets a
minimum (and desired size) of the nodes the primary's minReplicas need, so that the standby
starts serving with the primary's floor already up instead of waiting for GPU nodes to join;
its `max` already holds the primary's maximum (aiops.failover.checks refuses a standby whose
pools cannot). Nothing else changes: the constructs then derive HPAs, node pools and queue
quotas from it as from any environment, and `aiops diff` shows what moved.
"""

from __future__ import annotations

from typing import Any

from aiops.failover.checks import nodes_for
from aiops.model.environment import Environment
from aiops.model.failover import scaled_groups, workload_named


def _set(data: dict[str, Any], loc: tuple[str | int, ...], values: dict[str, Any]) -> None:
    node: Any = data
    for part in loc:
        node = node[part]
    node.update(values)


def serving_environment(standby: Environment, primary: Environment) -> Environment:
    """`standby` as synthesis builds it: unchanged unless its failover state is active."""
    failover = standby.failover
    if failover is None or not failover.active:
        return standby
    data = standby.model_dump(mode="python", by_alias=True)
    floor: dict[str, int] = {}  # pool -> nodes the primary's minReplicas need
    for name in failover.workloads:
        theirs, ours = workload_named(primary.workloads, name), workload_named(standby.workloads, name)
        if theirs is None or ours is None:
            continue  # refused by aiops.failover.checks before synthesis
        for their_group, our_group in zip(scaled_groups(primary.workloads, theirs[0]), scaled_groups(standby.workloads, ours[0])):
            if our_group.bounds_at is not None:
                values: dict[str, Any] = {"minReplicas": their_group.min_replicas, "maxReplicas": their_group.max_replicas}
                if ours[0] == "dask":  # the workers' starting count must stay within the bounds
                    replicas = standby.workloads.dask.workers.replicas  # type: ignore[union-attr]
                    values["replicas"] = min(max(replicas, their_group.min_replicas), their_group.max_replicas)
                _set(data, our_group.bounds_at, values)
            pool = standby.pool(our_group.pool)
            nodes = nodes_for(standby, pool, our_group, their_group.min_replicas) or 0
            floor[pool.name] = floor.get(pool.name, 0) + nodes
    for pool in data["nodePools"]:
        need = min(floor.get(pool["name"], 0), pool["max"])
        pool["min"] = max(pool["min"], need)
        pool["desired"] = max(pool["desired"], pool["min"])
    return Environment.model_validate(data, context={"cloud": standby.cloud}, by_alias=True)
