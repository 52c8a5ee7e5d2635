"""What the simulated cluster did, read back from the API server after a pass has settled:
where every pod landed (or why the scheduler left it Pending, in its own words), what each
PodDisruptionBudget allows, what Kueue admitted or holds and why, and how much of each pool
the pods request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from aiops.model.quantity import parse_quantity
from aiops.simulate.api import Api
from aiops.model.gpu_sharing import MIG_RESOURCE_PREFIX
from aiops.simulate.nodes import GPU, POOL_LABEL

KUEUE_WORKLOADS = "/apis/kueue.x-k8s.io/v1beta2/workloads"


@dataclass(frozen=True)
class PodPlacement:
    namespace: str
    name: str
    owner: str  # Kind/name of the controller that made it (Deployment for a ReplicaSet's pods)
    node: str | None
    pool: str | None
    phase: str
    pending_reason: str | None  # the scheduler's message (or Kueue's gate) for a pod not placed
    requests: dict[str, str] = field(default_factory=dict)  # what the scheduler counts (containers, init containers, overhead)
    limits: dict[str, str] = field(default_factory=dict)  # the containers' limits, summed
    labels: dict[str, str] = field(default_factory=dict)  # the pod's labels (what NetworkPolicies and budgets select)


@dataclass(frozen=True)
class Budget:
    namespace: str
    name: str
    allowed_disruptions: int
    current_healthy: int
    desired_healthy: int
    expected_pods: int
    message: str  # the disruption controller's condition message, when it has one
    selected_pods: int  # the pods its selector matches (what a drain of their nodes must evict)


@dataclass(frozen=True)
class QueuedWorkload:
    namespace: str
    name: str
    queue: str
    owner: str
    admitted: bool
    message: str  # why it is admitted or pending, from Kueue's conditions


@dataclass(frozen=True)
class PoolShare:
    pool: str
    nodes: int
    cpu_allocatable: float  # cores
    cpu_requested: float
    memory_allocatable_gib: float
    memory_requested_gib: float
    gpu_allocatable: int
    gpu_requested: int

    def share(self, resource: str) -> float | None:
        allocatable, requested = {"cpu": (self.cpu_allocatable, self.cpu_requested),
                                  "memory": (self.memory_allocatable_gib, self.memory_requested_gib),
                                  "gpu": (self.gpu_allocatable, self.gpu_requested)}[resource]
        return requested / allocatable if allocatable else None


@dataclass
class Observation:
    pods: list[PodPlacement] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    workloads: list[QueuedWorkload] = field(default_factory=list)
    pools: list[PoolShare] = field(default_factory=list)

    @property
    def pending(self) -> list[PodPlacement]:
        return [p for p in self.pods if p.node is None]

    def as_dict(self) -> dict:
        return {
            "pods": [asdict(p) for p in self.pods],
            "pending": [asdict(p) for p in self.pending],
            "budgets": [asdict(b) for b in self.budgets],
            "workloads": [asdict(w) for w in self.workloads],
            "pools": [{**asdict(p), "cpuShare": _round(p.share("cpu")), "memoryShare": _round(p.share("memory")), "gpuShare": _round(p.share("gpu"))} for p in self.pools],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def pod_requests(pod: dict) -> dict[str, Decimal]:
    """What the scheduler counts for a pod: the larger of its containers' sum and any init
    container, plus the pod's overhead."""
    spec = pod.get("spec") or {}
    total: dict[str, Decimal] = defaultdict(Decimal)
    for container in spec.get("containers") or []:
        for name, value in ((container.get("resources") or {}).get("requests") or {}).items():
            total[name] += parse_quantity(str(value))
    for container in spec.get("initContainers") or []:
        for name, value in ((container.get("resources") or {}).get("requests") or {}).items():
            total[name] = max(total[name], parse_quantity(str(value)))
    for name, value in (spec.get("overhead") or {}).items():
        total[name] += parse_quantity(str(value))
    return total


def _limits(pod: dict) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for name, value in ((container.get("resources") or {}).get("limits") or {}).items():
            total[name] += parse_quantity(str(value))
    return total


def _quantity(value: Decimal) -> str:
    """A number as the report writes it: cores for CPU, bytes for memory, plain counts."""
    return format(value.normalize(), "f")


def _owner(pod: dict, replica_sets: dict[tuple[str, str], str]) -> str:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            if ref.get("kind") == "ReplicaSet":
                return replica_sets.get((pod["metadata"]["namespace"], ref["name"]), f"ReplicaSet/{ref['name']}")
            return f"{ref['kind']}/{ref['name']}"
    return "-"


def _pending_reason(pod: dict) -> str:
    gates = (pod.get("spec") or {}).get("schedulingGates") or []
    if gates:
        return "scheduling gated by " + ", ".join(g.get("name", "") for g in gates) + " (waiting for admission)"
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition.get("message") or condition.get("reason") or "not scheduled"
    return "not yet seen by the scheduler"


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) matches these labels."""
    if not selector:
        return False  # a PodDisruptionBudget with an empty selector matches no pods (policy/v1)
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def observe(api: Api) -> Observation:
    nodes = {n["metadata"]["name"]: n for n in api.items("/api/v1/nodes")}
    replica_sets = {}
    for rs in api.items("/apis/apps/v1/replicasets"):
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("controller"):
                replica_sets[(rs["metadata"]["namespace"], rs["metadata"]["name"])] = f"{ref['kind']}/{ref['name']}"
    seen = Observation()
    requested: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    pods = [p for p in api.items("/api/v1/pods") if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]  # finished pods hold nothing
    for pod in sorted(pods, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
        node = (pod.get("spec") or {}).get("nodeName")
        pool = ((nodes.get(node) or {}).get("metadata", {}).get("labels") or {}).get(POOL_LABEL) if node else None
        asked = pod_requests(pod)
        seen.pods.append(PodPlacement(pod["metadata"]["namespace"], pod["metadata"]["name"], _owner(pod, replica_sets), node, pool,
                                      (pod.get("status") or {}).get("phase", ""), None if node else _pending_reason(pod),
                                      {k: _quantity(v) for k, v in sorted(asked.items())}, {k: _quantity(v) for k, v in sorted(_limits(pod).items())},
                                      dict(sorted((pod["metadata"].get("labels") or {}).items()))))
        if pool:
            for name, value in asked.items():
                requested[pool][name] += value
    for budget in sorted(api.items("/apis/policy/v1/poddisruptionbudgets"), key=lambda b: (b["metadata"]["namespace"], b["metadata"]["name"])):
        status = budget.get("status") or {}
        message = next((c.get("message", "") for c in status.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), "")
        selector = (budget.get("spec") or {}).get("selector") or {}
        selected = sum(1 for pod in pods if pod["metadata"]["namespace"] == budget["metadata"]["namespace"] and selects(selector, pod["metadata"].get("labels") or {}))
        seen.budgets.append(Budget(budget["metadata"]["namespace"], budget["metadata"]["name"], int(status.get("disruptionsAllowed", 0)),
                                   int(status.get("currentHealthy", 0)), int(status.get("desiredHealthy", 0)), int(status.get("expectedPods", 0)), message, selected))
    for workload in sorted(api.items(KUEUE_WORKLOADS), key=lambda w: (w["metadata"]["namespace"], w["metadata"]["name"])):
        status = workload.get("status") or {}
        conditions = {c.get("type"): c for c in status.get("conditions") or []}
        admitted = (conditions.get("Admitted") or {}).get("status") == "True"
        reason = conditions.get("Admitted") if admitted else conditions.get("QuotaReserved") or conditions.get("Admitted")
        owners = workload["metadata"].get("ownerReferences") or []
        seen.workloads.append(QueuedWorkload(
            workload["metadata"]["namespace"], workload["metadata"]["name"], str((workload.get("spec") or {}).get("queueName", "")),
            f"{owners[0]['kind']}/{owners[0]['name']}" if owners else "-", admitted,
            (reason or {}).get("message", "") or "no decision from Kueue yet",
        ))
    by_pool: dict[str, list[dict]] = defaultdict(list)
    for node in nodes.values():
        pool = (node["metadata"].get("labels") or {}).get(POOL_LABEL)
        if pool:
            by_pool[pool].append(node)
    for pool, members in sorted(by_pool.items()):
        allocatable: dict[str, Decimal] = defaultdict(Decimal)
        for node in members:
            for name, value in ((node.get("status") or {}).get("allocatable") or {}).items():
                allocatable[name] += parse_quantity(str(value))
        used = requested[pool]
        # GPUs as the nodes advertise them: whole or time-sliced nvidia.com/gpu, or MIG instances.
        gpu_names = {n for n in (*allocatable, *used) if n == GPU or n.startswith(MIG_RESOURCE_PREFIX)}
        seen.pools.append(PoolShare(
            pool, len(members), float(allocatable["cpu"]), float(used["cpu"]),
            float(allocatable["memory"] / 2**30), float(used["memory"] / 2**30),
            int(sum(allocatable[n] for n in gpu_names)), int(sum(used[n] for n in gpu_names)),
        ))
    return seen
