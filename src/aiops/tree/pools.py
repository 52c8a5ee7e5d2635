"""The node pools a tree's Terraform declares, in one shape for every cloud.

EKS managed node groups, AKS default and user node pools, and GKE node pools become
`PoolFacts`: size, instance type, labels, taints (in Kubernetes spelling), GPUs per node (from
the instance catalog or the attached accelerators) and, on AWS, the cluster-autoscaler tags put
on the pool's autoscaling group. Validation rules and cost reports read pools from here.

GKE counts `initial_node_count` per zone; `desired` here is the pool's total over its
`node_locations`, like the other clouds' desired sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiops.model.catalog import Cloud, Price, load_catalog
from aiops.tree.terraform import TerraformResource, TerraformTree

AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler/"
_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


@dataclass(frozen=True)
class PoolTaint:
    key: str
    value: str
    effect: str  # Kubernetes spelling

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@dataclass(frozen=True)
class PricePart:
    """One priced item of a node: its machine type, or the accelerators attached to it (GKE)."""

    item: str  # instance type or accelerator type
    count: int  # how many of it one node has
    price: Price  # the catalog's on-demand price, with region, source and date


@dataclass(frozen=True)
class PoolFacts:
    file: str
    resource: str  # Terraform address, e.g. aws_eks_node_group.node_group_gpu_training
    cloud: Cloud
    environment: str | None
    name: str
    instance_type: str
    min: int
    desired: int | None
    max: int
    labels: dict[str, str] = field(compare=False)
    taints: tuple[PoolTaint, ...]
    gpus_per_node: int | None  # None: the instance type is not in the catalog
    gpu_model: str | None
    accelerator: str | None = None  # GKE: the attached accelerator type
    autoscaler_tags: dict[str, str] = field(default_factory=dict, compare=False)  # AWS: k8s.io/cluster-autoscaler/* tags of the ASG

    @property
    def vcpu(self) -> int | None:
        machine = load_catalog().instance_type(self.cloud, self.instance_type)
        return machine.vcpu if machine else None

    @property
    def memory_gib(self) -> float | None:
        machine = load_catalog().instance_type(self.cloud, self.instance_type)
        return machine.memory_gi_b if machine else None

    def price_parts(self) -> tuple[PricePart, ...] | None:
        """What one node costs, item by item, with the catalog's prices (None: not in the catalog)."""
        catalog = load_catalog()
        machine = catalog.instance_type(self.cloud, self.instance_type)
        if machine is None:
            return None
        parts = [PricePart(self.instance_type, 1, machine.price)]
        if self.accelerator:
            accelerator = catalog.accelerator(self.cloud, self.accelerator)
            if accelerator is None:
                return None
            parts.append(PricePart(self.accelerator, self.gpus_per_node or 0, accelerator.price))
        return tuple(parts)

    def hourly_price(self) -> float | None:
        """On-demand USD per node-hour: the machine plus any attached accelerators."""
        parts = self.price_parts()
        if parts is None:
            return None
        price = parts[0].price.hourly_usd
        for part in parts[1:]:
            price += part.price.hourly_usd * part.count
        return price


def _catalog_gpus(cloud: Cloud, instance_type: str) -> tuple[int | None, str | None]:
    machine = load_catalog().instance_type(cloud, instance_type)
    if machine is None:
        return None, None
    return (machine.gpu.count, machine.gpu.model) if machine.gpu else (0, None)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _eks(tree: TerraformTree, group: TerraformResource) -> PoolFacts:
    body = group.body
    scaling = body.get("scaling_config") or {}
    scaling = scaling[0] if isinstance(scaling, list) and scaling else scaling
    instance_type = (body.get("instance_types") or [""])[0]
    gpus, model = _catalog_gpus("aws", instance_type)
    taints = tuple(PoolTaint(t.get("key", ""), t.get("value") or "", _EFFECTS.get(t.get("effect", ""), t.get("effect", ""))) for t in body.get("taint") or [])
    tags: dict[str, str] = {}
    for tag_resource in tree.of_type("aws_autoscaling_group_tag"):
        if tag_resource.file == group.file and ("aws_eks_node_group", group.name) in tag_resource.references(tag_resource.body.get("autoscaling_group_name")):
            tag = tag_resource.body.get("tag") or {}
            tag = tag[0] if isinstance(tag, list) and tag else tag
            if str(tag.get("key")).startswith(AUTOSCALER_TAG_PREFIX):  # not the cost tags also put there
                tags[str(tag.get("key"))] = str(tag.get("value"))
    return PoolFacts(
        group.file, group.address, "aws", group.environment, str(body.get("node_group_name") or group.name), instance_type,
        _int(scaling.get("min_size")) or 0, _int(scaling.get("desired_size")), _int(scaling.get("max_size")) or 0,
        dict(body.get("labels") or {}), taints, gpus, model, None, tags,
    )


def _aks_taint(text: str) -> PoolTaint:
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return PoolTaint(key, value, effect)


def _aks(resource: TerraformResource, body: dict) -> PoolFacts:
    instance_type = str(body.get("vm_size", ""))
    gpus, model = _catalog_gpus("azure", instance_type)
    count = _int(body.get("node_count"))
    return PoolFacts(
        resource.file, resource.address, "azure", resource.environment, str(body.get("name", "")), instance_type,
        _int(body.get("min_count")) if body.get("min_count") is not None else (count or 0),
        count,
        _int(body.get("max_count")) if body.get("max_count") is not None else (count or 0),
        dict(body.get("node_labels") or {}), tuple(_aks_taint(t) for t in body.get("node_taints") or []), gpus, model,
    )


def _gke(pool: TerraformResource) -> PoolFacts:
    body = pool.body
    config = body.get("node_config") or {}
    config = config[0] if isinstance(config, list) and config else config
    autoscaling = body.get("autoscaling") or {}
    autoscaling = autoscaling[0] if isinstance(autoscaling, list) and autoscaling else autoscaling
    accelerators = config.get("guest_accelerator") or []
    machine = str(config.get("machine_type", ""))
    if accelerators:
        accelerator = str(accelerators[0].get("type", ""))
        known = load_catalog().accelerator("gcp", accelerator)
        gpus, model = int(accelerators[0].get("count", 0)), (known.model if known else None)
    else:
        accelerator = None
        gpus, model = _catalog_gpus("gcp", machine)
    size = _int(body.get("node_count")) if body.get("node_count") is not None else _int(body.get("initial_node_count"))
    locations = body.get("node_locations")
    if size is not None and isinstance(locations, list) and locations:
        size *= len(locations)  # GKE counts nodes per zone
    low = autoscaling.get("total_min_node_count", autoscaling.get("min_node_count"))
    high = autoscaling.get("total_max_node_count", autoscaling.get("max_node_count"))
    taints = tuple(PoolTaint(t.get("key", ""), t.get("value") or "", _EFFECTS.get(t.get("effect", ""), t.get("effect", ""))) for t in config.get("taint") or [])
    return PoolFacts(
        pool.file, pool.address, "gcp", pool.environment, str(body.get("name") or pool.name), machine,
        _int(low) if low is not None else (size or 0), size, _int(high) if high is not None else (size or 0),
        dict(config.get("labels") or {}), taints, gpus, model, accelerator,
    )


def pools_of(tree: TerraformTree) -> list[PoolFacts]:
    """Every node pool declared in the tree, in file and resource order."""
    pools: list[PoolFacts] = []
    for resource in tree.resources:
        if resource.type == "aws_eks_node_group":
            pools.append(_eks(tree, resource))
        elif resource.type == "azurerm_kubernetes_cluster":
            default = resource.body.get("default_node_pool") or {}
            default = default[0] if isinstance(default, list) and default else default
            if default:
                pools.append(_aks(resource, default))
        elif resource.type == "azurerm_kubernetes_cluster_node_pool":
            pools.append(_aks(resource, resource.body))
        elif resource.type == "google_container_node_pool":
            pools.append(_gke(resource))
    return pools
