"""`aiops cost` output: per environment and pool, with totals per environment, cloud and overall.

Each pool is billed at its own capacity type (the `monthly at ...` columns); beside them, the
same pool on demand and on spot, at min / desired / max, in the pool's region. The Route 53
items of the traffic stacks (aiops.cost.route53) follow, then the warnings about missing and old
prices (aiops.cost.prices) and about what is not priced.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from aiops.cost.pools import ON_DEMAND, SIZES, SPOT, PoolCost, money, price, price_sources, totals
from aiops.cost.prices import CAPACITY_NAMES, PriceWarning
from aiops.cost.route53 import DnsCost, cite as route53_prices

CLOUD_NAMES = {"aws": "AWS (EKS)", "azure": "Azure (AKS)", "gcp": "Google Cloud (GKE)"}
COLUMNS = ("environment", "cloud", "pool", "region", "instance type", "GPUs/node", "capacity", "USD/h/node", "USD/GPU-hour", "nodes min/desired/max",
           "monthly at min", "monthly at desired", "monthly at max",
           "on-demand USD/h", "on-demand monthly min / desired / max", "spot USD/h", "spot monthly min / desired / max")
NUMERIC = frozenset({7, 8, 10, 11, 12, 13, 14, 15, 16})


def _gpus(cost: PoolCost) -> str:
    if cost.gpus_per_node is None:
        return "?"
    if cost.gpus_per_node == 0:
        return "0"
    text = f"{cost.gpus_per_node} × {cost.gpu_model or cost.accelerator or 'GPU'}"
    if cost.gpu_units_per_node and cost.gpu_units_per_node != cost.gpus_per_node:
        text += f" = {cost.gpu_units_per_node} × {cost.gpu_resource}"  # shared: time slices or MIG instances
    return text


def _per_gpu(cost: PoolCost) -> str:
    value = cost.usd_per_gpu_hour
    return "-" if value is None else price(value.quantize(Decimal("0.0001")).normalize() if value.as_tuple().exponent < -4 else value)


def _instance(cost: PoolCost) -> str:
    return cost.instance_type + (f" + {cost.gpus_per_node} × {cost.accelerator}" if cost.accelerator else "")


def _monthly(cost: PoolCost, size: str) -> str:
    value = cost.monthly(size)
    text = money(value) if value is not None else "not priced"
    return text + ("*" if size == "desired" and not cost.desired_given else "")


def _three(values: Sequence[Decimal | None]) -> str:
    return " / ".join(money(v) for v in values) if all(v is not None for v in values) else "n/a"


def _side(cost: PoolCost, capacity: str) -> tuple[str, str]:
    return price(cost.hourly_for(capacity)), _three([cost.monthly_for(capacity, s) for s in SIZES])


def _rows(costs: list[PoolCost]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for environment in sorted({c.environment for c in costs}):
        pools = [c for c in costs if c.environment == environment]
        for c in pools:
            rows.append((environment, c.cloud, c.pool, c.region or "?", _instance(c), _gpus(c), CAPACITY_NAMES[c.capacity_type],
                         price(c.hourly_usd), _per_gpu(c), "/".join(map(str, c.nodes)), *(_monthly(c, s) for s in SIZES),
                         *_side(c, ON_DEMAND), *_side(c, SPOT)))
        rows.append(_total_row(f"{environment} total", "", pools))
    for cloud in sorted({c.cloud for c in costs}):
        rows.append(_total_row(f"{CLOUD_NAMES.get(cloud, cloud)} total", cloud, [c for c in costs if c.cloud == cloud]))
    rows.append(_total_row("all environments", "", costs))
    return rows


def _total_row(label: str, cloud: str, costs: Iterable[PoolCost]) -> tuple[str, ...]:
    costs = list(costs)
    t = totals(costs)
    gpus = f"{t.gpus_at('max')} at max"
    note = f" ({t.unpriced} pool(s) not priced)" if t.unpriced else ""
    spot_note = f" ({t.unpriced_spot} pool(s) without a spot price)" if t.unpriced_spot else ""
    on_demand = _three([t.at_for(ON_DEMAND, s) for s in SIZES])
    spot = "n/a" if t.unpriced_spot == t.pools else _three([t.at_for(SPOT, s) for s in SIZES]) + spot_note
    return (label, cloud, "", "", "", gpus, "", "", "", "", *(money(t.at(s)) + (note if s == "max" else "") for s in SIZES), "", on_demand, "", spot)


def _prices(costs: list[PoolCost]) -> list[str]:
    return [p.cite() for p in price_sources(costs)]


def _footnotes(costs: list[PoolCost], hours: int) -> list[str]:
    notes = [f"Monthly = USD per node-hour × {hours} hours × nodes, in the pool's region, from the instance catalog; "
             "'monthly at' is what the pool is billed at (its capacity type), the on-demand and spot columns the same pool either way."]
    if any(not c.desired_given for c in costs):
        notes.append("* Terraform sets no desired size for this pool; counted at its minimum.")
    return notes


def _dns_rows(dns: Sequence[DnsCost]) -> list[tuple[str, str, str]]:
    rows = [(c.environment, c.item, money(c.monthly_usd)) for c in dns]
    for environment in sorted({c.environment for c in dns}):
        rows.append((f"{environment} Route 53 total", "", money(sum((c.monthly_usd for c in dns if c.environment == environment), Decimal(0)))))
    return rows


def render_table(costs: list[PoolCost], hours: int, warnings: Sequence[PriceWarning] = (), dns: Sequence[DnsCost] = ()) -> str:
    if not costs:
        return "no node pools found in the Terraform of this tree\n"
    rows = [COLUMNS, *_rows(costs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in NUMERIC else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines += _footnotes(costs, hours)
    if dns:
        header = ("environment", "Route 53 (traffic stacks)", "USD a month")
        rows = [header, *_dns_rows(dns)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines += ["", *("  ".join((r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]))).rstrip() for r in rows[:1]),
                  "  ".join("-" * w for w in widths),
                  *("  ".join((r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]))).rstrip() for r in rows[1:]), ""]
    lines += ["Prices:", *(f"  {p}" for p in _prices(costs))]
    if dns:
        lines.append(f"  {route53_prices()}")
    lines += [w.render() for w in warnings]
    return "\n".join(lines) + "\n"


def render_markdown(costs: list[PoolCost], hours: int, warnings: Sequence[PriceWarning] = (), dns: Sequence[DnsCost] = ()) -> str:
    if not costs:
        return "No node pools found in the Terraform of this tree.\n"
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---:" if i in NUMERIC else "---" for i in range(len(COLUMNS))) + "|"]
    for row in _rows(costs):
        bold = not row[2]  # total rows have no pool
        cells = [f"**{c}**" if bold and c else c for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += _footnotes(costs, hours)
    if dns:
        lines += ["", "| environment | Route 53 (traffic stacks) | USD a month |", "|---|---|---:|",
                  *(f"| {'**' + e + '**' if not item else e} | {item} | {'**' + usd + '**' if not item else usd} |" for e, item, usd in _dns_rows(dns))]
    lines += ["", "Prices:", "", *(f"- {p}" for p in _prices(costs))]
    if dns:
        lines.append(f"- {route53_prices()}")
    if warnings:
        lines += ["", *(f"> ⚠️ {w.message}" for w in warnings)]
    return "\n".join(lines) + "\n"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))


def _parts(parts) -> list[dict]:
    return [{"item": p.item, "count": p.count, "hourlyUSD": p.price.hourly_usd, "region": p.price.region,
             "source": p.price.source, "date": p.price.date} for p in parts]


def _side_json(cost: PoolCost, capacity: str) -> dict:
    hourly = cost.hourly_for(capacity)
    return {"hourlyUSD": float(hourly) if hourly is not None else None,
            "monthlyUSD": {s: _number(cost.monthly_for(capacity, s)) for s in SIZES}, "prices": _parts(cost.parts(capacity))}


def render_json(costs: list[PoolCost], hours: int, warnings: Sequence[PriceWarning] = (), dns: Sequence[DnsCost] = ()) -> str:
    def total(items: list[PoolCost]) -> dict:
        t = totals(items)
        return {"monthlyUSD": {s: _number(t.at(s)) for s in SIZES}, "gpus": {s: t.gpus_at(s) for s in SIZES},
                "pools": t.pools, "unpriced": t.unpriced,
                "onDemandMonthlyUSD": {s: _number(t.at_for(ON_DEMAND, s)) for s in SIZES},
                "spotMonthlyUSD": {s: _number(t.at_for(SPOT, s)) for s in SIZES}, "withoutSpotPrice": t.unpriced_spot}

    document = {
        "hoursPerMonth": hours,
        "pools": [{
            "environment": c.environment, "cloud": c.cloud, "pool": c.pool, "resource": c.resource, "file": c.file,
            "region": c.region, "capacityType": c.capacity_type,
            "instanceType": c.instance_type, "accelerator": c.accelerator, "gpusPerNode": c.gpus_per_node,
            "gpuModel": c.gpu_model, "nodes": dict(zip(SIZES, c.nodes)), "desiredGiven": c.desired_given,
            "hourlyUSD": float(c.hourly_usd) if c.hourly_usd is not None else None,
            "gpuResource": c.gpu_resource, "gpuUnitsPerNode": c.gpu_units_per_node,
            "usdPerGpuHour": float(c.usd_per_gpu_hour) if c.usd_per_gpu_hour is not None else None,
            "monthlyUSD": {s: _number(c.monthly(s)) for s in SIZES},
            "prices": _parts(c.prices),
            "onDemand": _side_json(c, ON_DEMAND),
            "spot": _side_json(c, SPOT),
        } for c in costs],
        "environments": {e: total([c for c in costs if c.environment == e]) for e in sorted({c.environment for c in costs})},
        "clouds": {k: total([c for c in costs if c.cloud == k]) for k in sorted({c.cloud for c in costs})},
        "total": total(costs),
        "route53": [{"environment": c.environment, "resource": c.resource, "file": c.file, "item": c.item, "features": list(c.features),
                     "monthlyUSD": _number(c.monthly_usd)} for c in dns],
        "warnings": [{"kind": w.kind, "message": w.message, "environments": list(w.environments)} for w in warnings],
    }
    return json.dumps(document, indent=2) + "\n"
