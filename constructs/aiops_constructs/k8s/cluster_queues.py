"""Kueue ClusterQueues: one per workload class, its quota the maximum capacity of its pools."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.capacity import NodeCapacity
from aiops.model.quantity import format_memory
from aiops_constructs.k8s.node_pool_flavors import KUEUE_API_VERSION

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class PoolQuota:
    """A pool's ResourceFlavor in a queue: how many nodes it can grow to, and one node's capacity."""

    flavor: str
    max_nodes: int
    per_node: NodeCapacity


@dataclass(frozen=True)
class QueueProps:
    name: str
    flavors: tuple[PoolQuota, ...]
    namespaces: tuple[str, ...]  # the team namespaces that have a LocalQueue for it


def quota(pool: PoolQuota) -> dict[str, str]:
    """Nominal quota of a flavor: max nodes x per-node vCPU, memory and GPUs (catalog figures)."""
    return {
        "cpu": str(pool.max_nodes * pool.per_node.vcpu),
        "memory": format_memory(pool.max_nodes * pool.per_node.memory_gib),
        pool.per_node.gpu_resource: str(pool.max_nodes * pool.per_node.gpus),
    }


class ClusterQueues(Construct):
    """One Kueue `ClusterQueue` per queue.

    Its quota is what its pools hold at their maximum size, from the instance catalog, so Kueue
    admits a job only when the autoscaler could make room for it, and the pools scale from
    zero when work is queued. Only the namespaces of the teams that submit to a queue may use
    it. Each pool belongs to one queue: two queues sharing a pool would each be promised all
    of it. The queues admit the jobs teams submit (labelled `kueue.x-k8s.io/queue-name`); the
    platform's standing workloads have their own autoscalers and are not queued.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queues: Sequence[QueueProps],
        queueing_strategy: str = "BestEffortFIFO",
        preemption_within_queue: str = "LowerPriority",
    ) -> None:
        super().__init__(scope, id)
        if queueing_strategy not in ("BestEffortFIFO", "StrictFIFO"):
            raise ValueError(f"ClusterQueues: queueing_strategy '{queueing_strategy}' is not BestEffortFIFO or StrictFIFO")
        if preemption_within_queue not in ("Never", "LowerPriority", "LowerOrNewerEqualPriority"):
            raise ValueError(f"ClusterQueues: preemption_within_queue '{preemption_within_queue}' is not Never, LowerPriority or LowerOrNewerEqualPriority")
        owner: dict[str, str] = {}
        for queue in queues:
            if not _NAME.match(queue.name):
                raise ValueError(f"ClusterQueues: queue name '{queue.name}' is not a valid Kubernetes name")
            if not queue.flavors:
                raise ValueError(f"ClusterQueues: queue '{queue.name}' has no flavors; give it at least one pool")
            if not queue.namespaces:
                raise ValueError(f"ClusterQueues: queue '{queue.name}' has no namespaces; no team could submit to it")
            for pool in queue.flavors:
                if owner.setdefault(pool.flavor, queue.name) != queue.name:
                    raise ValueError(f"ClusterQueues: flavor '{pool.flavor}' is in queues '{owner[pool.flavor]}' and '{queue.name}'; give each pool to one queue")
                if pool.max_nodes < 0:
                    raise ValueError(f"ClusterQueues: flavor '{pool.flavor}' of queue '{queue.name}' has max_nodes {pool.max_nodes}")
            # GPUs as the pools advertise them: nvidia.com/gpu (whole or time-sliced) or nvidia.com/mig-<profile>
            covered = ["cpu", "memory"] + sorted({p.per_node.gpu_resource for p in queue.flavors if p.per_node.gpus})
            flavors = [
                {"name": pool.flavor, "resources": [{"name": name, "nominalQuota": quota(pool).get(name, "0")} for name in covered]}
                for pool in queue.flavors
            ]
            obj = ApiObject(
                self,
                queue.name,
                api_version=KUEUE_API_VERSION,
                kind="ClusterQueue",
                metadata={"name": queue.name, "labels": {"aiops.example/queue": queue.name}},
            )
            obj.add_json_patch(
                JsonPatch.add(
                    "/spec",
                    {
                        "namespaceSelector": {
                            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(queue.namespaces)}]
                        },
                        "queueingStrategy": queueing_strategy,
                        "preemption": {"withinClusterQueue": preemption_within_queue},
                        "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
                    },
                )
            )
