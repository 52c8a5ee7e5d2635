"""Warnings about the prices a cost report stands on: missing ones, and old ones.

A price is missing when the catalog knows no price of the pool's instance type (or attached
accelerator) in the pool's region for a capacity type: the pool's own (it is then left out of the
totals) or the other one (its column stays empty). A price is old when its `date` lies more
than `max_age_days` before `as_of`. `as_of` is passed in (the CLI passes today), never read from
the clock here, so a report and its tests mean the same thing on any day.

Catalog dates are written `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; a month or year counts from its
first day (the oldest the price can be).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from aiops.cost.pools import CAPACITY_TYPES, ON_DEMAND, SPOT, PoolCost, price_sources
from aiops.model.catalog import load_catalog

DEFAULT_MAX_AGE_DAYS = 365
CAPACITY_NAMES = {ON_DEMAND: "on-demand", SPOT: "spot"}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True)
class PriceWarning:
    kind: str  # missing | missing-other | old | undated
    message: str
    environments: tuple[str, ...] = ()

    def render(self) -> str:
        return f"warning: {self.message}"


def price_date(text: str) -> date | None:
    """The day a catalog date stands for (its first day for a month or year); None: unreadable."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _missing_item(cost: PoolCost, capacity_type: str) -> str:
    """What the catalog lacks for this pool at this capacity type, in words."""
    catalog = load_catalog()
    if catalog.instance_type(cost.cloud, cost.instance_type) is None:
        return f"{cost.instance_type} is not in the {cost.cloud} catalog"
    region = cost.region or "(no region in the Terraform)"
    items = [cost.instance_type]
    if cost.accelerator:
        accelerator = catalog.accelerator(cost.cloud, cost.accelerator)
        machine = catalog.instance_type(cost.cloud, cost.instance_type)
        if machine is not None and cost.region and machine.price_for(cost.region, capacity_type) is not None:
            items = [cost.accelerator]
        elif accelerator is None or not cost.region or accelerator.price_for(cost.region, capacity_type) is None:
            items.append(cost.accelerator)
    return f"no {CAPACITY_NAMES[capacity_type]} price of {' or '.join(items)} in {region}"


def price_warnings(costs: Iterable[PoolCost], *, as_of: date, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> list[PriceWarning]:
    """Every missing or old price behind these pools' costs, most serious first."""
    costs = list(costs)
    found: list[PriceWarning] = []
    for cost in costs:
        if not cost.priced:
            found.append(PriceWarning(
                "missing",
                f"{cost.environment}/{cost.pool} ({CAPACITY_NAMES[cost.capacity_type]}): {_missing_item(cost, cost.capacity_type)}; "
                f"the pool is left out of the totals (add the price to catalog/instance_types.yaml)",
                (cost.environment,),
            ))
    others: dict[tuple[str, str], list[PoolCost]] = {}
    for cost in costs:
        if not cost.priced:
            continue
        for capacity in CAPACITY_TYPES:
            if capacity != cost.capacity_type and not cost.parts(capacity):
                others.setdefault((capacity, _missing_item(cost, capacity)), []).append(cost)
    for (capacity, what), pools in sorted(others.items()):
        names = ", ".join(f"{c.environment}/{c.pool}" for c in pools)
        key = "spotPrices" if capacity == SPOT else "prices"
        found.append(PriceWarning(
            "missing-other",
            f"{what} ({names}): the {CAPACITY_NAMES[capacity]} column leaves them out (add {key} to catalog/instance_types.yaml)",
            tuple(sorted({c.environment for c in pools})),
        ))
    for source in price_sources(costs):
        day = price_date(source.date)
        users = tuple(sorted({c.environment for c in costs for part in c.parts(source.capacity_type)
                              if part.item == source.item and part.price.region == source.region and c.cloud == source.cloud}))
        if day is None:
            found.append(PriceWarning("undated", f"{source.cite()}: the date {source.date!r} is not YYYY-MM-DD, YYYY-MM or YYYY", users))
            continue
        age = (as_of - day).days
        if age > max_age_days:
            found.append(PriceWarning(
                "old",
                f"{source.cite()} is {age} days old on {as_of.isoformat()} (more than {max_age_days}); check it and update its date",
                users,
            ))
    return found
