"""`aiops cost --advise` output: idle capacity per pool and pass, then the changes with their saving."""

from __future__ import annotations

import json
from decimal import Decimal

from aiops.cost.advise import Advice
from aiops.cost.pools import money
from aiops.cost.waste import PoolPass

RESOURCES = (("cpu", "CPU"), ("memory_gib", "memory"), ("gpus", "GPUs"))
BINDING = {"cpu": "CPU", "memory_gib": "memory", "gpus": "GPUs"}


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{(value * 100).quantize(Decimal('1'))}%"


def _rows(passes: list[PoolPass]) -> list[tuple[str, ...]]:
    rows = []
    for p in sorted(passes, key=lambda p: (p.environment, p.pool, p.pass_name != "desired")):
        rows.append((p.environment, p.pool, p.pass_name, str(p.nodes), *(_percent(p.idle(r)) for r, _ in RESOURCES),
                     BINDING[p.binding], money(p.idle_monthly) if p.idle_monthly is not None else "not priced"))
    return rows


COLUMNS = ("environment", "pool", "pass", "nodes", "CPU idle", "memory idle", "GPUs idle", "priced by", "idle USD a month")
NOTE = ("Idle = the share of the pool's allocatable that no pod requests, in the simulation's pass (desired: pools at desired, workloads at "
        "their minimum; max: both at their maximum); priced as the pool's monthly cost at that size x the idle share of the resource "
        "that decides its size (GPUs on a GPU pool, else the more requested of CPU and memory).")


def render_text(passes: list[PoolPass], advice: list[Advice]) -> str:
    rows = [COLUMNS, *_rows(passes)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(widths[i]) if i >= 3 else c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", NOTE, ""]
    if not advice:
        lines.append("No change to advise: no idle GPU floor, no pool whose nodes are twice what its pods need.")
    for a in advice:
        lines.append(f"{a.environment}/{a.pool} [{a.kind}]: saves {money(a.saving_desired)} USD a month at desired, {money(a.saving_max)} at max")
        lines.append(f"    {a.message}")
        lines += [f"    change: {c.render()}" for c in a.changes]
    if advice:
        total = sum((a.saving_desired for a in advice), Decimal(0))
        lines.append(f"All changes: {money(total)} USD a month at desired.")
    return "\n".join(lines) + "\n"


def render_markdown(passes: list[PoolPass], advice: list[Advice]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---:" if i >= 3 else "---" for i in range(len(COLUMNS))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(passes)]
    lines += ["", NOTE, ""]
    for a in advice:
        lines.append(f"- **{a.environment}/{a.pool}** ({a.kind}): saves **{money(a.saving_desired)}** USD a month at desired, "
                     f"{money(a.saving_max)} at max. {a.message}")
        lines += [f"  - `{c.render()}`" for c in a.changes]
    return "\n".join(lines) + "\n"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))


def render_json(passes: list[PoolPass], advice: list[Advice]) -> str:
    document = {
        "pools": [{
            "environment": p.environment, "pool": p.pool, "pass": p.pass_name, "nodes": p.nodes,
            "idleShare": {label: (None if p.idle(r) is None else round(float(p.idle(r)), 4)) for r, label in (("cpu", "cpu"), ("memory_gib", "memory"), ("gpus", "gpus"))},
            "pricedBy": BINDING[p.binding], "monthlyUSD": _number(p.monthly), "idleMonthlyUSD": _number(p.idle_monthly),
        } for p in passes],
        "advice": [{
            "environment": a.environment, "pool": a.pool, "kind": a.kind, "message": a.message,
            "monthlySavingUSD": {"desired": _number(a.saving_desired), "max": _number(a.saving_max)},
            "changes": [{"file": c.file, "line": c.line, "field": c.field, "from": c.old, "to": c.new} for c in a.changes],
        } for a in advice],
    }
    return json.dumps(document, indent=2) + "\n"
