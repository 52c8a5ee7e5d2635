"""What each team namespace is allowed, derived from the environment: who may reach its pods
(NetworkPolicies) and how much it may hold (ResourceQuota, LimitRange).

The pod labels named here are the ones the pods really carry: the Deployments' own template
labels, and those KubeRay (`ray.io/cluster`, `ray.io/node-type`) and the Dask operator
(`dask.org/cluster-name`, `dask.org/component`) put on the pods they make.
"""

from __future__ import annotations

from aiops.model import Environment, NodePool
from aiops.model.capacity import node_capacity
from aiops.model.node_overhead import RAY_AUTOSCALER_SIDECAR, Resources, requests_of
from aiops.model.quantity import GIB, format_memory
from aiops.model.queues import workload_queue
from aiops.model.workloads import GPU_RESOURCE
from aiops_constructs.k8s.dask_cluster import SCHEDULER_DASHBOARD_PORT, SCHEDULER_PORT
from aiops_constructs.k8s.team_limits import TeamLimitsProps
from aiops_constructs.k8s.team_network_policies import Peers, ServedPorts

RAY_CLIENT_PORT, RAY_DASHBOARD_PORT = 10001, 8265
KUBERAY_NAMESPACE, DASK_OPERATOR_NAMESPACE = "kuberay-system", "dask-operator"


def network_policies(environment: Environment, team: str) -> tuple[list[Peers], list[ServedPorts]]:
    """The peers and served ports of the workloads in namespace `team`."""
    workloads = environment.workloads
    peers: list[Peers] = []
    served: list[ServedPorts] = []
    inference = workloads.inference
    if inference is not None and inference.namespace == team and inference.port is not None:
        # Clients of the inference service come from anywhere in the cluster (a gateway, other
        # teams' jobs); only its port is open to them.
        served.append(ServedPorts(f"{inference.name}-clients", {"app.kubernetes.io/name": inference.name}, (inference.port,), None))
    ray = workloads.ray
    if ray is not None and ray.namespace == team:
        peers.append(Peers(ray.name, {"ray.io/cluster": ray.name}))
        # Jobs reach the head's client and dashboard ports from the team's namespace; the KubeRay
        # operator reads the dashboard for RayJobs and RayServices.
        served.append(ServedPorts(f"{ray.name}-head-clients", {"ray.io/cluster": ray.name, "ray.io/node-type": "head"},
                                  (RAY_CLIENT_PORT, RAY_DASHBOARD_PORT), (KUBERAY_NAMESPACE,)))
    dask = workloads.dask
    if dask is not None and dask.namespace == team:
        peers.append(Peers(dask.name, {"dask.org/cluster-name": dask.name}))
        # Clients in the team's namespace, and the Dask operator (it retires workers through the scheduler).
        served.append(ServedPorts(f"{dask.name}-scheduler-clients", {"dask.org/cluster-name": dask.name, "dask.org/component": "scheduler"},
                                  (SCHEDULER_PORT, SCHEDULER_DASHBOARD_PORT), (DASK_OPERATOR_NAMESPACE,)))
    return peers, served


def team_pools(environment: Environment, team: str) -> list[NodePool]:
    """The pools a team's pods may use: those of the queues it submits to and those its own
    workloads run on, in the environment's order."""
    workloads = environment.workloads
    names: set[str] = set()
    for entry in workloads.teams:
        if entry.name == team:
            for queue in workloads.queues:
                if queue.name in entry.queues:
                    names.update(queue.pools)
    for _, workload in workloads.named():
        if workload.namespace != team:
            continue
        if hasattr(workload, "head"):
            names.update((workload.head.pool, workload.workers.pool))
        else:
            names.add(workload.pool)
    return [pool for pool in environment.node_pools if pool.name in names]


def _queued_maximum(environment: Environment, team: str) -> Resources:
    """What the team's queued workloads (training, Ray) request at their maximum: all their pods
    may exist at once, most of them held at Kueue's gate, and the quota counts a pod from its
    creation."""
    workloads = environment.workloads
    total = Resources(0, 0)
    training, ray = workloads.training, workloads.ray
    if training is not None and training.namespace == team and workload_queue(workloads, "training") is not None:
        total = total + requests_of(training.resources).times(training.autoscaling.max_replicas)
    if ray is not None and ray.namespace == team and workload_queue(workloads, "ray") is not None:
        total = total + requests_of(ray.head.resources) + RAY_AUTOSCALER_SIDECAR + requests_of(ray.workers.resources).times(ray.workers.max_replicas)
    return total


def team_limits(environment: Environment, team: str) -> TeamLimitsProps:
    """The team's quota: what its pools hold at their maximum (max nodes x each node's catalog
    capacity), plus what its queued workloads request at their maximum.

    The first part is at least what the team's ClusterQueues admit there (they share out
    allocatable capacity, less what runs outside Kueue; borrowing in the cohort stays within the
    flavors of its queues, so within these pools) plus what it runs outside Kueue; the second
    leaves room for the pods Kueue holds at its gate, so that Kueue, not the quota, decides which
    of them run. So the quota never refuses what Kueue admits or holds, and a team without a GPU
    pool gets no GPU at all. One container may ask for at most one node of the team's largest pool."""
    pools = team_pools(environment, team)
    capacities = [node_capacity(environment.cloud, pool) for pool in pools]
    total = _queued_maximum(environment, team)
    for pool, capacity in zip(pools, capacities, strict=True):
        total = total + Resources(capacity.vcpu * 1000, int(capacity.memory_gib * GIB), capacity.gpus).times(pool.max)
    q = total.quantities()
    hard = {"cpu": q["cpu"], "memory": q["memory"], GPU_RESOURCE: q["gpus"]}
    largest = {"cpu": str(max(c.vcpu for c in capacities)), "memory": format_memory(max(c.memory_gib for c in capacities))} if capacities else None
    return TeamLimitsProps(team, hard, largest)
