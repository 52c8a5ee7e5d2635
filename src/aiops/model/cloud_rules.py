"""What each cloud can take: instance types, GPUs per machine, zones of a region.

These rules have two callers and one implementation: the model's validators (an environment
file with a mistake gets `file:line: field: message`) and the Terraform constructs (a construct
given such props refuses to be built, naming the field). Each rule returns a `Violation`, or
None when the input is fine; the caller decides how to report it.

The rules only read plain values and the instance catalog, so a model built without the
loader's context and a construct built from hand-written props are held to the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiops.model.base import did_you_mean as _did_you_mean
from aiops.model.catalog import CLOUDS, Cloud, load_catalog


# The address range of an EKS cluster's VPC (the network construct carves its subnets from it;
# the serving NetworkPolicy admits the ALB, which sends from these addresses, on EKS).
EKS_VPC_CIDR = "10.0.0.0/16"


@dataclass(frozen=True)
class Violation:
    """One broken rule: what is wrong, how to fix it, and where (relative to what was checked)."""

    kind: str  # a short error type, e.g. "instance_type"
    message: str
    hint: str
    at: tuple[str | int, ...] = ()  # e.g. ("gpu", "count") within a node pool, (1,) within zones


# Per-cloud node-pool naming rules, from each provider's API reference.
_POOL_NAME_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"), "EKS node group names: up to 63 lowercase letters, digits and '-'"),
    "gcp": (re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"), "GKE node pool names: up to 40 lowercase letters, digits and '-', starting with a letter"),
    "azure": (re.compile(r"^[a-z][a-z0-9]{0,11}$"), "AKS node pool names: 1 to 12 lowercase letters and digits, starting with a letter (no '-')"),
}


def pool_name_violation(cloud: Cloud, name: str) -> Violation | None:
    """A node pool's name must be one the cloud's API accepts."""
    pattern, rule = _POOL_NAME_RULES[cloud]
    if pattern.match(name):
        return None
    return Violation("pool_name", f"'{name}' is not a valid node pool name on {cloud}", rule, ("name",))


def instance_type_violation(cloud: Cloud, instance_type: str) -> Violation | None:
    """The instance type must be one the catalog knows for this cloud."""
    catalog = load_catalog()
    if catalog.instance_type(cloud, instance_type) is not None:
        return None
    known = catalog.instance_type_names(cloud)
    return Violation(
        "instance_type",
        f"'{instance_type}' is not an instance type the catalog knows for {cloud}",
        f"{_did_you_mean(instance_type, known)}known {cloud} types: {', '.join(known)}; "
        "to use another, add it with its vCPU, memory, GPUs and prices to catalog/instance_types.yaml",
        ("instanceType",),
    )


def gpu_violation(cloud: Cloud, instance_type: str, gpu_type: str | None, gpu_count: int | None) -> Violation | None:
    """GPUs asked of a pool (`gpu: {type, count}`; both None when not asked) must fit its machine.

    On AWS and Azure the instance type decides the GPUs, so a count or model given must agree
    with the catalog. On Google Cloud GPUs are accelerators attached to the machine: the type
    must be known, attach to the machine family, and not exceed the per-machine maximum (a
    machine type that carries its GPUs, as A2 does, takes exactly its own count).
    An unknown instance type is `instance_type_violation`'s to report, not this rule's.
    """
    catalog = load_catalog()
    machine = catalog.instance_type(cloud, instance_type)
    asked = gpu_type is not None or gpu_count is not None
    if machine is None or not asked:
        return None
    count = 1 if gpu_count is None else gpu_count
    if cloud == "gcp":
        if gpu_type is None:
            return Violation(
                "gpu_type",
                "'gpu.type' is required on Google Cloud",
                f"name the accelerator to attach, one of: {', '.join(catalog.accelerator_names('gcp'))}",
                ("gpu",),
            )
        accelerator = catalog.accelerator("gcp", gpu_type)
        if accelerator is None:
            known = catalog.accelerator_names("gcp")
            return Violation(
                "gpu_type",
                f"'{gpu_type}' is not an accelerator the catalog knows for gcp",
                f"{_did_you_mean(gpu_type, known)}known accelerators: {', '.join(known)}",
                ("gpu", "type"),
            )
        family = instance_type.split("-", 1)[0]
        if family not in accelerator.machine_families:
            return Violation(
                "gpu_type",
                f"{gpu_type} cannot attach to {instance_type}",
                f"{gpu_type} attaches to these machine families: {', '.join(accelerator.machine_families)}",
                ("gpu", "type"),
            )
        if count > accelerator.max_per_instance:
            return Violation(
                "gpu_count",
                f"{count} x {gpu_type} is more than one machine takes ({accelerator.max_per_instance})",
                f"use at most {accelerator.max_per_instance}",
                ("gpu", "count"),
            )
        if machine.gpu is not None and count != machine.gpu.count:  # A2: the machine type fixes its GPUs
            return Violation(
                "gpu_count",
                f"{instance_type} comes with {machine.gpu.count} x {gpu_type}, not {count}",
                f"set count to {machine.gpu.count}, or choose the {family} machine type with {count} GPU(s)",
                ("gpu", "count"),
            )
        return None
    if machine.gpu is None:
        return Violation("gpu_count", f"{instance_type} has no GPU", "remove the 'gpu' block or choose a GPU instance type", ("gpu",))
    if count != machine.gpu.count:
        return Violation(
            "gpu_count",
            f"{instance_type} has {machine.gpu.count} GPU(s), not {count}",
            f"set count to {machine.gpu.count} or leave the 'gpu' block out (the instance type decides it)",
            ("gpu", "count"),
        )
    if gpu_type is not None and gpu_type.lower() != machine.gpu.model.lower():
        return Violation(
            "gpu_type",
            f"{instance_type} carries {machine.gpu.model} GPUs, not {gpu_type}",
            f"set type to {machine.gpu.model} or leave it out",
            ("gpu", "type"),
        )
    return None


def zone_violation(cloud: Cloud, region: str, zones: list[str] | tuple[str, ...]) -> Violation | None:
    """Every zone must belong to the region (by each cloud's naming), and be listed once.

    EKS also needs subnets in at least two zones for its control plane.
    """
    if cloud == "aws" and len(zones) < 2:
        return Violation("zones", "EKS needs subnets in at least two zones", "list two or more zones")
    for index, zone in enumerate(zones):
        if cloud == "aws":
            ok, example = re.fullmatch(rf"{re.escape(region)}[a-z]", zone), f"{region}a"
        elif cloud == "gcp":
            ok, example = re.fullmatch(rf"{re.escape(region)}-[a-z]", zone), f"{region}-a"
        else:
            ok, example = zone in ("1", "2", "3"), "1"
        if not ok:
            return Violation("zone", f"zone '{zone}' is not in region {region}", f"{cloud} zones of {region} look like '{example}'", (index,))
        if list(zones).index(zone) != index:
            return Violation("zone", f"zone '{zone}' is listed twice", "list each zone once", (index,))
    return None


def system_pool_violation(cloud: Cloud, system: bool, taints: int, min_size: int) -> Violation | None:
    """The AKS system pool is the cluster's default pool: never empty, and AKS takes no taints on it."""
    if cloud != "azure" or not system:
        return None
    if min_size < 1:
        return Violation("system_pool", "the AKS system pool needs at least one node", "set min to 1 or more", ("min",))
    if taints:
        return Violation(
            "system_pool",
            "the AKS system pool cannot carry taints",
            "remove its taints, or put the tainted nodes in a user pool",
            ("taints",),
        )
    return None


def pool_violations(
    cloud: Cloud, *, name: str, instance_type: str, gpu_type: str | None, gpu_count: int | None, system: bool = False, taints: int = 0, min_size: int = 0,
    capacity_type: str = "onDemand", alternatives: tuple[str, ...] | list[str] = (), time_slicing: int | None = None, mig: str | None = None,
) -> list[Violation]:
    """Every cloud rule about one node pool, in the order of the pool's fields."""
    from aiops.model.gpu_sharing import sharing_violation
    from aiops.model.spot import spot_violations

    if cloud not in CLOUDS:
        return []
    found = [pool_name_violation(cloud, name), instance_type_violation(cloud, instance_type)]
    if found[1] is None:
        found.append(gpu_violation(cloud, instance_type, gpu_type, gpu_count))
        machine = load_catalog().instance_type(cloud, instance_type)
        gpus = (gpu_count or 0) if cloud == "gcp" else (machine.gpu.count if machine is not None and machine.gpu else 0)
        found.append(sharing_violation(cloud, instance_type, gpus, time_slicing, mig, gpu_type=gpu_type))
    found.append(system_pool_violation(cloud, system, taints, min_size))
    found += spot_violations(cloud, instance_type=instance_type, capacity_type=capacity_type, alternatives=alternatives, system=system)
    return [v for v in found if v is not None]
