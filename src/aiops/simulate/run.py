"""One simulation of one environment: control plane, nodes, Flux, the two passes, the verdict.

1. A control plane of the environment's Kubernetes minor (control_plane.py).
2. The pools at their desired size as KWOK nodes (nodes.py), Ready before anything is applied.
3. dist/<environment> reconciled as Flux would (reconcile.py, on `aiops flux check`'s builds).
4. Pass "desired": every workload at its minimum (scale.py), settle, observe (observe.py).
5. Pass "max": the pools at their maximum, every workload at its maximum, settle, observe.
"""

from __future__ import annotations

import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiops.simulate.admission import Refusal, namespace_levels, refusals
from aiops.simulate.control_plane import control_plane
from aiops.simulate.nodes import SimCluster, node_objects, read_cluster
from aiops.simulate.observe import Observation, observe
from aiops.simulate.reconcile import Reconciler, Step
from aiops.simulate.scale import Scaled, scale_workloads, settle

PASSES = ("desired", "max")
NODE_REGISTRATIONS = 8  # nodes created at a time


@dataclass
class PassResult:
    name: str  # desired | max
    nodes: dict[str, int]  # pool -> nodes
    scaled: list[Scaled]
    observation: Observation
    seconds: float
    refused: list[Refusal] = field(default_factory=list)  # pods admission refused (admission.py)

    def as_dict(self) -> dict[str, Any]:
        return {"pass": self.name, "nodes": self.nodes, "scaled": [s.as_dict() for s in self.scaled], **self.observation.as_dict(),
                "refused": [r.as_dict() for r in self.refused], "seconds": round(self.seconds, 1)}


@dataclass
class Problem:
    """What makes the simulation fail (exit status 1)."""

    kind: str  # reconcile | admission | pending | budget | queue
    subject: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}

    def render(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"


@dataclass
class EnvironmentResult:
    environment: str
    cloud: str
    kubernetes_version: str
    steps: list[Step] = field(default_factory=list)
    passes: list[PassResult] = field(default_factory=list)
    seconds: float = 0.0
    namespaces: dict[str, str | None] = field(default_factory=dict)  # namespace -> Pod Security level it enforces
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds, in order
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # component -> CPU seconds it used

    @property
    def left_out(self) -> list[str]:
        return [item for step in self.steps for item in step.left_out]

    @property
    def problems(self) -> list[Problem]:
        problems = [Problem("reconcile", f"{s.kind} {s.name}", s.error) for s in self.steps if not s.ok]
        desired = next((p for p in self.passes if p.name == "desired"), None)
        if desired is not None:
            problems += [Problem("admission", f"{r.owner} in namespace {r.namespace}", f"{r.count} pod(s) refused ({r.by}): {r.message}") for r in desired.refused]
            problems += [Problem("pending", f"Pod/{p.namespace}/{p.name} ({p.owner})", p.pending_reason or "") for p in desired.observation.pending]
            problems += [Problem("budget", f"PodDisruptionBudget/{b.namespace}/{b.name}",
                                 f"allows 0 disruptions at steady state over the {b.selected_pods} pod(s) it selects ({b.current_healthy} healthy, "
                                 f"{b.desired_healthy} desired, {b.expected_pods} expected): no node running them can be drained"
                                 + (f"; the disruption controller says: {b.message}" if b.message else ""))
                         for b in desired.observation.budgets if b.allowed_disruptions < 1 and b.selected_pods > 0]
            problems += [Problem("queue", f"Workload/{w.namespace}/{w.name} ({w.owner})", f"not admitted by ClusterQueue of LocalQueue {w.queue}: {w.message}")
                         for w in desired.observation.workloads if not w.admitted]
        return problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment, "cloud": self.cloud, "kubernetesVersion": self.kubernetes_version, "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems], "reconcile": [s.as_dict() for s in self.steps],
            "leftOut": self.left_out, "podSecurity": dict(sorted(self.namespaces.items())), "passes": [p.as_dict() for p in self.passes],
            "seconds": round(self.seconds, 1), "timings": dict(self.timings), "cpuSeconds": dict(self.cpu_seconds),
        }


def register_nodes(api, cluster: SimCluster, end: str, version: str) -> dict[str, int]:
    """Register the pools' nodes at `end` (desired or max) and wait until each is Ready and
    rid of its not-ready taint. They are created a few at a time, as the nodes of a growing
    node group register with the API server side by side."""
    counts = {}
    existing = {n["metadata"]["name"] for n in api.items("/api/v1/nodes")}
    new = []
    for pool in cluster.pools:
        size = pool.facts.max if end == "max" else (pool.facts.desired if pool.facts.desired is not None else pool.facts.min)
        new += [node for node in node_objects(pool, size, version) if node["metadata"]["name"] not in existing]
        counts[pool.name] = size
    with ThreadPoolExecutor(max_workers=NODE_REGISTRATIONS) as pool_of_threads:
        for _ in pool_of_threads.map(lambda node: api.create("/api/v1/nodes", node), new):
            pass
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        nodes = api.items("/api/v1/nodes")
        if all(any(c.get("type") == "Ready" and c.get("status") == "True" for c in (n.get("status") or {}).get("conditions") or [])
               and not any(t.get("key") == "node.kubernetes.io/not-ready" for t in (n.get("spec") or {}).get("taints") or []) for n in nodes):
            break
        time.sleep(0.3)
    return counts


class _Clock:
    """Where a simulation's seconds go, stage by stage (the report's `timings`)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._last, 1)
        self._last = now


def _own_cpu_seconds(since: dict[str, float] | None = None) -> dict[str, float]:
    """CPU seconds of this process (Python) and of the short-lived programs it ran and waited
    for (helm template, the key material), since `since`."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    now = {"aiops (Python)": own.ru_utime + own.ru_stime, "helm template and other short-lived tools": children.ru_utime + children.ru_stime}
    return {name: round(value - (since or {}).get(name, 0.0), 1) for name, value in now.items()}


def simulate_environment(dist: Path, environment: str, flux_cluster, *, keep: Path | None = None, log=lambda message: None) -> EnvironmentResult:
    """Simulate `environment` of the tree `dist`; `flux_cluster` is its cluster in `aiops flux check`'s report."""
    started = time.monotonic()
    own_cpu = _own_cpu_seconds()
    clock = _Clock()
    cluster = read_cluster(dist, environment)
    clock.lap("pools from Terraform")
    with control_plane(cluster.kubernetes_version, keep=keep) as plane:
        version = str(plane.api.get("/version")["gitVersion"]).lstrip("v")
        result = EnvironmentResult(environment, cluster.cloud, version, timings=clock.timings)
        log(f"{environment}: Kubernetes {version} control plane on {plane.server}")
        clock.lap("control plane")
        nodes = register_nodes(plane.api, cluster, "desired", version)
        log(f"{environment}: {sum(nodes.values())} node(s) at the pools' desired sizes")
        clock.lap("nodes at desired")
        result.steps = Reconciler(plane, version, log=lambda message: log(f"{environment}: {message}")).run(flux_cluster)
        result.namespaces = namespace_levels(plane.api)
        clock.lap("reconcile")
        if result.steps and result.steps[0].ok:  # Flux is bootstrapped: whatever got applied runs
            for end in PASSES:
                pass_start = time.monotonic()
                if end == "max":
                    nodes = register_nodes(plane.api, cluster, "max", version)
                    clock.lap("nodes at max")
                scaled = scale_workloads(plane.api, "max" if end == "max" else "min")
                settle(plane.api)
                plane.check_alive()
                clock.lap(f"pass {end}: scale and settle")
                result.passes.append(PassResult(end, dict(nodes), scaled, observe(plane.api), time.monotonic() - pass_start, refusals(plane.api)))
                clock.lap(f"pass {end}: observe")
                log(f"{environment}: pass {end}: {len(result.passes[-1].observation.pending)} pod(s) pending")
        result.cpu_seconds = {**plane.cpu_seconds(), **_own_cpu_seconds(own_cpu)}
    clock.lap("stop")
    result.seconds = time.monotonic() - started
    return result
