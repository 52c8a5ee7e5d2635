"""Which workloads go through a Kueue queue, and how much of each pool each queue may admit.

**Who queues.** The training Deployment draws on the pool its queue shares out, so it goes
through its team's LocalQueue, in the form Kueue 0.19.2 supports: a Deployment labelled
`kueue.x-k8s.io/queue-name` (its `deployment` integration admits each pod). So do the jobs
teams submit (Jobs, RayJobs...). Three kinds never queue, and their *maximum* is kept out of
the quota of any queue over the pools they use, so that no queued job can take what they may
need:

- **Serving** (the inference service): a replica the HPA adds must start as soon as a node has
  room, not wait behind batch jobs, and the serving namespace must not depend on Kueue's
  fail-closed pod webhook.
- **The standing Ray cluster**: Kueue admits an autoscaled RayCluster only as an elastic job
  (workload slices), and in the simulation Kueue 0.19.2 with KubeRay left scaled-up workers
  behind its elastic-job gate although their slice was admitted, in some runs and not others
  (upstream reports the same family of races: kubernetes-sigs/kueue#14129, #11977, #9879). A
  platform cluster that sometimes cannot grow is worse than one outside the queue, so the Ray
  cluster keeps its own autoscaler and a reservation; the RayCluster construct can still queue
  one (`queue=`), and the simulation waits for Kueue to judge such pods.
- **Dask**: Kueue 0.19.2 has no DaskCluster integration (its `integrations.frameworks`).

**Quotas.** A queue's nominal quota on a pool is what workloads can really get there: each
node's allocatable (the cloud's reservations, `allocatable.py`) minus what runs on every node
(`node_overhead.py`), times the pool's maximum, minus the pods outside Kueue on the pool (the
platform's own pods on untainted pools, serving, Ray, Dask) and minus what other queues hold
there. A queued RayCluster's head usually runs on a CPU pool another queue owns: Kueue needs a
flavor for every pod set of a workload, so that queue gets the pool's flavor with exactly the
head pod set's requests (Kueue counts the Ray autoscaler's sidecar in it: the simulation showed
a head of 2 CPU asking for 2500m). Every queue of an environment is in one cohort, so quota one
queue leaves idle can be borrowed by another and reclaimed (by preemption) when its owner needs
it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

from aiops.model.base import error
from aiops.model.node_overhead import (
    PLATFORM_PODS,
    RAY_AUTOSCALER_SIDECAR,
    Resources,
    allocatable,
    node_daemons,
    requests_of,
)

if TYPE_CHECKING:
    from aiops.model.environment import Environment, NodePool
    from aiops.model.workloads import Workloads

QUEUED_KINDS = ("training",)
# A RayCluster queues only when a caller asks for it (the reference platform does not: see above).
QUEUED_RAY = False


@dataclass(frozen=True)
class FlavorQuota:
    flavor: str  # the pool's ResourceFlavor (named after the pool)
    quota: Resources
    gpu_resource: str = "nvidia.com/gpu"  # what the pool advertises its GPUs as (aiops.model.gpu_sharing)


@dataclass(frozen=True)
class QueueQuota:
    name: str
    flavors: tuple[FlavorQuota, ...]
    namespaces: tuple[str, ...]  # the teams that submit to it (a LocalQueue each)


def queue_of_pool(workloads: Workloads) -> dict[str, str]:
    return {pool: queue.name for queue in workloads.queues for pool in queue.pools}


def workload_queue(workloads: Workloads, key: str) -> str | None:
    """The queue a queued workload submits to: its pool's queue (a Ray cluster's: its workers')."""
    owners = queue_of_pool(workloads)
    if key == "training" and workloads.training is not None:
        return owners.get(workloads.training.pool)
    if key == "ray" and workloads.ray is not None and QUEUED_RAY:
        return owners.get(workloads.ray.workers.pool) or owners.get(workloads.ray.head.pool)
    return None


def _pods_outside_kueue(environment: Environment, pool: NodePool) -> Iterator[tuple[str, Resources]]:
    """What runs on `pool` at the workloads' maximum without going through a queue."""
    workloads = environment.workloads
    if not pool.taints:
        yield "the platform's own pods", PLATFORM_PODS
    if workloads.inference is not None and workloads.inference.pool == pool.name:
        inference = workloads.inference
        yield f"{inference.name} (serving, not queued)", requests_of(inference.resources).times(inference.autoscaling.max_replicas)
    if workloads.dask is not None and workloads.dask.pool == pool.name:
        dask = workloads.dask
        yield f"{dask.name} (Dask, not queued)", requests_of(dask.workers.resources).times(dask.workers.max_replicas) + requests_of(dask.scheduler.resources)
    ray = workloads.ray
    if ray is not None and workload_queue(workloads, "ray") is None:
        if ray.head.pool == pool.name:
            yield f"{ray.name}'s head (Ray, not queued)", requests_of(ray.head.resources) + RAY_AUTOSCALER_SIDECAR
        if ray.workers.pool == pool.name:
            yield f"{ray.name}'s workers (Ray, not queued)", requests_of(ray.workers.resources).times(ray.workers.max_replicas)


def _ray_head_share(environment: Environment) -> tuple[str, str, Resources] | None:
    """(queue, head pool, the head pod set's requests: the head and its autoscaler sidecar) when a
    queued Ray cluster's head is on another queue's pool or on none."""
    workloads = environment.workloads
    ray, queue = workloads.ray, workload_queue(workloads, "ray")
    if ray is None or queue is None or queue_of_pool(workloads).get(ray.head.pool) == queue:
        return None
    return queue, ray.head.pool, requests_of(ray.head.resources) + RAY_AUTOSCALER_SIDECAR


def _room(environment: Environment, pool: NodePool) -> Resources:
    """What queued workloads can get on `pool` at its maximum, before other queues' shares."""
    per_node = allocatable(environment.cloud, pool) - node_daemons(environment, pool)
    room = per_node.times(pool.max)
    for _, pods in _pods_outside_kueue(environment, pool):
        room = room - pods
    return room


def check_queues(environment: Environment) -> PydanticCustomError | None:
    """The first way the queues cannot work: a team without the queue its workload needs, or a queue left no room."""
    workloads = environment.workloads
    teams = {team.name: team for team in workloads.teams}
    for key in QUEUED_KINDS:
        workload = getattr(workloads, key)
        queue = workload_queue(workloads, key)
        if workload is None or queue is None or workload.namespace not in teams:
            continue
        if queue not in teams[workload.namespace].queues:
            return error(
                "queue_not_submitted",
                f"{workload.name} runs on a pool of queue '{queue}', but team '{workload.namespace}' does not submit to it",
                at=("workloads", key, "namespace"),
                hint=f"add '{queue}' to the queues of team '{workload.namespace}' (workloads.teams); a queued pool admits only what comes through its queue",
            )
    for quota in queue_quotas(environment):
        for flavor in quota.flavors:
            pool = environment.pool(flavor.flavor)
            short = flavor.quota.short_of(gpus=pool.gpu_count(environment.cloud) > 0)
            if short:
                index = next(i for i, q in enumerate(workloads.queues) if q.name == quota.name)
                daemons = node_daemons(environment, pool)
                outside = "; ".join(f"{what}: {pods}" for what, pods in _pods_outside_kueue(environment, pool))
                return error(
                    "queue_no_room",
                    f"queue '{quota.name}' is left no {short} on pool '{pool.name}' ({pool.max} nodes of "
                    f"{allocatable(environment.cloud, pool)} allocatable, less {daemons} each for daemon sets; "
                    f"outside Kueue: {outside or 'nothing'})",
                    at=("workloads", "queues", index, "pools"),
                    hint=f"raise the max of pool '{pool.name}', lower what runs there outside Kueue, or take the pool out of the queue",
                )
    return None


def queue_quotas(environment: Environment) -> tuple[QueueQuota, ...]:
    """Each queue's nominal quota per flavor (see the module docstring for the arithmetic)."""
    workloads = environment.workloads
    head = _ray_head_share(environment)
    quotas = []
    for queue in workloads.queues:
        flavors = []
        for name in queue.pools:
            room = _room(environment, environment.pool(name))
            if head is not None and head[1] == name:
                room = room - head[2]  # the Ray cluster's queue holds the head's share of this pool
            flavors.append(FlavorQuota(name, room, environment.pool(name).advertised(environment.cloud).resource))
        if head is not None and head[0] == queue.name:
            flavors.append(FlavorQuota(head[1], head[2]))
        namespaces = tuple(team.name for team in workloads.teams if queue.name in team.queues)
        quotas.append(QueueQuota(queue.name, tuple(flavors), namespaces))
    return tuple(quotas)
