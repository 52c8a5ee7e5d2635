"""`aiops diff` output: markdown for a pull-request comment, JSON for machines, text for terminals.

Markdown puts a summary table first (one row per environment that changes), then what needs
attention, then each environment's details folded in a <details> block. Environments without
changes do not appear. GitHub refuses comments over 65,536 characters: a report that would be
longer drops its field-by-field tables and says so.
"""

from __future__ import annotations

import json
from decimal import Decimal

from aiops.review.changes import DiffReport, EnvironmentDiff, ObjectChange, PoolChange, ResourceChange
from aiops.cost.pools import ON_DEMAND, SIZES, SPOT, PoolCost, money, price
from aiops.cost.prices import CAPACITY_NAMES
from aiops.review.fields import FieldChange, show
from aiops.review.replacement import REPLACE

MARKDOWN_LIMIT = 60_000  # GitHub's comment limit is 65,536 characters; leave room for the workflow's header
FIELDS_PER_OBJECT = 25

FATES = {
    "pruned": "pruned: Flux deletes it from the cluster (Kustomization {owner})",
    "orphaned": "stays in the cluster, unmanaged (Kustomization {owner} does not prune it)",
    "kept-path-not-found": "stays in the cluster: Flux stops with \"kustomization path not found\" (Kustomization {owner})",
    "prune-disabled": "stays in the cluster (annotated kustomize.toolkit.fluxcd.io/prune: disabled)",
    "not-applied": "no Flux Kustomization applies this file",
}
ICONS = {"danger": "🔴", "warning": "🟡", "info": "ℹ️"}


def _arrow(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _capacity(cost: PoolCost | None) -> str:
    return CAPACITY_NAMES[cost.capacity_type] if cost else "–"


def _both_sides(cost: PoolCost) -> list[str]:
    """The pool on demand and on spot at min / desired / max ('n/a': no such price in its region)."""
    sides = []
    for capacity in (ON_DEMAND, SPOT):
        values = [cost.monthly_for(capacity, s) for s in SIZES]
        sides.append(" / ".join(money(v) for v in values) if all(v is not None for v in values) else "n/a")
    return sides


def _sides_total(total, capacity: str) -> str:
    if capacity == SPOT and total.unpriced_spot == total.pools:
        return "n/a"
    return " / ".join(money(total.at_for(capacity, s)) for s in SIZES)


def _nodes(cost: PoolCost | None) -> str:
    return "/".join(str(n) for n in cost.nodes) if cost else "–"


def _gpus(cost: PoolCost | None) -> str:
    if cost is None:
        return "–"
    gpus = cost.gpus("max")
    if gpus is None:
        return "unknown"
    return f"{gpus} × {cost.gpu_model}" if gpus and cost.gpu_model else str(gpus)


def _instance(cost: PoolCost | None) -> str:
    if cost is None:
        return "–"
    return cost.instance_type + (f" + {cost.gpus_per_node} × {cost.accelerator}" if cost.accelerator else "")


def _money_change(before: Decimal, after: Decimal) -> str:
    if before == after:
        return money(after)
    return f"{money(before)} → {money(after)} ({money(after - before, signed=True)})"


def _pool_money(change: PoolChange, size: str) -> str:
    priced = all(c is None or c.priced for c in (change.before, change.after))
    text = _money_change(change.monthly("before", size), change.monthly("after", size))
    return text if priced else text + " (instance type not in the catalog)"


def _summary_counts(env: EnvironmentDiff) -> tuple[str, str, str, str, str]:
    objects = f"{env.count('added')} / {env.count('changed')} / {env.count('removed')}"
    resources = f"{len(env.resources_with('replace'))} / {len(env.resources_with('destroy'))}"
    gpus = _arrow(str(env.cost_before.gpus_at("max")), str(env.cost_after.gpus_at("max")))
    cost = " / ".join(money(env.cost_delta(s), signed=True) for s in SIZES)
    return objects, str(env.pruned), resources, gpus, cost


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + _cell(text).replace("`", "'") + "`"


def _field_rows(label: str, changes: tuple[FieldChange, ...], forcing: dict[str, str] | None = None) -> list[str]:
    rows = []
    for change in changes[:FIELDS_PER_OBJECT]:
        before = "–" if change.change == "added" else _code(show(change.old))
        after = "–" if change.change == "removed" else _code(show(change.new))
        note = ""
        for attribute, effect in (forcing or {}).items():
            if change.path == attribute or change.path.startswith(attribute + ".") or change.path.startswith(attribute + "["):
                note = " **(forces replacement)**" if effect == REPLACE else " (re-creates every node)"
        rows.append(f"| {label} | {_code(change.path)}{note} | {before} | {after} |")
    if len(changes) > FIELDS_PER_OBJECT:
        rows.append(f"| {label} | … {len(changes) - FIELDS_PER_OBJECT} more field(s) | | |")
    return rows


def _object_line(change: ObjectChange) -> str:
    where = _code(f"{change.file}:{change.line}")
    if change.action == "removed":
        fate = FATES[change.fate].format(owner=change.owner)
        fate = fate.replace("pruned:", "**pruned**:", 1)
        return f"- removed {_code(change.describe())} ({change.api_version}) from {where}: {fate}"
    if change.action == "added":
        owner = f", applied by Kustomization {change.owner}" if change.owner else ", applied by no Flux Kustomization"
        return f"- added {_code(change.describe())} ({change.api_version}) in {where}{owner}"
    notes = []
    if change.old_api_version:
        notes.append(f"apiVersion {change.old_api_version} → {change.api_version}")
    if change.previous_file:
        notes.append(f"moved from {_code(change.previous_file)}")
    if change.previous_owner:
        notes.append(f"now applied by Kustomization {change.owner or '(none)'} instead of {change.previous_owner}")
    count = f"{len(change.fields)} field(s)" if change.fields else "no field"
    return f"- changed {_code(change.describe())} in {where}: {count}" + ("; " + "; ".join(notes) if notes else "")


def _resource_line(change: ResourceChange) -> str:
    where = _code(f"{change.file}:{change.line}" if change.line else change.file)
    if change.action in ("create", "destroy"):
        blocked = f" ({change.blocked})" if change.blocked else ""
        return f"- **{change.action}** {_code(change.address)} in {where}{blocked}"
    reasons = [f"{_code(h.attribute)} {'forces replacement' if h.rule.effect == REPLACE else 're-creates every node'}"
               f" ({h.rule.source.cite})" for h in change.hits]
    moved = f" (moved from {_code(change.moved_from)})" if change.moved_from else ""
    action = f"**{change.action}**" if change.action == "replace" else change.action
    if change.action == "update" and not change.replacement_known:
        reasons.append(f"aiops diff does not know which {change.type} attributes force a replacement: check `terraform plan`")
    return f"- {action} {_code(change.address)} in {where}{moved}" + (": " + "; ".join(reasons) if reasons else "")


def _capped(lines: list[str], cap: int | None, what: str) -> list[str]:
    if cap is None or len(lines) <= cap:
        return lines
    return [*lines[:cap], f"- … and {len(lines) - cap} more {what} (see `aiops diff --format text`)"]


def _environment_details(env: EnvironmentDiff, level: int) -> list[str]:
    """level 0: everything; 1: without field tables; 2: objects counted by kind, long lists cut."""
    detail, cap = level == 0, (None if level < 2 else 30)
    out: list[str] = []
    if env.alerts:
        out += ["**Needs attention**", ""]
        out += _capped([f"- {ICONS[a.severity]} {a.message}" + (f" ({_code(a.where())})" if a.where() else "")
                        for a in env.alerts], cap, "alerts")
        out.append("")
    if env.pools:
        out += ["**Node pools that change** (USD a month as billed: each pool at its capacity type, in its region;"
                " then the pool as it is after the change, on demand and on spot)", ""]
        out += ["| pool | instance type | capacity | USD/h per node | nodes min/desired/max | GPUs at max | monthly at min | at desired | at max"
                " | on-demand min / desired / max | spot min / desired / max |",
                "|---|---|---|---:|---|---|---:|---:|---:|---:|---:|"]
        for change in env.pools:
            b, a = change.before, change.after
            out.append("| " + " | ".join([
                change.pool + (" (new)" if b is None else " (removed)" if a is None else ""),
                _arrow(_instance(b), _instance(a)),
                _arrow(_capacity(b), _capacity(a)),
                _arrow(price(b.hourly_usd) if b else "–", price(a.hourly_usd) if a else "–"),
                _arrow(_nodes(b), _nodes(a)),
                _arrow(_gpus(b), _gpus(a)),
                *(_pool_money(change, s) for s in SIZES),
                *_both_sides(a or b),
            ]) + " |")
        out.append("| **environment total** | | | | | " + _arrow(str(env.cost_before.gpus_at("max")), str(env.cost_after.gpus_at("max")))
                   + " | " + " | ".join(_money_change(env.cost_before.at(s), env.cost_after.at(s)) for s in SIZES)
                   + " | " + " | ".join(_sides_total(env.cost_after, c) for c in (ON_DEMAND, SPOT)) + " |")
        out.append("")
    if env.objects and level >= 2:
        counts: dict[tuple[str, str], int] = {}
        for o in env.objects:
            counts[(o.action, o.kind)] = counts.get((o.action, o.kind), 0) + 1
        out += ["**Kubernetes objects**", ""]
        out += [f"- {action} {n} × {kind}" for (action, kind), n in sorted(counts.items())]
        out.append("")
    elif env.objects:
        out += ["**Kubernetes objects**", ""]
        out += [_object_line(o) for o in env.objects]
        out.append("")
        rows = [r for o in env.objects if o.action == "changed" for r in _field_rows(_code(o.describe()), o.fields)]
        if rows and detail:
            out += ["| object | field | before | after |", "|---|---|---|---|", *rows, ""]
    if env.resources or env.settings:
        out += ["**Terraform**", ""]
        out += _capped([_resource_line(r) for r in env.resources], cap, "Terraform resources")
        out += _capped([f"- {s.action} {_code(s.address)} in {_code(s.file)}" for s in env.settings], cap, "settings")
        out.append("")
        rows = []
        for r in env.resources:
            forcing = {h.attribute: h.rule.effect for h in r.hits}
            rows += _field_rows(_code(r.address), r.fields, forcing)
        for s in env.settings:
            rows += _field_rows(_code(s.address), s.fields)
        if rows and detail:
            out += ["| resource | field | before | after |", "|---|---|---|---|", *rows, ""]
    if env.other_files:
        out += ["**Other files**", ""]
        out += _capped([f"- {action} {_code(path)}" for action, path in env.other_files], cap, "files")
        out.append("")
    if env.prices:
        out.append("<sub>Prices: " + "; ".join(p.cite() for p in env.prices) + ".</sub>")
        out.append("")
    if env.price_warnings and env.pools:
        out += [f"> ⚠️ {w.message}" for w in env.price_warnings] + [""]
    return out


def _environment_summary_line(env: EnvironmentDiff) -> str:
    parts = []
    objects = [f"{env.count(a)} {a}" for a in ("added", "changed", "removed") if env.count(a)]
    if objects:
        parts.append(", ".join(objects) + " object(s)")
    for action in ("replace", "destroy", "create", "update"):
        if env.resources_with(action):
            parts.append(f"{len(env.resources_with(action))} Terraform resource(s) to {action}")
    before, after = env.cost_before.at("desired"), env.cost_after.at("desired")
    parts.append(f"cost at desired size {_money_change(before, after)} USD a month")
    return "; ".join(parts)


def render_markdown(report: DiffReport) -> str:
    """The most detailed report that fits a comment: full, then without field tables, then summed up."""
    for level in (0, 1, 2, 3):
        text = _markdown(report, level)
        if len(text) <= MARKDOWN_LIMIT:
            return text
    cut = text[:MARKDOWN_LIMIT - 200]
    return cut[: cut.rfind("\n") + 1] + "\n_The report is cut here to fit a comment; run `aiops diff --format text`._\n"


def _markdown(report: DiffReport, level: int) -> str:
    out = [f"### aiops diff: `{report.root}/` at {report.base} → {report.head}", ""]
    changed = report.changed
    if not changed:
        out.append(f"No changes to `{report.root}/`: no cluster or cloud resource changes, and the cost stays the same.")
        return "\n".join(out) + "\n"
    out += [
        "| environment | Kubernetes objects<br>added / changed / removed | pruned by Flux | cloud resources<br>replaced / destroyed"
        " | GPUs at max | cost change, USD a month<br>at min / desired / max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for env in changed:
        objects, pruned, resources, gpus, cost = _summary_counts(env)
        out.append(f"| **{env.name}** | {objects} | {pruned} | {resources} | {gpus} | {cost} |")
    out.append("")
    dangers = report.dangers
    if dangers:
        out += [f"**{len(dangers)} change(s) that need attention before merging**", ""]
        out += _capped([f"- {ICONS[a.severity]} {a.environment}: {a.message}" for a in dangers],
                       None if level < 2 else 30, "changes that need attention")
        out.append("")
    for env in changed if level < 3 else ():
        out += ["<details>", f"<summary><b>{env.name}</b>: {_environment_summary_line(env)}</summary>", ""]
        out += _environment_details(env, level)
        out += ["</details>", ""]
    if report.problems:
        out += ["**Files that could not be read** (not compared)", ""]
        out += [f"- {side}: {_code(p.file + (f':{p.line}' if p.line else ''))} {p.message}" for side, p in report.problems]
        out.append("")
    if level:
        left_out = {1: "Field-by-field tables are", 2: "Field-by-field tables and the list of objects are",
                    3: "The details of each environment are"}[level]
        out += [f"_{left_out} left out to fit a comment; run `aiops diff --format text` to see them._", ""]
    out.append(f"<sub>Costs: prices from the instance catalog in each pool's region × {report.hours_per_month} hours a month;"
               " GPUs at max = GPUs per node × maximum nodes. Generated by `aiops diff`.</sub>")
    return "\n".join(out) + "\n"


# --- text ----------------------------------------------------------------------------------------

def render_text(report: DiffReport) -> str:
    out = [f"aiops diff: {report.root}/ at {report.base} -> {report.head}"]
    changed = report.changed
    if not changed:
        out.append(f"no changes to {report.root}/")
        return "\n".join(out) + "\n"
    for env in changed:
        objects, pruned, resources, gpus, cost = _summary_counts(env)
        out += ["", f"{env.name}: objects added/changed/removed {objects}; pruned {pruned};"
                f" cloud resources replaced/destroyed {resources}; GPUs at max {gpus.replace('→', '->')}"]
        for size in SIZES:
            out.append(f"  cost at {size}: {_money_change(env.cost_before.at(size), env.cost_after.at(size)).replace('→', '->')} USD a month")
        for alert in env.alerts:
            out.append(f"  {'!' if alert.severity == 'danger' else '-'} {alert.kind}: {alert.message}" + (f" [{alert.where()}]" if alert.where() else ""))
        for change in env.pools:
            b, a = change.before, change.after
            out.append(f"  pool {change.pool}: {_arrow(_instance(b), _instance(a))}, nodes {_arrow(_nodes(b), _nodes(a))},"
                       f" GPUs at max {_arrow(_gpus(b), _gpus(a))}, at max {_pool_money(change, 'max')} USD a month".replace("→", "->"))
        for o in env.objects:
            where = f"{o.file}:{o.line}"
            if o.action == "removed":
                out.append(f"  removed {o.describe()} ({o.api_version}) {where}: {FATES[o.fate].format(owner=o.owner)}")
            else:
                extra = f" (apiVersion {o.old_api_version} -> {o.api_version})" if o.old_api_version else ""
                out.append(f"  {o.action} {o.describe()} {where}{extra}")
            for f in o.fields:
                out.append(f"      {f.path}: {_text_change(f)}")
        for r in env.resources:
            note = f": {r.blocked}" if r.blocked else ""
            if r.action == "update" and not r.replacement_known:
                note = f": replacement unknown for {r.type}, check terraform plan"
            out.append(f"  terraform {r.action} {r.address} {r.file}{f':{r.line}' if r.line else ''}{note}")
            forcing = {h.attribute: h.rule.effect for h in r.hits}
            for f in r.fields:
                note = next((" [forces replacement]" if e == REPLACE else " [re-creates every node]" for a, e in forcing.items()
                             if f.path == a or f.path.startswith(a + ".") or f.path.startswith(a + "[")), "")
                out.append(f"      {f.path}: {_text_change(f)}{note}")
        for s in env.settings:
            out.append(f"  terraform {s.action} {s.address} ({s.file})")
            for f in s.fields:
                out.append(f"      {f.path}: {_text_change(f)}")
        for action, path in env.other_files:
            out.append(f"  {action} {path}")
        for p in env.prices:
            out.append(f"  price: {p.cite()}")
        if env.pools:
            out += [f"  {w.render()}" for w in env.price_warnings]
    for side, p in report.problems:
        out.append(f"{side}: {p.file}{f':{p.line}' if p.line else ''}: {p.message} (not compared)")
    return "\n".join(out) + "\n"


def _text_change(change: FieldChange) -> str:
    if change.change == "added":
        return f"(added) {show(change.new)}"
    if change.change == "removed":
        return f"{show(change.old)} (removed)"
    return f"{show(change.old)} -> {show(change.new)}"


# --- JSON ----------------------------------------------------------------------------------------

def _number(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _pool_json(cost: PoolCost | None) -> dict | None:
    if cost is None:
        return None
    return {
        "instanceType": cost.instance_type,
        "accelerator": cost.accelerator,
        "gpusPerNode": cost.gpus_per_node,
        "gpuModel": cost.gpu_model,
        "nodes": dict(zip(SIZES, cost.nodes)),
        "hourlyUSD": float(cost.hourly_usd) if cost.hourly_usd is not None else None,
        "monthlyUSD": {s: (_number(cost.monthly(s)) if cost.priced else None) for s in SIZES},
        "gpus": {s: cost.gpus(s) for s in SIZES},
    }


def report_json(report: DiffReport) -> dict:
    environments = []
    for env in report.changed:
        environments.append({
            "name": env.name,
            "summary": {
                "objects": {a: env.count(a) for a in ("added", "changed", "removed")},
                "pruned": env.pruned,
                "terraform": {a: len(env.resources_with(a)) for a in ("create", "update", "replace", "destroy")},
                "gpusAtMax": {"before": env.cost_before.gpus_at("max"), "after": env.cost_after.gpus_at("max")},
                "monthlyUSD": {s: {"before": _number(env.cost_before.at(s)), "after": _number(env.cost_after.at(s)),
                                   "delta": _number(env.cost_delta(s))} for s in SIZES},
            },
            "alerts": [{"kind": a.kind, "severity": a.severity, "destructive": a.destructive, "message": a.message,
                        "file": a.file, "line": a.line}
                       for a in env.alerts],
            "pools": [{"pool": p.pool, "before": _pool_json(p.before), "after": _pool_json(p.after),
                       "monthlyDeltaUSD": {s: _number(p.delta(s)) for s in SIZES}} for p in env.pools],
            "objects": [{
                "action": o.action, "kind": o.kind, "namespace": o.namespace, "name": o.name, "apiVersion": o.api_version,
                "previousApiVersion": o.old_api_version, "file": o.file, "line": o.line, "previousFile": o.previous_file,
                "owner": o.owner, "previousOwner": o.previous_owner, "fate": o.fate,
                "fields": [f.as_json() for f in o.fields],
            } for o in env.objects],
            "terraform": [{
                "action": r.action, "address": r.address, "file": r.file, "line": r.line, "movedFrom": r.moved_from, "blocked": r.blocked,
                "replacementKnown": r.replacement_known,
                "because": [{"attribute": h.attribute, "effect": h.rule.effect, "old": h.old, "new": h.new,
                             "requires": h.rule.requires if h.missing_requirement else None, "source": h.rule.source.cite}
                            for h in r.hits],
                "fields": [f.as_json() for f in r.fields],
            } for r in env.resources],
            "terraformSettings": [{"action": s.action, "address": s.address, "file": s.file,
                                   "fields": [f.as_json() for f in s.fields]} for s in env.settings],
            "otherFiles": [{"action": a, "file": p} for a, p in env.other_files],
            "prices": [{"item": p.item, "cloud": p.cloud, "hourlyUSD": float(p.hourly_usd), "region": p.region,
                        "source": p.source, "date": p.date} for p in env.prices],
            "priceWarnings": [{"kind": w.kind, "message": w.message} for w in env.price_warnings] if env.pools else [],
        })
    return {
        "base": report.base,
        "head": report.head,
        "root": report.root,
        "hoursPerMonth": report.hours_per_month,
        "destructive": len(report.destructive),
        "environments": environments,
        "problems": [{"side": side, "file": p.file, "line": p.line, "kind": p.kind, "message": p.message}
                     for side, p in report.problems],
    }


def render_json(report: DiffReport) -> str:
    # No indentation: json's C encoder only runs without it, and a report of thousands of changes
    # is read by machines (pipe it through `jq .` to read it yourself).
    return json.dumps(report_json(report), separators=(",", ":"), default=str) + "\n"
