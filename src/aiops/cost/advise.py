"""`aiops cost --advise`: what to change in the environment files to stop paying for idle capacity.

From the simulation's pools (aiops.cost.waste) and the pools' prices (aiops.cost.pools):

- every pool's idle share at desired and at max, priced (a listing: no change by itself);
- `min: N -> 0` for a GPU pool whose minimum nodes run nothing but DaemonSets at the desired
  pass; saving: the pool's monthly cost at min (`min x USD/h x hours`);
- `instanceType: A -> B` where the largest pod leaves most of a node unused and B, the
  cheapest type of the catalog with the same GPUs (same accelerator family on Google Cloud) in
  the pool's region and capacity type, still holds the most loaded node of either pass by its
  allocatable; saving: `(USD/h of A - USD/h of B) x hours x nodes`, at desired and at max.

Each change names the environment file and line (read with ruamel, as the loader reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aiops.cost.pools import PoolCost, usd
from aiops.cost.waste import OVERSIZED_SHARE, Load, PoolPass
from aiops.model.allocatable import node_resources
from aiops.model.catalog import load_catalog


@dataclass(frozen=True)
class Change:
    file: str
    line: int | None
    field: str  # e.g. nodePools[1].min
    old: str
    new: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class Advice:
    environment: str
    pool: str
    kind: str  # idle-gpu-floor | oversized-nodes
    message: str
    saving_desired: Decimal  # USD a month
    saving_max: Decimal
    changes: tuple[Change, ...]


def _field_line(environments: Path, environment: str, pool: str, key: str) -> tuple[str, int | None, int | None]:
    """(file, line of `key` in the pool's entry, the pool's index) in environments/<environment>.yaml."""
    from ruamel.yaml import YAML

    path = environments / f"{environment}.yaml"
    try:
        data = YAML().load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return str(path), None, None
    for index, entry in enumerate((data or {}).get("nodePools") or []):
        if entry.get("name") == pool:
            line = entry.lc.key(key)[0] + 1 if key in entry else entry.lc.line + 1
            return str(path), line, index
    return str(path), None, None


def _change(environments: Path, environment: str, pool: str, key: str, old: str, new: str) -> Change:
    file, line, index = _field_line(environments, environment, pool, key)
    return Change(file, line, f"nodePools[{index if index is not None else '?'}].{key}", old, new)


def _allocatable(cloud: str, name: str) -> Load | None:
    machine = load_catalog().instance_type(cloud, name)  # type: ignore[arg-type]
    if machine is None:
        return None
    gpus = machine.gpu.count if machine.gpu else 0
    node = node_resources(cloud, name, machine.vcpu, machine.memory_gi_b, gpus)
    return Load(Decimal(node.allocatable_cpu_millis) / 1000, Decimal(node.allocatable_memory_bytes) / 2**30, Decimal(gpus))


def smaller_type(cost: PoolCost, need: Load) -> tuple[str, Decimal] | None:
    """The cheapest catalog type with the pool's GPUs that holds `need`, priced like the pool; None: none cheaper."""
    catalog = load_catalog()
    current = catalog.instance_type(cost.cloud, cost.instance_type)
    if current is None or cost.hourly_usd is None or not cost.region:
        return None
    extra = cost.hourly_usd - usd(current.price_for(cost.region, cost.capacity_type).hourly_usd)  # attached accelerators (GKE)
    families = None
    if cost.accelerator:
        accelerator = catalog.accelerator(cost.cloud, cost.accelerator)
        families = accelerator.machine_families if accelerator else ()
    shape = (current.gpu.model, current.gpu.count) if current.gpu else None
    best: tuple[str, Decimal] | None = None
    for name in catalog.instance_type_names(cost.cloud):
        machine = catalog.instance_type(cost.cloud, name)
        if name == cost.instance_type or machine.retirement is not None:
            continue
        if ((machine.gpu.model, machine.gpu.count) if machine.gpu else None) != shape:
            continue
        if families is not None and name.split("-", 1)[0] not in families:
            continue
        price = machine.price_for(cost.region, cost.capacity_type)
        room = _allocatable(cost.cloud, name)
        if price is None or room is None or room.cpu < need.cpu or room.memory_gib < need.memory_gib:
            continue
        hourly = usd(price.hourly_usd) + extra
        if hourly < cost.hourly_usd and (best is None or hourly < best[1]):
            best = (name, hourly)
    return best


def advise(passes: list[PoolPass], costs: list[PoolCost], environments: Path) -> list[Advice]:
    """The changes that save money, by environment and pool (see the module docstring)."""
    by_key = {c.key: c for c in costs}
    found: list[Advice] = []
    pools = sorted({(p.environment, p.pool) for p in passes})
    for environment, pool in pools:
        cost = by_key.get((environment, pool))
        runs = {p.pass_name: p for p in passes if (p.environment, p.pool) == (environment, pool)}
        if cost is None or cost.hourly_usd is None or "desired" not in runs:
            continue
        desired = runs["desired"]
        hours = cost.hours_per_month
        if cost.gpus_per_node and cost.nodes[0] > 0 and not desired.workload_pods():
            saving = cost.hourly_usd * hours * cost.nodes[0]
            found.append(Advice(
                environment, pool, "idle-gpu-floor",
                f"GPU pool {pool} keeps {cost.nodes[0]} node(s) at its minimum, and at the desired size nothing but DaemonSets runs there; "
                "the autoscaler can bring GPU nodes up from zero when a pod asks for one",
                saving, saving,
                (_change(environments, environment, pool, "min", str(cost.nodes[0]), "0"),)
                + ((_change(environments, environment, pool, "desired", str(cost.nodes[1]), "0"),) if cost.nodes[1] else ()),
            ))
        largest = [found_pod[1] for r in runs.values() if (found_pod := r.largest_pod()) is not None]
        per_node = desired.per_node
        biggest = max(largest, default=None,
                      key=lambda load: max(load.cpu / per_node.cpu if per_node and per_node.cpu else 0,
                                           load.memory_gib / per_node.memory_gib if per_node and per_node.memory_gib else 0))
        if biggest is None or per_node is None or not per_node.cpu or not per_node.memory_gib:
            continue
        if biggest.cpu >= per_node.cpu * OVERSIZED_SHARE or biggest.memory_gib >= per_node.memory_gib * OVERSIZED_SHARE:
            continue
        need = Load(max(r.most_loaded_node().cpu for r in runs.values()), max(r.most_loaded_node().memory_gib for r in runs.values()), Decimal(0))
        smaller = smaller_type(cost, need)
        if smaller is None:
            continue
        name, hourly = smaller
        delta = cost.hourly_usd - hourly
        found.append(Advice(
            environment, pool, "oversized-nodes",
            f"the largest pod on {pool} asks for {biggest.cpu:g} CPU and {biggest.memory_gib:.1f} GiB of a node's {per_node.cpu:.2f} CPU and "
            f"{per_node.memory_gib:.1f} GiB allocatable, and the most loaded node holds {need.cpu:g} CPU and {need.memory_gib:.1f} GiB; "
            f"{name} holds that with the same GPUs at {hourly} instead of {cost.hourly_usd} USD/h",
            delta * hours * cost.nodes[1], delta * hours * cost.nodes[2],
            (_change(environments, environment, pool, "instanceType", cost.instance_type, name),),
        ))
    return found
