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
# What sends a workload through its namespace's LocalQueue of that name (Kueue's label).
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


def labels(name: str, component: str) -> dict[str, str]:
    """Recommended labels (app.kubernetes.io/*) of the objects and pods of one workload."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": PART_OF}


from aiops.model.spot import INTERRUPTIBLE_ANNOTATION  # noqa: E402


def spot_metadata(pool: NodePool) -> dict[str, Any]:
    """Object metadata of a workload whose pods run on `pool`: on a spot pool, the annotation that
    says they may be interrupted (the model allows only interruptible workloads there;
    `aiops validate` warns about pods on spot pools from objects without it)."""
    return {"annotations": {INTERRUPTIBLE_ANNOTATION: "true"}} if pool.spot else {}


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


def container_resources(resources: ComputeResources, *, requests_equal_limits: bool = False, gpu_resource: str = GPU_RESOURCE) -> dict[str, dict[str, str]]:
    """Requests and limits; `nvidia.com/gpu` is the same in both (GPUs cannot be overcommitted).

    `requests_equal_limits` raises the requests to the limits: for Ray containers, whose
    `num-cpus` and memory KubeRay derives from the limits, so that Ray never schedules more
    onto a node than the scheduler reserved for the pod.
    """
    cpu_limit, memory_limit = resources.limits
    requests = {"cpu": cpu_limit, "memory": memory_limit} if requests_equal_limits else {"cpu": resources.cpu, "memory": resources.memory}
    limits = {"cpu": cpu_limit, "memory": memory_limit}
    if resources.gpus:
        # gpu_resource: what the pool advertises (nvidia.com/gpu whole or time-sliced, nvidia.com/mig-<profile>)
        requests[gpu_resource] = limits[gpu_resource] = str(resources.gpus)
    return {"requests": requests, "limits": limits}


SHM_VOLUME = "dshm"


def shared_memory(container: dict[str, Any], pod_spec: dict[str, Any], memory_limit: str, *, share: int) -> None:
    """Mount an in-memory `/dev/shm` of `share` percent of the memory limit into `container`.

    A container's own /dev/shm is 64 MiB: too small for Ray's object store (which falls back to
    disk and warns) and for PyTorch data-loader workers, which pass batches through shared
    memory. A memory-backed emptyDir counts against the container's memory limit, so its
    size is a share of that limit, not extra memory.
    """
    from aiops.model.quantity import parse_quantity

    size_mib = int(parse_quantity(memory_limit) * share / 100 / (1 << 20))
    pod_spec.setdefault("volumes", []).append({"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": f"{size_mib}Mi"}})
    container.setdefault("volumeMounts", []).append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})


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


def add_disruption_budget(scope: Any, id: str, *, name: str, namespace: str, selector: dict[str, str], object_labels: dict[str, str],
                          min_available: int | None = None) -> None:
    """A PodDisruptionBudget that lets voluntary evictions (node drains, autoscaler scale-down)
    take one pod of the group at a time; it never blocks a drain outright, even at one replica.

    Pods of a Deployment get `maxUnavailable: 1`. Pods whose owner has no scale subresource (a
    RayCluster's workers, a DaskCluster's) must get an integer `min_available` instead: for
    them the disruption controller cannot compute what maxUnavailable or a percentage means
    and allows no disruption at all ("rayclusters.ray.io does not implement the scale
    subresource"; Kubernetes docs, "Specifying a Disruption Budget", arbitrary controllers).
    """
    from cdk8s import ApiObject, JsonPatch

    if min_available is not None and min_available < 0:
        raise ValueError(f"PodDisruptionBudget '{name}': min_available must not be negative, got {min_available}")
    budget = ApiObject(
        scope,
        id,
        api_version="policy/v1",
        kind="PodDisruptionBudget",
        metadata={"name": name, "namespace": namespace, "labels": dict(object_labels)},
    )
    rule = {"maxUnavailable": 1} if min_available is None else {"minAvailable": min_available}
    budget.add_json_patch(JsonPatch.add("/spec", {**rule, "selector": {"matchLabels": dict(selector)}}))
