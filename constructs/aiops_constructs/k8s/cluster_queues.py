"""Kueue ClusterQueues: one per workload class, in one cohort, its quota what queued workloads can get on its pools."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.queues import FlavorQuota
from aiops_constructs.k8s.node_pool_flavors import KUEUE_API_VERSION

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class QueueProps:
    name: str
    flavors: tuple[FlavorQuota, ...]  # each pool's ResourceFlavor and the queue's nominal quota there
    namespaces: tuple[str, ...]  # the team namespaces that have a LocalQueue for it


def quota(flavor: FlavorQuota) -> dict[str, str]:
    """Nominal quota of a flavor as Kubernetes quantities."""
    q = flavor.quota.quantities()
    # GPUs as the pool advertises them: nvidia.com/gpu (whole or time-sliced) or nvidia.com/mig-<profile>
    return {"cpu": q["cpu"], "memory": q["memory"], flavor.gpu_resource: q["gpus"]}


class ClusterQueues(Construct):
    """One Kueue `ClusterQueue` per queue, all in `cohort`.

    Each flavor's nominal quota is what queued workloads can get on that pool at its maximum
    (computed by aiops.model.queues: allocatable, minus what runs on every node and outside
    Kueue), so Kueue admits a job only when the autoscaler could make room for it, and the
    pools scale from zero when work is queued. Only the namespaces of the teams that submit to
    a queue may use it. In one cohort, a queue may borrow what another leaves idle, and
    `reclaimWithinCohort: Any` lets the lender take it back by preempting the borrower.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queues: Sequence[QueueProps],
        cohort: str,
        queueing_strategy: str = "BestEffortFIFO",
        preemption_within_queue: str = "LowerPriority",
    ) -> None:
        super().__init__(scope, id)
        if queueing_strategy not in ("BestEffortFIFO", "StrictFIFO"):
            raise ValueError(f"ClusterQueues: queueing_strategy '{queueing_strategy}' is not BestEffortFIFO or StrictFIFO")
        if preemption_within_queue not in ("Never", "LowerPriority", "LowerOrNewerEqualPriority"):
            raise ValueError(f"ClusterQueues: preemption_within_queue '{preemption_within_queue}' is not Never, LowerPriority or LowerOrNewerEqualPriority")
        if not _NAME.match(cohort):
            raise ValueError(f"ClusterQueues: cohort '{cohort}' is not a valid Kubernetes name")
        for queue in queues:
            if not _NAME.match(queue.name):
                raise ValueError(f"ClusterQueues: queue name '{queue.name}' is not a valid Kubernetes name")
            if not queue.flavors:
                raise ValueError(f"ClusterQueues: queue '{queue.name}' has no flavors; give it at least one pool")
            if not queue.namespaces:
                raise ValueError(f"ClusterQueues: queue '{queue.name}' has no namespaces; no team could submit to it")
            names = [flavor.flavor for flavor in queue.flavors]
            for flavor in queue.flavors:
                if names.count(flavor.flavor) > 1:
                    raise ValueError(f"ClusterQueues: flavor '{flavor.flavor}' is listed twice in queue '{queue.name}'")
                if flavor.quota.short_of(gpus=False):
                    raise ValueError(f"ClusterQueues: flavor '{flavor.flavor}' of queue '{queue.name}' has no {flavor.quota.short_of(gpus=False)} ({flavor.quota})")
            covered = ["cpu", "memory"] + sorted({f.gpu_resource for f in queue.flavors if f.quota.gpus})
            flavors = [
                {"name": flavor.flavor, "resources": [{"name": name, "nominalQuota": quota(flavor).get(name, "0")} for name in covered]}
                for flavor in queue.flavors
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
                        "cohortName": cohort,
                        "queueingStrategy": queueing_strategy,
                        "preemption": {"withinClusterQueue": preemption_within_queue, "reclaimWithinCohort": "Any"},
                        "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
                    },
                )
            )
