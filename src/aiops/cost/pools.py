"""What node pools cost a month: the one calculation behind `aiops cost` and `aiops diff`.

Pools come from the Terraform JSON of a tree (`aiops.tree.pools`), prices from the instance
catalog in the pool's own region (the EKS provider's region, the AKS cluster's location, the GKE
pool's location; never another region's price), on demand and spot, with their source and
date, and a month is the catalog's `hoursPerMonth` (730). A pool is billed at its own capacity
type (`capacity_type`); the other is priced beside it, for comparison. Amounts are `Decimal`, built from the catalog's figures as written, so that sums and
differences are exact to the cent (2 x 3.06 x 730 is 4467.60, not 4467.599999...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from aiops.model.catalog import Cloud, load_catalog
from aiops.tree.pools import PoolFacts, PricePart, pools_of
from aiops.tree.terraform import TerraformTree

SIZES = ("min", "desired", "max")
ON_DEMAND, SPOT = "onDemand", "spot"
CAPACITY_TYPES = (ON_DEMAND, SPOT)
NO_ENVIRONMENT = "(no environment)"
CENT = Decimal("0.01")


def usd(value: float) -> Decimal:
    """A catalog price as an exact decimal (the shortest repr of the float is what the YAML says)."""
    return Decimal(repr(value))


@dataclass(frozen=True)
class PoolCost:
    """One node pool: its size, GPUs and what it costs at its minimum, desired and maximum size."""

    environment: str
    cloud: Cloud
    pool: str
    resource: str  # Terraform address
    file: str
    instance_type: str
    accelerator: str | None
    gpus_per_node: int | None
    gpu_model: str | None
    nodes: tuple[int, int, int]  # min, desired, max
    desired_given: bool  # False: Terraform sets no size, so desired is counted at the minimum
    prices: tuple[PricePart, ...]  # what the pool is billed at; empty when the catalog has no such price
    hours_per_month: int
    capacity_type: str = ON_DEMAND  # onDemand | spot: what the pool runs (and is billed at)
    region: str | None = None
    on_demand_prices: tuple[PricePart, ...] = ()  # empty: no on-demand price for the region
    spot_prices: tuple[PricePart, ...] = ()  # empty: no spot price for the region
    gpu_resource: str = "nvidia.com/gpu"  # what the GPUs are offered as (time slices, MIG instances: aiops.model.gpu_sharing)
    gpu_units_per_node: int | None = None  # units of gpu_resource one node advertises

    @property
    def usd_per_gpu_hour(self) -> Decimal | None:
        """What one advertised GPU unit (a GPU, a time slice, a MIG instance) costs an hour, as billed."""
        hourly = self.hourly_usd
        return None if hourly is None or not self.gpu_units_per_node else hourly / self.gpu_units_per_node

    @property
    def priced(self) -> bool:
        return bool(self.prices)

    @property
    def hourly_usd(self) -> Decimal | None:
        """USD per node-hour as billed (machine plus attached accelerators)."""
        return _hourly(self.prices)

    def parts(self, capacity_type: str) -> tuple[PricePart, ...]:
        return self.spot_prices if capacity_type == SPOT else self.on_demand_prices

    def hourly_for(self, capacity_type: str) -> Decimal | None:
        """USD per node-hour on demand or spot, whichever the pool runs."""
        return _hourly(self.parts(capacity_type))

    def size(self, size: str) -> int:
        return self.nodes[SIZES.index(size)]

    def monthly(self, size: str) -> Decimal | None:
        """USD a month at this size, as billed."""
        hourly = self.hourly_usd
        return None if hourly is None else hourly * self.hours_per_month * self.size(size)

    def monthly_for(self, capacity_type: str, size: str) -> Decimal | None:
        """USD a month at this size if the pool ran on demand or spot."""
        hourly = self.hourly_for(capacity_type)
        return None if hourly is None else hourly * self.hours_per_month * self.size(size)

    def gpus(self, size: str) -> int | None:
        return None if self.gpus_per_node is None else self.gpus_per_node * self.size(size)

    @property
    def key(self) -> tuple[str, str]:
        return (self.environment, self.pool)


def _hourly(parts: tuple[PricePart, ...]) -> Decimal | None:
    if not parts:
        return None
    return sum((usd(part.price.hourly_usd) * part.count for part in parts), Decimal(0))


def pool_cost(pool: PoolFacts) -> PoolCost:
    on_demand, spot = pool.price_parts(ON_DEMAND) or (), pool.price_parts(SPOT) or ()
    parts = spot if pool.spot else on_demand
    desired = pool.desired if pool.desired is not None else pool.min
    return PoolCost(
        environment=pool.environment or NO_ENVIRONMENT,
        cloud=pool.cloud,
        pool=pool.name,
        resource=pool.resource,
        file=pool.file,
        instance_type=pool.instance_type,
        accelerator=pool.accelerator,
        gpus_per_node=pool.gpus_per_node,
        gpu_model=pool.gpu_model,
        nodes=(pool.min, desired, pool.max),
        desired_given=pool.desired is not None,
        prices=tuple(parts),
        hours_per_month=load_catalog().hours_per_month,
        capacity_type=pool.capacity_type,
        region=pool.region,
        on_demand_prices=tuple(on_demand),
        spot_prices=tuple(spot),
        gpu_resource=pool.gpu_resource,
        gpu_units_per_node=pool.advertised_gpus,
    )


def pool_costs(tree: TerraformTree) -> list[PoolCost]:
    """The cost of every node pool the tree's Terraform declares, by environment and pool name."""
    return sorted((pool_cost(pool) for pool in pools_of(tree)), key=lambda c: (c.environment, c.pool, c.resource))


@dataclass(frozen=True)
class CostTotals:
    """Sums over some pools; `unpriced` counts pools whose instance type the catalog lacks."""

    monthly: tuple[Decimal, Decimal, Decimal]  # at min, desired, max, as billed
    gpus: tuple[int, int, int]
    pools: int
    unpriced: int
    on_demand: tuple[Decimal, Decimal, Decimal] = (Decimal(0),) * 3  # every pool on demand
    spot: tuple[Decimal, Decimal, Decimal] = (Decimal(0),) * 3  # every pool on spot (where priced)
    unpriced_spot: int = 0  # pools without a spot price (left out of `spot`)

    def at(self, size: str) -> Decimal:
        return self.monthly[SIZES.index(size)]

    def at_for(self, capacity_type: str, size: str) -> Decimal:
        return (self.spot if capacity_type == SPOT else self.on_demand)[SIZES.index(size)]

    def gpus_at(self, size: str) -> int:
        return self.gpus[SIZES.index(size)]


def totals(costs: Iterable[PoolCost]) -> CostTotals:
    costs = list(costs)
    return CostTotals(
        monthly=tuple(sum((c.monthly(s) or Decimal(0) for c in costs), Decimal(0)) for s in SIZES),
        gpus=tuple(sum(c.gpus(s) or 0 for c in costs) for s in SIZES),
        pools=len(costs),
        unpriced=sum(1 for c in costs if not c.priced),
        on_demand=tuple(sum((c.monthly_for(ON_DEMAND, s) or Decimal(0) for c in costs), Decimal(0)) for s in SIZES),
        spot=tuple(sum((c.monthly_for(SPOT, s) or Decimal(0) for c in costs), Decimal(0)) for s in SIZES),
        unpriced_spot=sum(1 for c in costs if not c.spot_prices),
    )


@dataclass(frozen=True)
class PriceSource:
    """A catalog price as a report cites it."""

    item: str
    cloud: Cloud
    hourly_usd: Decimal
    region: str
    source: str
    date: str
    capacity_type: str = ON_DEMAND

    def cite(self) -> str:
        kind = " spot" if self.capacity_type == SPOT else ""
        return f"{self.item}{kind} {price(self.hourly_usd)} USD/h ({self.region}; {self.source}; {self.date})"


def price_sources(costs: Iterable[PoolCost]) -> list[PriceSource]:
    """Each distinct catalog price the pools use (on demand and spot, in their regions), once,
    sorted by cloud, item, region and capacity type."""
    found = {
        (c.cloud, part.item, part.price.region, capacity): PriceSource(
            part.item, c.cloud, usd(part.price.hourly_usd), part.price.region, part.price.source, part.price.date, capacity)
        for c in costs
        for capacity in CAPACITY_TYPES
        for part in c.parts(capacity)
    }
    return [found[k] for k in sorted(found)]


def money(value: Decimal | None, *, signed: bool = False) -> str:
    """1234.5 -> '1,234.50'; signed: '+1,234.50' / '-1,234.50' / '0.00'."""
    if value is None:
        return "n/a"
    rounded = value.quantize(CENT)
    text = f"{abs(rounded):,.2f}"
    if signed and rounded != 0:
        return ("+" if rounded > 0 else "-") + text
    return ("-" if rounded < 0 else "") + text


def price(value: Decimal | None) -> str:
    """An hourly price as the catalog writes it: at least cents, never rounding a third decimal away."""
    if value is None:
        return "n/a"
    return f"{value.quantize(CENT)}" if value.as_tuple().exponent > -2 else f"{value:f}"
