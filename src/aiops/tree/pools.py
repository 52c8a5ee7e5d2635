"""The node pools a tree's Terraform declares, in one shape for every cloud.

EKS managed node groups, AKS default and user node pools, and GKE node pools become
`PoolFacts`: size, instance type, labels, taints (in Kubernetes spelling), GPUs per node (from
the instance catalog or the attached accelerators) and, on AWS, the cluster-autoscaler tags put
on the pool's autoscaling group. Validation rules and cost reports read pools from here.

GKE counts `initial_node_count` per zone; `desired` here is the pool's total over its
`node_locations`, like the other clouds' desired sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from aiops.model.catalog import Cloud, Price, load_catalog
from aiops.model.gpu_sharing import Advertised, advertised, gke_node_labels, sharing_from_labels
from aiops.model.zonal import POOL_LABEL
from aiops.tree.manifests import Problem
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
    zone_groups: tuple[str, ...] = ()  # a pool built as one group per zone: the groups' Terraform addresses
    spot: bool = False  # EKS capacity_type SPOT, AKS priority Spot, GKE node_config.spot (or preemptible)
    alternative_instance_types: tuple[str, ...] = ()  # EKS: the node group's other instance_types
    region: str | None = None  # EKS: the aws provider's region; AKS: the cluster's location; GKE: the pool's location
    time_slicing: int | None = None  # GPU sharing (aiops.model.gpu_sharing): time slices per GPU
    mig: str | None = None  # or the MIG profile every GPU is cut into

    @property
    def advertised(self) -> Advertised:
        """What each GPU is offered to pods as: whole nvidia.com/gpu, time slices, MIG instances."""
        machine = load_catalog().instance_type(self.cloud, self.instance_type)
        return advertised(self.time_slicing, self.mig, machine.gpu.mig_profiles if machine is not None and machine.gpu else None, self.cloud)

    @property
    def gpu_resource(self) -> str:
        return self.advertised.resource

    @property
    def advertised_gpus(self) -> int | None:
        """Units of `gpu_resource` one node advertises (None: the instance type is not in the catalog)."""
        return None if self.gpus_per_node is None else self.advertised.per_node(self.gpus_per_node)

    def advertised_of(self, resource: str) -> int:
        """Units of `resource` (nvidia.com/gpu, nvidia.com/mig-...) one node advertises."""
        return (self.advertised_gpus or 0) if resource == self.gpu_resource else 0

    @property
    def capacity_type(self) -> str:
        return "spot" if self.spot else "onDemand"

    @property
    def vcpu(self) -> int | None:
        machine = load_catalog().instance_type(self.cloud, self.instance_type)
        return machine.vcpu if machine else None

    @property
    def memory_gib(self) -> float | None:
        machine = load_catalog().instance_type(self.cloud, self.instance_type)
        return machine.memory_gi_b if machine else None

    def price_parts(self, capacity_type: str | None = None) -> tuple[PricePart, ...] | None:
        """What one node costs in the pool's region, item by item, on demand or spot (default: the
        pool's own capacity type), with the catalog's prices. None: the catalog does not know an
        item, or has no such price for the region (never another region's price)."""
        capacity_type = capacity_type or self.capacity_type
        catalog = load_catalog()
        machine = catalog.instance_type(self.cloud, self.instance_type)
        if machine is None:
            return None
        price = machine.price_for(self.region, capacity_type) if self.region else None
        if price is None:
            return None
        parts = [PricePart(self.instance_type, 1, price)]
        if self.accelerator and not (machine.gpu is not None and machine.gpu.count):
            # An accelerator the machine type carries itself (A2's A100s) is in the machine's price.
            accelerator = catalog.accelerator(self.cloud, self.accelerator)
            price = accelerator.price_for(self.region, capacity_type) if accelerator is not None and self.region else None
            if price is None:
                return None
            parts.append(PricePart(self.accelerator, self.gpus_per_node or 0, price))
        return tuple(parts)

    def hourly_price(self, capacity_type: str | None = None) -> float | None:
        """USD per node-hour: the machine plus any attached accelerators."""
        parts = self.price_parts(capacity_type)
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
    instance_types = [str(t) for t in body.get("instance_types") or [""]]
    instance_type = instance_types[0]
    gpus, model = _catalog_gpus("aws", instance_type)
    taints = tuple(PoolTaint(t.get("key", ""), t.get("value") or "", _EFFECTS.get(t.get("effect", ""), t.get("effect", ""))) for t in body.get("taint") or [])
    tags: dict[str, str] = {}
    for tag_resource in tree.of_type("aws_autoscaling_group_tag"):
        if tag_resource.file == group.file and ("aws_eks_node_group", group.name) in tag_resource.references(tag_resource.body.get("autoscaling_group_name")):
            tag = tag_resource.body.get("tag") or {}
            tag = tag[0] if isinstance(tag, list) and tag else tag
            if str(tag.get("key")).startswith(AUTOSCALER_TAG_PREFIX):  # not the cost tags also put there
                tags[str(tag.get("key"))] = str(tag.get("value"))
    labels = dict(body.get("labels") or {})
    time_slicing, mig = sharing_from_labels(labels)
    return PoolFacts(
        group.file, group.address, "aws", group.environment, str(body.get("node_group_name") or group.name), instance_type,
        _int(scaling.get("min_size")) or 0, _int(scaling.get("desired_size")), _int(scaling.get("max_size")) or 0,
        labels, taints, gpus, model, None, tags,
        spot=str(body.get("capacity_type") or "ON_DEMAND") == "SPOT", alternative_instance_types=tuple(instance_types[1:]),
        region=_provider_region(tree, group.file, "aws"), time_slicing=time_slicing, mig=mig,
    )


def _provider_region(tree: TerraformTree, file: str, provider: str) -> str | None:
    blocks = (tree.files.get(file) or {}).get("provider", {}).get(provider)
    block = blocks[0] if isinstance(blocks, list) and blocks else blocks
    region = block.get("region") if isinstance(block, dict) else None
    return str(region) if isinstance(region, str) and region else None


def _aks_location(tree: TerraformTree, resource: TerraformResource) -> str | None:
    cluster = resource
    if resource.type == "azurerm_kubernetes_cluster_node_pool":
        refs = resource.references(resource.body.get("kubernetes_cluster_id"))
        cluster = tree.get(resource.file, *refs[0]) if refs else None
    location = (cluster.body if cluster is not None else {}).get("location")
    return str(location) if isinstance(location, str) and location else None


def _gke_region(location) -> str | None:
    """A GKE pool's location is its region (regional cluster) or a zone (us-central1-a)."""
    if not isinstance(location, str) or not location:
        return None
    return location[:-2] if re.fullmatch(r"[a-z]+-[a-z]+[0-9]+-[a-z]", location) else location


def _aks_taint(text: str) -> PoolTaint:
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return PoolTaint(key, value, effect)


def _aks(tree: TerraformTree, resource: TerraformResource, body: dict) -> PoolFacts:
    instance_type = str(body.get("vm_size", ""))
    gpus, model = _catalog_gpus("azure", instance_type)
    count = _int(body.get("node_count"))
    return PoolFacts(
        resource.file, resource.address, "azure", resource.environment, str(body.get("name", "")), instance_type,
        _int(body.get("min_count")) if body.get("min_count") is not None else (count or 0),
        count,
        _int(body.get("max_count")) if body.get("max_count") is not None else (count or 0),
        dict(body.get("node_labels") or {}), tuple(_aks_taint(t) for t in body.get("node_taints") or []), gpus, model,
        spot=str(body.get("priority") or "Regular") == "Spot", region=_aks_location(tree, resource),
        time_slicing=sharing_from_labels(dict(body.get("node_labels") or {}))[0], mig=sharing_from_labels(dict(body.get("node_labels") or {}))[1],
    )


def _gke(tree: TerraformTree, pool: TerraformResource) -> PoolFacts:
    body = pool.body
    config = body.get("node_config") or {}
    config = config[0] if isinstance(config, list) and config else config
    autoscaling = body.get("autoscaling") or {}
    autoscaling = autoscaling[0] if isinstance(autoscaling, list) and autoscaling else autoscaling
    accelerators = config.get("guest_accelerator") or []
    machine = str(config.get("machine_type", ""))
    time_slicing, mig = None, None
    if accelerators:
        accelerator = str(accelerators[0].get("type", ""))
        sharing = accelerators[0].get("gpu_sharing_config") or {}
        sharing = sharing[0] if isinstance(sharing, list) and sharing else sharing
        if isinstance(sharing, dict) and sharing.get("gpu_sharing_strategy") == "TIME_SHARING":
            time_slicing = _int(sharing.get("max_shared_clients_per_gpu"))
        partition = accelerators[0].get("gpu_partition_size")  # GKE's own MIG (aiops.model.gpu_sharing)
        mig = partition if isinstance(partition, str) and partition else None
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
        spot=config.get("spot") is True or config.get("preemptible") is True,
        region=_gke_region(body.get("location")) or _provider_region(tree, pool.file, "google"),
        time_slicing=time_slicing, mig=mig,
    )


GKE_GPU_TAINT = PoolTaint("nvidia.com/gpu", "present", "NoSchedule")


def node_taints(pool: PoolFacts, cluster_pools: list[PoolFacts]) -> tuple[PoolTaint, ...]:
    """The taints the pool's nodes carry in Kubernetes: those declared in Terraform, plus the one
    GKE adds by itself to GPU pools when the cluster also has pools without GPUs
    (nvidia.com/gpu=present:NoSchedule). EKS and AKS add none. `cluster_pools`: the pools of
    the same cluster (the same Terraform file)."""
    taints = pool.taints
    if (
        pool.cloud == "gcp"
        and pool.gpus_per_node
        and any(other.gpus_per_node == 0 for other in cluster_pools if other.file == pool.file)
        and not any(t.key == GKE_GPU_TAINT.key and t.effect == GKE_GPU_TAINT.effect for t in taints)
    ):
        taints = (*taints, GKE_GPU_TAINT)
    return taints


# Labels that the cloud or node agents put on nodes and that Terraform does not show in full:
# a selector on these cannot be disproved from the tree, so it counts as satisfied.
NODE_LABEL_PREFIXES_UNKNOWN = (
    "kubernetes.io/", "k8s.io/", "beta.kubernetes.io/", "node.kubernetes.io/", "topology.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/", "topology.", "eks.amazonaws.com/", "k8s.amazonaws.com/",
    "cloud.google.com/", "kubernetes.azure.com/", "karpenter.sh/", "karpenter.k8s.aws/", "nvidia.com/", "feature.node.kubernetes.io/",
)


def node_labels(pool: PoolFacts) -> dict[str, str]:
    """The labels the pool's nodes carry: those declared, plus the well-known ones each cloud sets
    that follow from the Terraform (instance type, pool name, GKE accelerator, OS, spot capacity)."""
    labels = {
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": pool.instance_type,
        "beta.kubernetes.io/instance-type": pool.instance_type,
    }
    if pool.cloud == "aws":
        labels["eks.amazonaws.com/nodegroup"] = pool.name
        labels["eks.amazonaws.com/capacityType"] = "SPOT" if pool.spot else "ON_DEMAND"
    elif pool.cloud == "azure":
        labels["kubernetes.azure.com/agentpool"] = pool.name
        labels["agentpool"] = pool.name
        if pool.spot:
            labels["kubernetes.azure.com/scalesetpriority"] = "spot"
    elif pool.cloud == "gcp":
        labels["cloud.google.com/gke-nodepool"] = pool.name
        if pool.accelerator:
            labels["cloud.google.com/gke-accelerator"] = pool.accelerator
        labels.update(gke_node_labels(pool.time_slicing, pool.mig))  # GKE's own GPU sharing labels
        if pool.spot:
            labels["cloud.google.com/gke-spot"] = "true"
            labels["cloud.google.com/gke-provisioning"] = "spot"
    return {**labels, **pool.labels}


def pools_of(tree: TerraformTree) -> list[PoolFacts]:
    """Every node pool declared in the tree, in file and resource order."""
    return pools_and_problems(tree)[0]


def _pool(tree: TerraformTree, resource: TerraformResource) -> PoolFacts | None:
    if resource.type == "aws_eks_node_group":
        return _eks(tree, resource)
    if resource.type == "azurerm_kubernetes_cluster":
        default = resource.body.get("default_node_pool") or {}
        default = default[0] if isinstance(default, list) and default else default
        return _aks(tree, resource, default) if default else None
    if resource.type == "azurerm_kubernetes_cluster_node_pool":
        return _aks(tree, resource, resource.body)
    if resource.type == "google_container_node_pool":
        return _gke(tree, resource)
    return None


def pools_and_problems(tree: TerraformTree) -> tuple[list[PoolFacts], list[Problem]]:
    """The node pools, and the pool resources too malformed to read (Terraform would refuse them;
    a hand-written tree can hold anything), each as a Problem."""
    pools: list[PoolFacts] = []
    problems: list[Problem] = []
    for resource in tree.resources:
        try:
            pool = _pool(tree, resource)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError) as exc:
            problems.append(Problem(resource.file, tree.line_of(resource), "unparsable",
                                    f"{resource.address} is not a node pool this tool can read ({type(exc).__name__}: {exc})"))
            continue
        if pool is not None:
            pools.append(pool)
    return _one_pool_per_zonal_set(pools), problems


def _one_pool_per_zonal_set(pools: list[PoolFacts]) -> list[PoolFacts]:
    """The per-zone node groups of one pool (labelled `aiops.example/node-pool`, see
    aiops.model.zonal) as that one pool: sizes summed, named after the pool."""
    merged: list[PoolFacts] = []
    sets: dict[tuple[str, str], list[PoolFacts]] = {}
    for pool in pools:
        name = pool.labels.get(POOL_LABEL)
        if name is None:
            merged.append(pool)
            continue
        members = sets.setdefault((pool.file, name), [])
        if not members:
            merged.append(pool)  # keeps the pool's place in the order
        members.append(pool)
    for index, pool in enumerate(merged):
        members = sets.get((pool.file, pool.labels.get(POOL_LABEL, "")), [])
        if members:
            desired = [m.desired for m in members]
            merged[index] = replace(
                pool,
                name=pool.labels[POOL_LABEL],
                min=sum(m.min for m in members),
                desired=None if None in desired else sum(d for d in desired if d is not None),
                max=sum(m.max for m in members),
                autoscaler_tags={k: v for m in members for k, v in m.autoscaler_tags.items()},
                zone_groups=tuple(m.resource for m in members),
            )
    return merged
