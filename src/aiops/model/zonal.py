"""Pools that the cloud side builds as one node group per zone.

The inference service spreads its replicas over the zones as a rule (`whenUnsatisfiable:
DoNotSchedule`, `minDomains` = the zones). A node group that spans zones cannot be grown in a
chosen zone: cluster-autoscaler builds its idea of a new node from one template, so a replica
that must go to another zone gets no node and stays Pending (cluster-autoscaler FAQ, "I'm
running cluster with nodes in multiple zones for HA purposes. Is that supported by Cluster
Autoscaler?": one node group per zone, with `--balance-similar-node-groups`). So on EKS and
AKS a pool that runs a zone-spread workload becomes one node group per zone; the model keeps
one pool (its min, desired and max are the totals, split as evenly as the zones allow, the
first zones taking the remainder). GKE needs nothing: a regional node pool is one managed
instance group per zone, which its autoscaler grows zone by zone.

Every per-zone group carries `POOL_LABEL` with the model pool's name, so that readers of the
Terraform (validate, cost, the simulation) see one pool again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

from aiops.model.base import error

if TYPE_CHECKING:
    from aiops.model.environment import Environment, NodePool

POOL_LABEL = "aiops.example/node-pool"


@dataclass(frozen=True)
class ZoneGroup:
    zone: str
    suffix: str  # what the group's name adds to the pool's: the zone ("us-east-1a"), or its number on AKS ("1")
    pool: NodePool  # the pool as this group: its share of min/desired/max, POOL_LABEL added


def split(total: int, parts: int) -> list[int]:
    """`total` over `parts` as evenly as possible, the first parts taking the remainder: 20 over 3 is 7, 7, 6."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def zonal_pools(environment: Environment) -> frozenset[str]:
    """The pools built as one node group per zone: those of zone-spread (serving) workloads on EKS and AKS."""
    inference = environment.workloads.inference
    if environment.cloud == "gcp" or len(environment.zones) < 2 or inference is None:
        return frozenset()
    return frozenset({inference.pool})


def zone_groups(environment: Environment, pool: NodePool) -> list[ZoneGroup]:
    """The per-zone node groups of a zonal pool."""
    zones = list(environment.zones)
    sizes = zip(split(pool.min, len(zones)), split(pool.desired, len(zones)), split(pool.max, len(zones)), strict=True)
    groups = []
    for zone, (low, start, high) in zip(zones, sizes, strict=True):
        suffix = zone if environment.cloud == "aws" else zone.rsplit("-", 1)[-1]
        share = pool.model_copy(
            update={"name": f"{pool.name}-{suffix}" if environment.cloud == "aws" else f"{pool.name}{suffix}", "min": low, "desired": start, "max": high,
                    "labels": {**pool.labels, POOL_LABEL: pool.name}}
        )
        groups.append(ZoneGroup(zone, suffix, share))
    return groups


def check_zonal(environment: Environment) -> PydanticCustomError | None:
    """A zonal pool must be able to have a node in every zone, and its per-zone names must fit the cloud."""
    for name in sorted(zonal_pools(environment)):
        index, pool = next((i, p) for i, p in enumerate(environment.node_pools) if p.name == name)
        zones = len(environment.zones)
        if pool.max < zones:
            return error(
                "zonal_pool_max",
                f"pool '{name}' runs the zone-spread inference service, so it is one node group per zone, but its max ({pool.max}) is below the {zones} zones",
                at=("nodePools", index, "max"),
                hint=f"raise max to at least {zones}, one node per zone",
            )
        if environment.cloud == "azure" and pool.system:
            return error(
                "zonal_pool_system",
                f"pool '{name}' runs the zone-spread inference service, which needs one node pool per zone, but it is the AKS system pool (one per cluster)",
                at=("workloads", "inference", "pool"),
                hint="run the inference service on a user pool",
            )
        if environment.cloud == "azure" and len(name) + max(len(z.rsplit("-", 1)[-1]) for z in environment.zones) > 12:
            return error(
                "zonal_pool_name",
                f"pool '{name}' becomes one AKS node pool per zone, named '{name}' plus the zone number, which is longer than AKS's 12 characters",
                at=("nodePools", index, "name"),
                hint=f"shorten the pool's name to at most {12 - max(len(z.rsplit('-', 1)[-1]) for z in environment.zones)} characters",
            )
    return None
