"""Rules on the node pools that the tree's Terraform declares: instance types and autoscaler tags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from aiops.model.catalog import load_catalog
from aiops.tree.pools import PoolFacts, node_taints
from aiops.tree.shapes import mapping
from aiops.validate.context import Context
from aiops.validate.findings import AUTOSCALER_TAGS, GPU_POOL_UNTAINTED, INSTANCE_RETIRED, INSTANCE_RETIRING, INSTANCE_UNKNOWN, Finding

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}
_INSTANCE_ATTRIBUTE = {
    "aws_eks_node_group": ("instance_types",),
    "azurerm_kubernetes_cluster": ("default_node_pool", "vm_size"),
    "azurerm_kubernetes_cluster_node_pool": ("vm_size",),
    "google_container_node_pool": ("node_config", "machine_type"),
}
TAG_PREFIX = "k8s.io/cluster-autoscaler/node-template/"
DISCOVERY_TAG = "k8s.io/cluster-autoscaler/enabled"


def _where(ctx: Context, pool: PoolFacts, *path: str) -> tuple[str, int | None]:
    resource_type, _, name = pool.resource.partition(".")
    resource = ctx.terraform.get(pool.file, resource_type, name)
    return pool.file, (ctx.terraform.line_of(resource, *path) if resource else None)


def _object(pool: PoolFacts) -> str:
    return f"{pool.resource} (node pool {pool.name})"


def instance_types(ctx: Context) -> Iterator[Finding]:
    catalog = load_catalog() if ctx.pools else None
    for pool in ctx.pools:
        file, line = _where(ctx, pool, *_INSTANCE_ATTRIBUTE.get(pool.resource.partition(".")[0], ()))
        machine = catalog.instance_type(pool.cloud, pool.instance_type)
        if machine is None:
            yield Finding(
                INSTANCE_UNKNOWN, file, line,
                f"node pool {pool.name} uses {pool.instance_type}, which the instance catalog does not list for {CLOUD_NAMES[pool.cloud]}: "
                "its GPUs, size and price are unknown, so the capacity rules skip it",
                object=_object(pool),
            )
            continue
        if machine.retirement is None:
            continue
        retired = date.fromisoformat(machine.retirement.date) <= ctx.today
        rule = INSTANCE_RETIRED if retired else INSTANCE_RETIRING
        when = f"was retired by {CLOUD_NAMES[pool.cloud]} on {machine.retirement.date}" if retired else f"is to be retired by {CLOUD_NAMES[pool.cloud]} on {machine.retirement.date}"
        yield Finding(
            rule, file, line,
            f"node pool {pool.name} uses {pool.instance_type}, which {when} ({machine.retirement.source}); "
            + ("the cloud no longer creates such nodes, so the pool cannot be created or scale up" if retired else "the pool will stop scaling then"),
            f"move the pool to {machine.retirement.replacement}",
            _object(pool),
            extra={"generated_retired_pool": (pool.environment, pool.name, pool.instance_type)},  # validator.validate: reported once
        )


def _autoscaler_deployed(ctx: Context, environment: str | None) -> bool:
    for manifest in ctx.manifests:
        if manifest.environment != environment:
            continue
        spec = mapping(manifest.body.get("spec"))
        if manifest.kind == "HelmRelease" and mapping(mapping(spec.get("chart")).get("spec")).get("chart") == "cluster-autoscaler":
            return True
    return any(
        "cluster-autoscaler" in str(container.get("image", ""))
        for template in ctx.templates
        if template.manifest.environment == environment
        for _, container in template.containers(init=False)
    )


def expected_tags(pool: PoolFacts) -> dict[str, str]:
    """The node-template tags cluster-autoscaler needs to build a node of this pool from nothing."""
    tags = {f"{TAG_PREFIX}label/{key}": value for key, value in sorted(pool.labels.items())}
    tags |= {f"{TAG_PREFIX}taint/{t.key}": f"{t.value}:{t.effect}" for t in pool.taints}
    if pool.gpus_per_node:
        tags[f"{TAG_PREFIX}resources/{pool.gpu_resource}"] = str(pool.advertised_gpus)
    return tags


def autoscaler_tags(ctx: Context) -> Iterator[Finding]:
    """EKS pools that scale from zero, where cluster-autoscaler manages them: the autoscaling group
    must advertise what a node would have, or a pending pod that needs it never wakes the pool.
    A pool counts as managed when its group carries the auto-discovery tag in the tree or the
    environment deploys cluster-autoscaler (EKS puts the discovery tags on managed node groups'
    autoscaling groups itself, so our stacks do not declare them); AKS and GKE autoscale from
    their own pool definitions."""
    for pool in ctx.pools:
        if pool.cloud != "aws" or pool.min != 0 or pool.max == 0:
            continue
        if DISCOVERY_TAG not in pool.autoscaler_tags and not _autoscaler_deployed(ctx, pool.environment):
            continue
        wrong = []
        for key, value in expected_tags(pool).items():
            actual = pool.autoscaler_tags.get(key)
            if actual != value:
                wrong.append(f"{key}={value}" + (f" (it is {actual})" if actual is not None else ""))
        if wrong:
            file, line = _where(ctx, pool)
            yield Finding(
                AUTOSCALER_TAGS, file, line,
                f"node group {pool.name} scales from zero (min 0), but its autoscaling group does not advertise "
                f"{', '.join(wrong)}: with no node to look at, cluster-autoscaler cannot tell that a pending pod fits this group",
                "add an aws_autoscaling_group_tag (propagate_at_launch: false) on the node group's autoscaling group for each",
                _object(pool),
            )


def gpu_pool_taints(ctx: Context) -> Iterator[Finding]:
    """GPU pools whose nodes carry no nvidia.com/gpu NoSchedule taint (GKE's own one counts)."""
    for pool in ctx.pools:
        if not pool.gpus_per_node:
            continue
        cluster = [p for p in ctx.pools if p.file == pool.file]
        if any(t.key == "nvidia.com/gpu" and t.effect in ("NoSchedule", "NoExecute") for t in node_taints(pool, cluster)):
            continue
        file, line = _where(ctx, pool)
        yield Finding(
            GPU_POOL_UNTAINTED, file, line,
            f"GPU pool {pool.name} has no nvidia.com/gpu NoSchedule taint: any pod (operators, Prometheus, Flux) can land on its "
            f"{pool.instance_type} nodes and keep them from scaling down",
            object=_object(pool),
        )


CHECKS = (instance_types, autoscaler_tags, gpu_pool_taints)
