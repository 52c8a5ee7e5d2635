"""Rules that put pods and node pools side by side: taints, selectors, node size, total capacity.

The pools come from the Terraform of the same environment (`aiops.tree.pools`), with the taints
and labels their nodes carry in Kubernetes. On a tree without Terraform these rules have nothing
to compare with and stay silent.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from aiops.model.allocatable import node_resources
from aiops.tree.manifests import Manifest
from aiops.tree.pools import NODE_LABEL_PREFIXES_UNKNOWN, PoolFacts, PoolTaint, node_labels, node_taints
from aiops.tree.shapes import mapping, mappings, sequence
from aiops.tree.workloads import PodTemplate, quantity
from aiops.validate.context import Context, finding, upper_first
from aiops.validate.findings import GPU_DEMAND, GPU_TAINT, NODE_SELECTOR, POD_EXCEEDS_NODE, SPOT_UNINTERRUPTIBLE, Finding

BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
GIB = 2**30


# --- Kubernetes scheduling predicates, on pools instead of nodes --------------------------------

def tolerates(tolerations: list, taint: PoolTaint) -> bool:
    for toleration in mappings(tolerations):
        if toleration.get("effect") and toleration["effect"] != taint.effect:
            continue
        operator = toleration.get("operator") or "Equal"
        key = toleration.get("key") or ""
        if operator == "Exists" and (not key or key == taint.key):
            return True
        if operator == "Equal" and key == taint.key and str(toleration.get("value") or "") == taint.value:
            return True
    return False


def untolerated(spec: dict, pool: PoolFacts, cluster: list[PoolFacts]) -> list[PoolTaint]:
    return [t for t in node_taints(pool, cluster) if t.effect in BLOCKING_EFFECTS and not tolerates(spec.get("tolerations"), t)]


def _label(labels: dict[str, str], key: str) -> str | None | type[Ellipsis]:
    """The node's value for a label; Ellipsis when the tree cannot tell (a label the cloud sets)."""
    if key in labels:
        return labels[key]
    return ... if key.startswith(NODE_LABEL_PREFIXES_UNKNOWN) else None


def _expression(labels: dict[str, str], expression: dict) -> bool:
    value = _label(labels, str(expression.get("key", "")))
    if value is ...:
        return True
    operator, values = expression.get("operator"), [str(v) for v in sequence(expression.get("values"))]
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            return int(value) > int(values[0]) if operator == "Gt" else int(value) < int(values[0])
        except ValueError:
            return False
    return False


def selector_constraints(spec: dict) -> tuple[dict[str, str], list[list[dict]]]:
    """nodeSelector, and the required node affinity terms (any term; all its expressions)."""
    selector = {str(k): str(v) for k, v in mapping(spec.get("nodeSelector")).items()}
    required = mapping(mapping(mapping(spec.get("affinity")).get("nodeAffinity")).get("requiredDuringSchedulingIgnoredDuringExecution"))
    terms = [mappings(term.get("matchExpressions")) for term in mappings(required.get("nodeSelectorTerms"))]
    return selector, terms


def selects(spec: dict, pool: PoolFacts) -> bool:
    labels = node_labels(pool)
    selector, terms = selector_constraints(spec)
    for key, wanted in selector.items():
        value = _label(labels, key)
        if value is not ... and value != wanted:
            return False
    return not terms or any(all(_expression(labels, e) for e in term) for term in terms)


# --- What a node can hold -----------------------------------------------------------------------

@dataclass(frozen=True)
class NodeSize:
    gpus: int
    cpu: float  # cores
    memory: float  # bytes

    def pods(self, template: PodTemplate) -> int:
        """How many of these pods one node holds (by GPUs, CPU and memory)."""
        counts = []
        for have, want in ((self.gpus, template.gpus), (self.cpu, template.request("cpu")), (self.memory, template.request("memory"))):
            if want > 0:
                counts.append(math.floor(have / want + 1e-9))
        return min(counts) if counts else 1 << 30

    def describe(self) -> str:
        return f"{self.gpus} GPU, {self.cpu:.2f} CPU, {self.memory / GIB:.1f} GiB allocatable"


def allocatable(pool: PoolFacts) -> NodeSize | None:
    """What one node of the pool offers to pods, or None when the catalog does not know the type:
    capacity minus the cloud's kube-reserved and eviction threshold, by the formula that cloud
    documents (aiops.model.allocatable, which `aiops simulate` gives its nodes too)."""
    if pool.vcpu is None or pool.memory_gib is None or pool.gpus_per_node is None:
        return None
    node = node_resources(pool.cloud, pool.instance_type, pool.vcpu, pool.memory_gib, pool.gpus_per_node)
    # GPUs as pods ask for them: nvidia.com/gpu as the pool advertises it (time slices count; a MIG
    # pool on EKS or AKS advertises nvidia.com/mig-<profile> instead, and no nvidia.com/gpu; GKE's
    # MIG partitions are nvidia.com/gpu).
    return NodeSize(pool.advertised_of("nvidia.com/gpu"), node.allocatable_cpu_millis / 1000, float(node.allocatable_memory_bytes))


def _taints_text(pool: PoolFacts, cluster: list[PoolFacts]) -> str:
    parts = []
    for taint in node_taints(pool, cluster):
        parts.append(str(taint) + (" (set by GKE)" if taint not in pool.taints else ""))
    return ", ".join(parts) or "no taints"


def _gpu_text(amount: float) -> str:
    return f"{amount:g} GPU" + ("s" if amount != 1 else "")


# --- Rules ----------------------------------------------------------------------------------------

def _toleration_hint(taints: list[PoolTaint]) -> str:
    return ", ".join(f"{{key: {t.key}, operator: Exists, effect: {t.effect}}}" for t in dict.fromkeys(taints))


def _gpu_candidates(template: PodTemplate, pools: list[PoolFacts]) -> tuple[list[PoolFacts], bool]:
    """The GPU pools a GPU pod selects (all of them when it selects none), and whether it
    tolerates the taints of none of them."""
    gpu_pools = [p for p in pools if p.gpus_per_node]
    candidates = [p for p in gpu_pools if selects(template.spec, p)] or gpu_pools
    return candidates, bool(candidates) and all(untolerated(template.spec, p, pools) for p in candidates)


def gpu_tolerations(ctx: Context) -> Iterator[Finding]:
    """GPU pods: among the GPU pools they select (all of them when they select none), is there
    one whose taints they tolerate?"""
    for template in ctx.templates:
        pools = ctx.pools_for(template.manifest)
        gpu_pools = [p for p in pools if p.gpus_per_node]
        if not template.gpus or not gpu_pools:
            continue
        candidates, blocked = _gpu_candidates(template, pools)
        if not blocked:
            continue
        selected = [p for p in gpu_pools if selects(template.spec, p)]
        listed = "; ".join(f"{p.name} ({_taints_text(p, pools)})" for p in candidates)
        which = "the GPU pools they select" if selected and len(selected) < len(gpu_pools) else "the GPU pools"
        yield finding(
            GPU_TAINT, template.manifest, (*template.path, "tolerations"),
            f"{upper_first(template.pods())} request {_gpu_text(template.gpus)} each but tolerate the taints of none of {which} "
            f"of {template.manifest.environment or 'this tree'}: {listed}; they stay Pending",
            f"add to the pod's tolerations: {_toleration_hint(untolerated(template.spec, candidates[0], pools))}",
        )


def _selector_text(spec: dict) -> str:
    selector, terms = selector_constraints(spec)
    parts = [f"{k}={v}" for k, v in selector.items()]
    for term in terms:
        parts.append(" and ".join(f"{e.get('key')} {e.get('operator')} {e.get('values') or ''}".strip() for e in term))
    return ", ".join(parts)


def _pool_labels_text(pools: list[PoolFacts]) -> str:
    return "; ".join(f"{p.name}: " + (", ".join(f"{k}={v}" for k, v in sorted(p.labels.items())) or "no labels") for p in pools)


def node_selectors(ctx: Context) -> Iterator[Finding]:
    for template in ctx.templates:
        pools = ctx.pools_for(template.manifest)
        selector, terms = selector_constraints(template.spec)
        if not pools or not (selector or terms):
            continue
        field = "nodeSelector" if selector else "affinity"
        selected = [p for p in pools if selects(template.spec, p)]
        if not selected:
            yield finding(
                NODE_SELECTOR, template.manifest, (*template.path, field),
                f"{upper_first(template.pods())} select {_selector_text(template.spec)}, which no node pool of "
                f"{template.manifest.environment or 'this tree'} carries ({_pool_labels_text(pools)}); they stay Pending",
            )
        elif template.gpus and any(p.gpus_per_node for p in selected):
            continue  # gpu-taint-not-tolerated judges GPU pods on the GPU pools they select
        elif all(untolerated(template.spec, p, pools) for p in selected):
            listed = "; ".join(f"{p.name} ({_taints_text(p, pools)})" for p in selected)
            yield finding(
                NODE_SELECTOR, template.manifest, (*template.path, field),
                f"{upper_first(template.pods())} select {_selector_text(template.spec)}, which only pools whose taints they do not "
                f"tolerate carry: {listed}; they stay Pending",
                f"add to the pod's tolerations: {_toleration_hint(untolerated(template.spec, selected[0], pools))}, or select another pool",
            )
    for flavor in ctx.of_kind("kueue.x-k8s.io", "ResourceFlavor"):
        pools = ctx.pools_for(flavor)
        wanted = mapping(mapping(flavor.body.get("spec")).get("nodeLabels"))
        if not pools or not wanted:
            continue
        if not any(selects({"nodeSelector": wanted}, p) for p in pools):
            yield finding(
                NODE_SELECTOR, flavor, ("spec", "nodeLabels"),
                f"ResourceFlavor {flavor.name} selects {', '.join(f'{k}={v}' for k, v in wanted.items())}, which no node pool of "
                f"{flavor.environment or 'this tree'} carries ({_pool_labels_text(pools)}); workloads admitted to it stay Pending",
            )


def _feasible(template: PodTemplate, pools: list[PoolFacts]) -> list[PoolFacts]:
    return [p for p in pools if not untolerated(template.spec, p, pools) and selects(template.spec, p)]


def pod_sizes(ctx: Context) -> Iterator[Finding]:
    for template in ctx.templates:
        pools = _feasible(template, ctx.pools_for(template.manifest))
        if template.gpus and _gpu_candidates(template, ctx.pools_for(template.manifest))[1]:
            continue  # gpu-taint-not-tolerated says why it cannot run
        if template.gpus and any(p.gpus_per_node for p in pools):
            pools = [p for p in pools if p.gpus_per_node]  # the pools without GPUs are beside the point
        sizes = [(p, allocatable(p)) for p in pools]
        if not sizes or any(size is None for _, size in sizes):
            continue  # nowhere to run (the rules above say so) or a pool the catalog does not know
        if any(size.pods(template) >= 1 for _, size in sizes):
            continue
        wants = []
        if template.gpus:
            wants.append(_gpu_text(template.gpus))
        cpu, memory = template.request("cpu"), template.request("memory")
        if cpu:
            wants.append(f"{cpu:g} CPU")
        if memory:
            wants.append(f"{memory / GIB:.1f} GiB")
        nodes = "; ".join(f"{p.name} ({p.instance_type}: {size.describe()})" for p, size in sizes)
        every = ctx.pools_for(template.manifest)
        elsewhere = [p for p in every if p not in pools and (size := allocatable(p)) is not None and size.pods(template) >= 1]
        fix = None
        if elsewhere:
            other = elsewhere[0]
            needs = []
            if untolerated(template.spec, other, every):
                needs.append(f"a toleration {_toleration_hint(untolerated(template.spec, other, every))}")
            if not selects(template.spec, other):
                needs.append("a nodeSelector that matches it")
            fix = (f"lower the pod's requests, or let it run on {other.name} ({other.instance_type}), whose nodes hold it"
                   + (f": it needs {' and '.join(needs)}" if needs else ""))
        yield finding(
            POD_EXCEEDS_NODE, template.manifest, (*template.path, "containers"),
            f"{upper_first(template.pods())} need {', '.join(wants)} each, more than one node of any pool they can run on "
            f"offers: {nodes}; they stay Pending",
            fix,
        )


@dataclass(frozen=True)
class _Demand:
    manifest: Manifest  # where the maximum is written
    path: tuple
    template: PodTemplate
    pods: int
    source: str  # "maxReplicas of HorizontalPodAutoscaler/x", "replicas", ...


def _demands(ctx: Context) -> Iterator[_Demand]:
    scaled: dict[tuple, tuple[Manifest, int, str, tuple]] = {}
    for hpa in ctx.of_kind("autoscaling", "HorizontalPodAutoscaler"):
        spec = mapping(hpa.body.get("spec"))
        target = mapping(spec.get("scaleTargetRef"))
        if isinstance(spec.get("maxReplicas"), int):
            scaled[(hpa.environment, hpa.namespace, target.get("kind"), target.get("name"))] = (hpa, spec["maxReplicas"], f"maxReplicas of {hpa.describe()}", ("spec", "maxReplicas"))
    for autoscaler in ctx.of_kind("kubernetes.dask.org", "DaskAutoscaler"):
        spec = mapping(autoscaler.body.get("spec"))
        if isinstance(spec.get("maximum"), int):
            scaled[(autoscaler.environment, autoscaler.namespace, "DaskCluster", spec.get("cluster"))] = (autoscaler, spec["maximum"], f"maximum of {autoscaler.describe()}", ("spec", "maximum"))
    for template in ctx.templates:
        manifest = template.manifest
        key = (manifest.environment, manifest.namespace, manifest.kind, manifest.name)
        if key in scaled and template.role in ("", "worker"):
            where, pods, source, path = scaled[key]
            yield _Demand(where, path, template, pods, source)
        elif template.max_replicas is not None:
            yield _Demand(manifest, _count_path(template, "maxReplicas"), template, template.max_replicas, "maxReplicas")
        elif template.replicas is not None and template.replicas > 1:
            field = "parallelism" if manifest.kind in ("Job", "CronJob") else "replicas"
            yield _Demand(manifest, _count_path(template, field), template, template.replicas, field)


def _count_path(template: PodTemplate, field: str) -> tuple:
    """Where an object writes how many pods of this template it runs."""
    path = template.path
    if template.manifest.group == "kubernetes.dask.org":
        return (*path[:-1], field)  # spec.worker.spec -> spec.worker.replicas
    return (*path[:-2], field)  # spec.template.spec -> spec.replicas; ...workerGroupSpecs[i].template.spec -> ...[i].maxReplicas


def gpu_capacity(ctx: Context) -> Iterator[Finding]:
    for demand in _demands(ctx):
        template = demand.template
        if not template.gpus:
            continue
        pools = _feasible(template, ctx.pools_for(template.manifest))
        sizes = [(p, allocatable(p)) for p in pools]
        if not sizes or any(size is None for _, size in sizes):
            continue
        per_pool = [(p, size.pods(template) * p.max) for p, size in sizes]
        capacity = sum(n for _, n in per_pool)
        if capacity == 0 or demand.pods <= capacity:
            continue  # zero: pod-exceeds-node already says the pod fits no node
        held = "; ".join(f"{p.name}: {p.max} nodes x {size.pods(template)}" for (p, size) in sizes if size.pods(template))
        yield finding(
            GPU_DEMAND, demand.manifest, demand.path,
            f"{template.describe()} may run {demand.pods} pods ({demand.source}) of {_gpu_text(template.gpus)} each, "
            f"{_gpu_text(demand.pods * template.gpus)} in all, but the pools it can run on hold at most {capacity} such pods "
            f"at their maximum size ({held}); the rest stay Pending",
            f"lower {demand.source.split(' of ')[0]} to {capacity}, or raise the max node count of the pools",
        )
    yield from _queue_capacity(ctx)


def _queue_capacity(ctx: Context) -> Iterator[Finding]:
    """Kueue: the GPU nominal quotas of all ClusterQueues on a flavor, against the flavor's pools."""
    flavors = {(f.environment, f.name): f for f in ctx.of_kind("kueue.x-k8s.io", "ResourceFlavor")}
    quotas: dict[tuple, list[tuple[Manifest, tuple, str, float]]] = {}
    for queue in ctx.of_kind("kueue.x-k8s.io", "ClusterQueue"):
        for g, group in enumerate(sequence(mapping(queue.body.get("spec")).get("resourceGroups"))):
            for f, flavor in enumerate(sequence(mapping(group).get("flavors"))):
                for r, resource in enumerate(sequence(mapping(flavor).get("resources"))):
                    name = str(mapping(resource).get("name", ""))
                    amount = quantity(mapping(resource).get("nominalQuota"))
                    if name.endswith("/gpu") and amount:
                        path = ("spec", "resourceGroups", g, "flavors", f, "resources", r, "nominalQuota")
                        quotas.setdefault((queue.environment, str(flavor.get("name"))), []).append((queue, path, name, amount))
    for (environment, flavor_name), entries in quotas.items():
        name = entries[0][2]  # the GPU resource these quotas are of (not the loop's last resource above)
        flavor = flavors.get((environment, flavor_name))
        pools = ctx.pools_by_environment.get(environment, [])
        if flavor is None or not pools:
            continue
        wanted = mapping(mapping(flavor.body.get("spec")).get("nodeLabels"))
        matching = [p for p in pools if selects({"nodeSelector": wanted}, p)]
        if not matching or any(p.gpus_per_node is None for p in matching):
            continue
        capacity = sum(p.max * p.advertised_of(name) for p in matching)
        total = sum(amount for *_, amount in entries)
        if total <= capacity:
            continue
        queue, path, _, _ = entries[0]
        queues = ", ".join(f"{q.name}: {a:g}" for q, _, _, a in entries)
        held = "; ".join(f"{p.name}: {p.max} nodes x {p.advertised_of(name)}" for p in matching)
        yield finding(
            GPU_DEMAND, queue, path,
            f"ClusterQueue nominal quotas of {name} on flavor {flavor_name} add up to {total:g} ({queues}), but its pools hold "
            f"at most {capacity} GPUs at their maximum size ({held}); admitted workloads would stay Pending",
            f"lower the nominalQuota of {name} to at most {capacity} in total, or raise the pools' max node count",
        )


from aiops.model.spot import INTERRUPTIBLE_ANNOTATION  # noqa: E402 (set by the workload constructs)


def spot_interruptible(ctx: Context) -> Iterator[Finding]:
    """Pods that can land on a spot pool must come from an object that says they may be interrupted.

    Node agents (DaemonSets) run on every node they tolerate and are not judged."""
    for template in ctx.templates:
        manifest = template.manifest
        if manifest.kind == "DaemonSet":
            continue
        annotations = mapping(mapping(manifest.body.get("metadata")).get("annotations"))
        if str(annotations.get(INTERRUPTIBLE_ANNOTATION, "")).lower() == "true":
            continue
        pools = ctx.pools_for(manifest)
        spot = [p for p in _feasible(template, pools) if p.spot]
        if spot:
            yield finding(
                SPOT_UNINTERRUPTIBLE, manifest, (*template.path, "tolerations"),
                f"{upper_first(template.pods())} can run on spot pool(s) {', '.join(p.name for p in spot)} "
                f"(they tolerate {_taints_text(spot[0], pools)}), but {manifest.describe()} does not say they can be interrupted; "
                "the cloud takes spot nodes back at short notice",
                f"drop the toleration of the spot taint, or annotate the object {INTERRUPTIBLE_ANNOTATION}: \"true\" if the pods checkpoint and resume",
            )


CHECKS = (gpu_tolerations, node_selectors, pod_sizes, gpu_capacity, spot_interruptible)
