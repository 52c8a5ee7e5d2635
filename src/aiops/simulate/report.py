"""The simulation's report: text for people, JSON for machines (format documented in the README)."""

from __future__ import annotations

from collections import defaultdict

from aiops.simulate.run import EnvironmentResult

JSON_FORMAT = 1


def as_json(results: list[EnvironmentResult]) -> dict:
    return {"format": JSON_FORMAT, "ok": all(r.ok for r in results), "environments": [r.as_dict() for r in results]}


def _share(requested: float, allocatable: float, unit: str = "") -> str:
    if not allocatable:
        return "-"
    return f"{requested:.1f}/{allocatable:.1f}{unit} {100 * requested / allocatable:3.0f}%"


def _where(nodes: list[str]) -> str:
    """A few pods by node name; many as counts (a DaemonSet on 50 nodes is one number)."""
    if len(nodes) <= 3:
        return ", ".join(sorted(nodes, key=_natural))
    return f"{len(nodes)} pod(s) on {len(set(nodes))} node(s)"


def _natural(name: str) -> tuple:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, 0)


def render_text(results: list[EnvironmentResult]) -> str:
    lines: list[str] = []
    for result in results:
        verdict = "ok" if result.ok else f"{len(result.problems)} problem(s)"
        lines.append(f"aiops simulate: {result.environment} ({result.cloud}, Kubernetes {result.kubernetes_version}): {verdict} in {result.seconds:.0f} s")
        if result.timings:
            lines.append("  time: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings.items() if seconds >= 0.1))
        lines.append("  reconciled as Flux would:")
        for step in result.steps:
            status = "ok" if step.ok else "FAILED"
            lines.append(f"    {step.kind:<13} {step.name:<40} {step.objects:>4} object(s)  {status}  {step.seconds:5.1f} s")
            for note in step.notes:
                lines.append(f"                  note: {note}")
            if not step.ok:
                lines.append(f"                  {step.error}")
        if result.namespaces:
            levels = ", ".join(f"{ns} {level}" for ns, level in sorted(result.namespaces.items()) if level)
            lines.append(f"  Pod Security enforced: {levels or 'nowhere'}")
        if result.left_out:
            lines.append("  left out (served by pods that do not run here): " + ", ".join(result.left_out))
        for run in result.passes:
            o = run.observation
            nodes = ", ".join(f"{pool} {count}" for pool, count in run.nodes.items())
            lines.append(f"  pass {run.name}: {sum(run.nodes.values())} node(s) ({nodes}); {len(o.pods) - len(o.pending)} pod(s) placed, {len(o.pending)} pending")
            if run.scaled:
                lines.append("    scaled: " + ", ".join(f"{s.kind}/{s.namespace}/{s.name}={s.replicas}" for s in run.scaled))
            lines.append(f"    {'pool':<16} {'nodes':>5}  {'cpu requested':<20} {'memory requested':<24} gpus requested")
            for pool in o.pools:
                gpu = f"{pool.gpu_requested}/{pool.gpu_allocatable}" if pool.gpu_allocatable else "-"
                lines.append(f"    {pool.pool:<16} {pool.nodes:>5}  {_share(pool.cpu_requested, pool.cpu_allocatable):<20} {_share(pool.memory_requested_gib, pool.memory_allocatable_gib, ' GiB'):<24} {gpu}")
            placed: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
            for pod in o.pods:
                if pod.node:
                    placed[f"{pod.namespace}/{pod.owner}"][pod.pool or "?"].append(pod.node)
            lines.append("    placed:")
            for owner, pools in sorted(placed.items()):
                where = "; ".join(f"{pool}: {_where(nodes)}" for pool, nodes in sorted(pools.items()))
                lines.append(f"      {owner}: {where}")
            pending: dict[tuple[str, str, str], list[str]] = defaultdict(list)
            for pod in o.pending:
                pending[(pod.namespace, pod.owner, pod.pending_reason or "")].append(pod.name)
            for (namespace, owner, reason), names in sorted(pending.items()):
                who = f"{namespace}/{names[0]}" if len(names) == 1 else f"{len(names)} pods of {namespace}/{owner}"
                lines.append(f"    Pending {who} ({owner}): {reason}")
            for budget in o.budgets:
                flag = "" if budget.allowed_disruptions or not budget.selected_pods else "  <- blocks every drain"
                lines.append(f"    budget {budget.namespace}/{budget.name}: {budget.allowed_disruptions} disruption(s) allowed "
                             f"({budget.selected_pods} pod(s) selected, {budget.current_healthy} healthy, {budget.desired_healthy} desired){flag}")
            for refusal in run.refused:
                lines.append(f"    REFUSED {refusal.count} pod(s) of {refusal.namespace}/{refusal.owner} ({refusal.by}): {refusal.message}")
            for workload in o.workloads:
                state = "admitted" if workload.admitted else "PENDING"
                lines.append(f"    queue {workload.queue}: {workload.namespace}/{workload.name} ({workload.owner}) {state}: {workload.message}")
        if result.problems:
            lines.append("  problems:")
            lines += [f"    {p.render()}" for p in result.problems]
        maximum = next((p for p in result.passes if p.name == "max"), None)
        if maximum is not None and maximum.observation.pending:
            lines.append(f"  did not fit at max: {len(maximum.observation.pending)} pod(s) (see 'pass max' above)")
        lines.append("")
    return "\n".join(lines)
