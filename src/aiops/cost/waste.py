"""What the pools pay for that no pod requests, measured by `aiops simulate`.

Input is the simulation's JSON (`aiops simulate --format json`): for each environment and pass
(desired: pools at their desired size, workloads at their minimum; max: both at their maximum),
each pool's allocatable and requested CPU, memory and GPUs, and every pod with its node, pool,
owner and requests. Prices come from the same pool costs as `aiops cost` (aiops.cost.pools).

- **Idle share** of a pool at a pass: for CPU, memory and GPUs, 1 - requested / allocatable.
  It is priced by the resource that decides how many nodes the pool needs: the GPUs on a GPU
  pool, else whichever of CPU and memory is the more requested. So `idle USD a month` = the
  pool's monthly cost at that size x (1 - that resource's requested share).
- **Idle GPU floor:** a GPU pool with `min > 0` on which, at the desired pass, nothing runs but
  per-node agents (DaemonSets): its minimum nodes are paid for nothing.
- **Oversized nodes:** a pool whose largest pod (not a DaemonSet's) asks for less than half of a
  node's allocatable CPU and memory, and whose most loaded node (at either pass, DaemonSets
  included) would also fit on a cheaper type of the catalog with the same GPUs: the same pods fit
  on as many smaller nodes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiops.cost.pools import PoolCost
from aiops.model.quantity import parse_quantity

GIB = Decimal(2**30)
OVERSIZED_SHARE = Decimal("0.5")  # the largest pod asks for less than this share of a node


class SimulationInputError(ValueError):
    """The simulation JSON is not what `aiops simulate --format json` writes."""


@dataclass(frozen=True)
class Load:
    """Requests on one node (or of one pod): CPU cores, memory GiB and GPUs (any nvidia.com/ unit)."""

    cpu: Decimal
    memory_gib: Decimal
    gpus: Decimal

    def __add__(self, other: Load) -> Load:
        return Load(self.cpu + other.cpu, self.memory_gib + other.memory_gib, self.gpus + other.gpus)


ZERO = Load(Decimal(0), Decimal(0), Decimal(0))


def load_of(requests: dict[str, Any]) -> Load:
    gpus = sum((parse_quantity(str(v)) for k, v in requests.items() if k == "nvidia.com/gpu" or k.startswith("nvidia.com/mig-")), Decimal(0))
    return Load(parse_quantity(str(requests.get("cpu", "0"))), parse_quantity(str(requests.get("memory", "0"))) / GIB, gpus)


@dataclass(frozen=True)
class PoolPass:
    """One pool in one pass of the simulation, priced."""

    environment: str
    pool: str
    pass_name: str  # desired | max
    nodes: int
    allocatable: Load  # the whole pool
    requested: Load
    monthly: Decimal | None  # the pool's monthly cost at this size (as billed); None: not priced
    is_gpu_pool: bool
    pods: tuple[dict, ...]  # the pods placed on the pool

    def share(self, resource: str) -> Decimal | None:
        have, used = getattr(self.allocatable, resource), getattr(self.requested, resource)
        return None if not have else used / have

    def idle(self, resource: str) -> Decimal | None:
        share = self.share(resource)
        return None if share is None else max(Decimal(0), 1 - share)

    @property
    def binding(self) -> str:
        """The resource that decides how many nodes the pool needs."""
        if self.is_gpu_pool and self.allocatable.gpus:
            return "gpus"
        return "cpu" if (self.share("cpu") or 0) >= (self.share("memory_gib") or 0) else "memory_gib"

    @property
    def idle_monthly(self) -> Decimal | None:
        idle = self.idle(self.binding)
        return None if self.monthly is None or idle is None else self.monthly * idle

    @property
    def per_node(self) -> Load | None:
        if not self.nodes:
            return None
        n = Decimal(self.nodes)
        return Load(self.allocatable.cpu / n, self.allocatable.memory_gib / n, self.allocatable.gpus / n)

    def workload_pods(self) -> list[dict]:
        return [p for p in self.pods if not str(p.get("owner", "")).startswith("DaemonSet/")]

    def largest_pod(self) -> tuple[dict, Load] | None:
        per_node = self.per_node
        pods = [(p, load_of(p.get("requests") or {})) for p in self.workload_pods()]
        if not pods or per_node is None:
            return None
        return max(pods, key=lambda item: max(item[1].cpu / per_node.cpu if per_node.cpu else 0,
                                              item[1].memory_gib / per_node.memory_gib if per_node.memory_gib else 0))

    def most_loaded_node(self) -> Load:
        by_node: dict[str, Load] = defaultdict(lambda: ZERO)
        for pod in self.pods:
            by_node[str(pod.get("node"))] = by_node[str(pod.get("node"))] + load_of(pod.get("requests") or {})
        if not by_node:
            return ZERO
        return Load(max(l.cpu for l in by_node.values()), max(l.memory_gib for l in by_node.values()), max(l.gpus for l in by_node.values()))


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimulationInputError(f"{where}: expected a number, got {value!r}")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def pool_passes(simulation: Any, costs: list[PoolCost]) -> list[PoolPass]:
    """Every pool of every pass of the simulation JSON, priced with `costs` (by environment and pool)."""
    if not isinstance(simulation, dict) or simulation.get("format") != 1 or not isinstance(simulation.get("environments"), list):
        raise SimulationInputError("not the JSON of `aiops simulate --format json` (format 1, with environments)")
    by_key = {c.key: c for c in costs}
    found = []
    for e, env in enumerate(simulation["environments"]):
        name = env.get("environment") if isinstance(env, dict) else None
        if not isinstance(name, str):
            raise SimulationInputError(f"environments[{e}]: no environment name")
        for p, run in enumerate(env.get("passes") or []):
            where = f"environments[{e}].passes[{p}]"
            if run.get("pass") not in ("desired", "max"):
                raise SimulationInputError(f"{where}.pass: expected desired or max, got {run.get('pass')!r}")
            pods_by_pool: dict[str, list[dict]] = defaultdict(list)
            for pod in run.get("pods") or []:
                if isinstance(pod, dict) and pod.get("pool") and pod.get("node"):
                    pods_by_pool[pod["pool"]].append(pod)
            for i, pool in enumerate(run.get("pools") or []):
                at = f"{where}.pools[{i}]"
                cost = by_key.get((name, pool.get("pool")))
                nodes = pool.get("nodes")
                if not isinstance(nodes, int):
                    raise SimulationInputError(f"{at}.nodes: expected a whole number, got {nodes!r}")
                monthly = None
                if cost is not None and cost.hourly_usd is not None:
                    monthly = cost.hourly_usd * cost.hours_per_month * nodes
                found.append(PoolPass(
                    name, str(pool.get("pool")), run["pass"], nodes,
                    Load(_decimal(pool.get("cpu_allocatable"), at), _decimal(pool.get("memory_allocatable_gib"), at), _decimal(pool.get("gpu_allocatable"), at)),
                    Load(_decimal(pool.get("cpu_requested"), at), _decimal(pool.get("memory_requested_gib"), at), _decimal(pool.get("gpu_requested"), at)),
                    monthly, bool(cost.gpus_per_node) if cost is not None else bool(pool.get("gpu_allocatable")),
                    tuple(pods_by_pool.get(str(pool.get("pool")), ())),
                ))
    return found
