"""`aiops cost` output: per environment and pool, with totals per environment, cloud and overall."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

from aiops.review.cost import SIZES, PoolCost, money, price, price_sources, totals

CLOUD_NAMES = {"aws": "AWS (EKS)", "azure": "Azure (AKS)", "gcp": "Google Cloud (GKE)"}
COLUMNS = ("environment", "cloud", "pool", "instance type", "GPUs/node", "USD/h/node", "nodes min/desired/max",
           "monthly at min", "monthly at desired", "monthly at max")


def _gpus(cost: PoolCost) -> str:
    if cost.gpus_per_node is None:
        return "?"
    if cost.gpus_per_node == 0:
        return "0"
    return f"{cost.gpus_per_node} × {cost.gpu_model or cost.accelerator or 'GPU'}"


def _instance(cost: PoolCost) -> str:
    return cost.instance_type + (f" + {cost.gpus_per_node} × {cost.accelerator}" if cost.accelerator else "")


def _monthly(cost: PoolCost, size: str) -> str:
    value = cost.monthly(size)
    text = money(value) if value is not None else "not in catalog"
    return text + ("*" if size == "desired" and not cost.desired_given else "")


def _rows(costs: list[PoolCost]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for environment in sorted({c.environment for c in costs}):
        pools = [c for c in costs if c.environment == environment]
        for c in pools:
            rows.append((environment, c.cloud, c.pool, _instance(c), _gpus(c), price(c.hourly_usd),
                         "/".join(map(str, c.nodes)), *(_monthly(c, s) for s in SIZES)))
        rows.append(_total_row(f"{environment} total", "", pools))
    for cloud in sorted({c.cloud for c in costs}):
        rows.append(_total_row(f"{CLOUD_NAMES.get(cloud, cloud)} total", cloud, [c for c in costs if c.cloud == cloud]))
    rows.append(_total_row("all environments", "", costs))
    return rows


def _total_row(label: str, cloud: str, costs: Iterable[PoolCost]) -> tuple[str, ...]:
    t = totals(costs)
    gpus = f"{t.gpus_at('max')} at max"
    note = f" ({t.unpriced} pool(s) not priced)" if t.unpriced else ""
    return (label, cloud, "", "", gpus, "", "", *(money(t.at(s)) + (note if s == "max" else "") for s in SIZES))


def _prices(costs: list[PoolCost]) -> list[str]:
    return [p.cite() for p in price_sources(costs)]


def _footnotes(costs: list[PoolCost], hours: int) -> list[str]:
    notes = [f"Monthly = USD per node-hour × {hours} hours × nodes (on-demand, from the instance catalog)."]
    if any(not c.desired_given for c in costs):
        notes.append("* Terraform sets no desired size for this pool; counted at its minimum.")
    return notes


def render_table(costs: list[PoolCost], hours: int) -> str:
    if not costs:
        return "no node pools found in the Terraform of this tree\n"
    rows = [COLUMNS, *_rows(costs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    numeric = {5, 7, 8, 9}
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines += _footnotes(costs, hours)
    lines += ["Prices:", *(f"  {p}" for p in _prices(costs))]
    return "\n".join(lines) + "\n"


def render_markdown(costs: list[PoolCost], hours: int) -> str:
    if not costs:
        return "No node pools found in the Terraform of this tree.\n"
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---:" if i in (5, 7, 8, 9) else "---" for i in range(len(COLUMNS))) + "|"]
    for row in _rows(costs):
        bold = not row[2]  # total rows have no pool
        cells = [f"**{c}**" if bold and c else c for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += _footnotes(costs, hours)
    lines += ["", "Prices:", "", *(f"- {p}" for p in _prices(costs))]
    return "\n".join(lines) + "\n"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))


def render_json(costs: list[PoolCost], hours: int) -> str:
    def total(items: list[PoolCost]) -> dict:
        t = totals(items)
        return {"monthlyUSD": {s: _number(t.at(s)) for s in SIZES}, "gpus": {s: t.gpus_at(s) for s in SIZES},
                "pools": t.pools, "unpriced": t.unpriced}

    document = {
        "hoursPerMonth": hours,
        "pools": [{
            "environment": c.environment, "cloud": c.cloud, "pool": c.pool, "resource": c.resource, "file": c.file,
            "instanceType": c.instance_type, "accelerator": c.accelerator, "gpusPerNode": c.gpus_per_node,
            "gpuModel": c.gpu_model, "nodes": dict(zip(SIZES, c.nodes)), "desiredGiven": c.desired_given,
            "hourlyUSD": float(c.hourly_usd) if c.hourly_usd is not None else None,
            "monthlyUSD": {s: _number(c.monthly(s)) for s in SIZES},
            "prices": [{"item": p.item, "count": p.count, "hourlyUSD": p.price.hourly_usd, "region": p.price.region,
                        "source": p.price.source, "date": p.price.date} for p in c.prices],
        } for c in costs],
        "environments": {e: total([c for c in costs if c.environment == e]) for e in sorted({c.environment for c in costs})},
        "clouds": {k: total([c for c in costs if c.cloud == k]) for k in sorted({c.cloud for c in costs})},
        "total": total(costs),
    }
    return json.dumps(document, indent=2) + "\n"
