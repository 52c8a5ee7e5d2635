"""The cluster an environment's Terraform describes, as the Node objects Kubernetes would see.

One Node per pool member, named `<pool>-<n>`, with the labels and taints the cloud gives it
(the pool's own plus the cloud's well-known ones: tree/pools.py), the zone and region labels,
`nvidia.com/gpu` in capacity where the pool has GPUs (what the device plugin advertises: time
slices and MIG instances by the pool's GPU sharing, read from its Terraform), and
allocatable from allocatable.py. Every cloud's node group balances its members over its zones
(EKS and AKS rebalance across the group's zones; a GKE regional pool keeps the same count in
each zone), so member n goes to zone n mod zones, in the order the pool lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiops.model.catalog import load_catalog
from aiops.model.allocatable import NodeResources, node_resources
from aiops.tree.pools import PoolFacts, node_labels, node_taints, pools_and_problems
from aiops.tree.terraform import TerraformTree, scan_terraform

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
GPU = "nvidia.com/gpu"
POOL_LABEL = "aiops.io/simulated-pool"  # lets the report map a node back to its pool


class ClusterError(Exception):
    """The environment's Terraform does not describe a cluster the simulation can build."""


@dataclass(frozen=True)
class SimPool:
    facts: PoolFacts
    zones: tuple[str, ...]
    region: str
    resources: NodeResources
    labels: dict[str, str]
    taints: tuple[dict[str, str], ...]
    ephemeral_gib: int

    @property
    def name(self) -> str:
        return self.facts.name


@dataclass(frozen=True)
class SimCluster:
    environment: str
    cloud: str
    kubernetes_version: str  # minor, e.g. "1.36"
    pools: tuple[SimPool, ...]

    def pool(self, name: str) -> SimPool:
        return next(p for p in self.pools if p.name == name)


def read_cluster(dist: Path, environment: str) -> SimCluster:
    """The pools of dist/<environment>/terraform, ready to become nodes."""
    folder = dist / environment / "terraform"
    if not folder.is_dir():
        raise ClusterError(f"{folder} does not exist: the simulation takes its node pools from the environment's Terraform")
    tree = scan_terraform([folder])
    pools, problems = pools_and_problems(tree)
    if problems:
        raise ClusterError("; ".join(f"{p.file}:{p.line}: {p.message}" for p in problems))
    if not pools:
        raise ClusterError(f"{folder} declares no node pool (aws_eks_node_group, azurerm_kubernetes_cluster[_node_pool], google_container_node_pool)")
    cloud = pools[0].cloud
    version = _kubernetes_version(tree)
    catalog = load_catalog()
    built = []
    for pool in pools:
        machine = catalog.instance_type(pool.cloud, pool.instance_type)
        if machine is None:
            raise ClusterError(f"{pool.file}: {pool.resource} uses instance type {pool.instance_type!r}, which the instance catalog does not know for {pool.cloud}")
        zones, region = _zones(tree, pool)
        resource = tree.get(pool.file, *pool.resource.split(".", 1))
        body = resource.body if resource is not None else {}
        if pool.cloud == "azure" and resource is not None and resource.type == "azurerm_kubernetes_cluster":
            body = _first(body.get("default_node_pool"))
        resources = node_resources(pool.cloud, pool.instance_type, machine.vcpu, machine.memory_gi_b, pool.gpus_per_node or 0, _int(body.get("max_pods")))
        labels = {**node_labels(pool), "topology.kubernetes.io/region": region, "kubernetes.io/arch": "amd64", POOL_LABEL: pool.name}
        if pool.cloud == "azure":
            labels["kubernetes.azure.com/mode"] = "system" if resource is not None and resource.type == "azurerm_kubernetes_cluster" else "user"
            if pool.gpus_per_node:
                labels["kubernetes.azure.com/accelerator"] = "nvidia"
        taints = tuple({"key": t.key, "value": t.value, "effect": t.effect} if t.value else {"key": t.key, "effect": t.effect} for t in node_taints(pool, pools))
        built.append(SimPool(pool, zones, region, resources, labels, taints, _disk_gib(pool.cloud, body)))
    return SimCluster(environment, cloud, version, tuple(built))


def node_objects(pool: SimPool, count: int, kubelet_version: str) -> list[dict[str, Any]]:
    """The Node objects of the pool's first `count` members."""
    nodes = []
    r = pool.resources
    capacity = {"cpu": f"{r.cpu_millis}m", "memory": str(r.memory_bytes), "pods": str(r.max_pods), "ephemeral-storage": f"{pool.ephemeral_gib}Gi"}
    allocatable = {**capacity, "cpu": f"{r.allocatable_cpu_millis}m", "memory": str(r.allocatable_memory_bytes)}
    if r.gpus:
        # What the device plugin advertises: whole GPUs, time slices (nvidia.com/gpu x N) or MIG
        # instances (nvidia.com/mig-<profile>), by the pool's sharing (aiops.model.gpu_sharing).
        capacity[pool.facts.gpu_resource] = allocatable[pool.facts.gpu_resource] = str(pool.facts.advertised.per_node(r.gpus))
    for index in range(count):
        name = f"{pool.name}-{index}"
        zone = pool.zones[index % len(pool.zones)] if pool.zones else ""
        labels = {**pool.labels, "kubernetes.io/hostname": name}
        if zone:
            labels["topology.kubernetes.io/zone"] = zone
        nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": {KWOK_ANNOTATION: "fake"}},
            "spec": {"taints": [dict(t) for t in pool.taints]} if pool.taints else {},
            "status": {
                "capacity": capacity, "allocatable": allocatable,
                "nodeInfo": {"kubeletVersion": f"v{kubelet_version}", "architecture": "amd64", "operatingSystem": "linux", "osImage": "kwok"},
            },
        })
    return nodes


def _first(value: Any) -> dict:
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kubernetes_version(tree: TerraformTree) -> str:
    for kind, attribute in (("aws_eks_cluster", "version"), ("azurerm_kubernetes_cluster", "kubernetes_version"), ("google_container_cluster", "min_master_version")):
        for resource in tree.of_type(kind):
            value = resource.body.get(attribute)
            if isinstance(value, str) and value:
                return ".".join(value.split(".")[:2])
    raise ClusterError("the Terraform names no Kubernetes version (aws_eks_cluster.version, azurerm_kubernetes_cluster.kubernetes_version or google_container_cluster.min_master_version)")


def _zones(tree: TerraformTree, pool: PoolFacts) -> tuple[tuple[str, ...], str]:
    if pool.zone_groups:  # one group per zone (aiops.model.zonal): the pool's zones are the groups'
        per_group = [_zones(tree, replace(pool, resource=address, zone_groups=())) for address in pool.zone_groups]
        return tuple(zone for zones, _ in per_group for zone in zones), per_group[0][1]
    resource = tree.get(pool.file, *pool.resource.split(".", 1))
    body = resource.body if resource is not None else {}
    if pool.cloud == "aws":
        zones = []
        for kind, name in resource.references(body.get("subnet_ids")) if resource is not None else []:
            subnet = tree.get(pool.file, kind, name)
            if subnet is not None and subnet.body.get("availability_zone"):
                zones.append(str(subnet.body["availability_zone"]))
        region = zones[0][:-1] if zones else ""
        return tuple(zones), region
    if pool.cloud == "azure":
        cluster = resource
        if resource is not None and resource.type == "azurerm_kubernetes_cluster_node_pool":
            refs = resource.references(body.get("kubernetes_cluster_id"))
            cluster = tree.get(pool.file, *refs[0]) if refs else None
        else:
            body = _first(body.get("default_node_pool"))
        location = str((cluster.body if cluster is not None else {}).get("location", ""))
        return tuple(f"{location}-{z}" for z in body.get("zones") or []), location
    locations = tuple(str(z) for z in body.get("node_locations") or [])
    region = str(body.get("location", "")) or (locations[0].rsplit("-", 1)[0] if locations else "")
    return locations, region


def _disk_gib(cloud: str, body: dict) -> int:
    """The node's disk: the pool's size, else the cloud's default (EKS 20 GiB, AKS 128, GKE 100)."""
    if cloud == "aws":
        return _int(body.get("disk_size")) or 20
    if cloud == "azure":
        return _int(body.get("os_disk_size_gb")) or 128
    return _int(_first(body.get("node_config")).get("disk_size_gb")) or 100
