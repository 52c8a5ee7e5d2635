"""Pieces of pod specs that every workload construct shares (helpers, not constructs).

Placement comes from the node pool a workload names: its labels become the node selector and
its taints the tolerations, so a workload can never tolerate one pool and select another.
"""

from __future__ import annotations

from typing import Any

from aiops.model import NodePool, Taint
from aiops.model.workloads import GPU_RESOURCE, ComputeResources

PART_OF = "aiops-platform"
ZONE_KEY = "topology.kubernetes.io/zone"


def labels(name: str, component: str) -> dict[str, str]:
    """Recommended labels (app.kubernetes.io/*) of the objects and pods of one workload."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": PART_OF}


def toleration(taint: Taint) -> dict[str, str]:
    """The toleration of exactly this taint (key, value and effect)."""
    if taint.value:
        return {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect}
    return {"key": taint.key, "operator": "Exists", "effect": taint.effect}


def placement(pool: NodePool) -> dict[str, Any]:
    """`nodeSelector` and `tolerations` of a pod that must run on `pool`."""
    spec: dict[str, Any] = {"nodeSelector": dict(pool.labels)}
    if pool.taints:
        spec["tolerations"] = [toleration(t) for t in pool.taints]
    return spec


def container_resources(resources: ComputeResources) -> dict[str, dict[str, str]]:
    """Requests and limits; `nvidia.com/gpu` is the same in both (GPUs cannot be overcommitted)."""
    cpu_limit, memory_limit = resources.limits
    requests = {"cpu": resources.cpu, "memory": resources.memory}
    limits = {"cpu": cpu_limit, "memory": memory_limit}
    if resources.gpus:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(resources.gpus)
    return {"requests": requests, "limits": limits}


def zone_spread(selector: dict[str, str], *, zones: int, hard: bool, match_label_keys: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Spread pods over the environment's zones.

    `hard` (DoNotSchedule) with `minDomains` set to the number of zones makes the scheduler
    leave a pod pending rather than stack it in a zone that already has more, which is what
    lets the cluster autoscaler add a node in the empty zone. Soft spreading (ScheduleAnyway)
    only prefers other zones, for work that would rather start now than start spread.
    """
    constraint: dict[str, Any] = {"maxSkew": 1, "topologyKey": ZONE_KEY}
    if hard:
        constraint |= {"whenUnsatisfiable": "DoNotSchedule", "minDomains": zones}
    else:
        constraint["whenUnsatisfiable"] = "ScheduleAnyway"
    constraint["labelSelector"] = {"matchLabels": dict(selector)}
    if match_label_keys:
        constraint["matchLabelKeys"] = list(match_label_keys)
    return [constraint]


def add_disruption_budget(scope: Any, id: str, *, name: str, namespace: str, selector: dict[str, str], object_labels: dict[str, str]) -> None:
    """A PodDisruptionBudget that lets voluntary evictions (node drains, autoscaler scale-down)
    take one pod of the group at a time; it never blocks a drain outright, even at one replica."""
    from cdk8s import ApiObject, JsonPatch

    budget = ApiObject(
        scope,
        id,
        api_version="policy/v1",
        kind="PodDisruptionBudget",
        metadata={"name": name, "namespace": namespace, "labels": dict(object_labels)},
    )
    budget.add_json_patch(JsonPatch.add("/spec", {"maxUnavailable": 1, "selector": {"matchLabels": dict(selector)}}))
