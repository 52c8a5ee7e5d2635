"""Spot and preemptible capacity: one model field (`capacityType: spot`), three clouds' spellings.

A spot node can be taken back by the cloud at short notice (two minutes on EC2, 30 seconds on
Azure and Google Cloud). Each cloud marks such nodes with a label; AKS also taints them, and
so does this platform on EKS and GKE, so that only pods that say they can be interrupted land
there (the model refuses a pool that is spot under an inference service or a Ray head):

| cloud | Terraform | label the cloud puts on the node | taint |
|---|---|---|---|
| EKS | `capacity_type = "SPOT"`, `instance_types` = the pool's type and its alternatives | `eks.amazonaws.com/capacityType=SPOT` | `aiops.example/capacity-type=spot:NoSchedule` (ours: EKS puts none) |
| AKS | `priority = "Spot"`, `eviction_policy = "Delete"`, `spot_max_price = -1` | `kubernetes.azure.com/scalesetpriority=spot` | `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` (AKS's own, declared so Terraform sees no drift) |
| GKE | `node_config.spot = true` | `cloud.google.com/gke-spot=true` | `cloud.google.com/gke-spot=true:NoSchedule` (GKE's documented key; GKE adds none itself) |

On EKS a spot pool may name alternative instance types, so that EC2 can draw on more than one
spot pool. cluster-autoscaler sizes a node group from one of its types, so each alternative
must be interchangeable with the pool's type: the same vCPUs, memory and GPUs (model and
count), by the catalog (`interchangeable_types`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from aiops.model.catalog import Cloud, load_catalog

if TYPE_CHECKING:
    from aiops.model.cloud_rules import Violation

CapacityType = Literal["onDemand", "spot"]
ON_DEMAND: CapacityType = "onDemand"
SPOT: CapacityType = "spot"

# (key, value) of the taint each cloud's spot nodes carry (see the table above).
SPOT_TAINTS: dict[str, tuple[str, str]] = {
    "aws": ("aiops.example/capacity-type", "spot"),
    "azure": ("kubernetes.azure.com/scalesetpriority", "spot"),
    "gcp": ("cloud.google.com/gke-spot", "true"),
}
# (key, value) of the label each cloud puts on its spot nodes.
SPOT_LABELS: dict[str, tuple[str, str]] = {
    "aws": ("eks.amazonaws.com/capacityType", "SPOT"),
    "azure": ("kubernetes.azure.com/scalesetpriority", "spot"),
    "gcp": ("cloud.google.com/gke-spot", "true"),
}
# On the objects whose pods may run on a spot pool (the workload constructs set it; `aiops validate` reads it).
INTERRUPTIBLE_ANNOTATION = "aiops.example/interruptible"
SPOT_TAINT_KEYS = frozenset(key for key, _ in SPOT_TAINTS.values())
# AKS: what happens to an evicted spot VM. Delete frees its disk too (Deallocate keeps the disk,
# billed, and the VM counts against the quota), and the autoscaler replaces deleted nodes.
AKS_EVICTION_POLICY = "Delete"
AKS_SPOT_MAX_PRICE = -1  # pay up to the on-demand price: never evicted for price, only for capacity


def spot_taint(cloud: Cloud) -> dict[str, str]:
    """The taint of a spot pool on `cloud`, as a model taint (Kubernetes spelling)."""
    key, value = SPOT_TAINTS[cloud]
    return {"key": key, "value": value, "effect": "NoSchedule"}


def interchangeable_types(cloud: Cloud, instance_type: str) -> list[str]:
    """The catalog's other types of `cloud` with the same vCPUs, memory and GPUs (model, count), not retired."""
    catalog = load_catalog()
    machine = catalog.instance_type(cloud, instance_type)
    if machine is None:
        return []
    return [
        name for name in catalog.instance_type_names(cloud)
        if name != instance_type and _shape(catalog.instance_type(cloud, name)) == _shape(machine) and catalog.instance_type(cloud, name).retirement is None
    ]


def _shape(machine) -> tuple:
    return (machine.vcpu, machine.memory_gi_b, (machine.gpu.model, machine.gpu.count) if machine.gpu else None)


def _describe(machine) -> str:
    gpus = f"{machine.gpu.count} x {machine.gpu.model}" if machine.gpu else "no GPU"
    return f"{machine.vcpu} vCPU, {machine.memory_gi_b:g} GiB, {gpus}"


def spot_violations(cloud: Cloud, *, instance_type: str, capacity_type: str, alternatives: tuple[str, ...] | list[str], system: bool) -> list[Violation]:
    """What a pool's capacity type and alternative instance types must respect on `cloud`."""
    from aiops.model.cloud_rules import Violation, instance_type_violation  # (pydantic; validate imports this module without it)

    found: list[Violation] = []
    if capacity_type == SPOT and system:
        found.append(Violation(
            "capacity_type", "the AKS system pool cannot be spot",
            "AKS runs its system pool on regular VMs; leave capacityType out here and make a user pool spot", ("capacityType",),
        ))
    if not alternatives:
        return found
    if cloud != "aws":
        found.append(Violation(
            "alternative_instance_types", f"alternativeInstanceTypes applies to EKS only, not to {cloud}",
            "an AKS or GKE pool has one VM size; remove alternativeInstanceTypes", ("alternativeInstanceTypes",),
        ))
        return found
    if capacity_type != SPOT:
        found.append(Violation(
            "alternative_instance_types", "alternativeInstanceTypes needs capacityType: spot",
            "alternatives let EC2 draw on several spot pools; on demand, one type is priced and launched; set capacityType: spot or remove the list",
            ("alternativeInstanceTypes",),
        ))
        return found
    catalog = load_catalog()
    machine = catalog.instance_type(cloud, instance_type)
    if machine is None:
        return found  # instance_type_violation reports the pool's own type
    fitting = interchangeable_types(cloud, instance_type)
    for index, name in enumerate(alternatives):
        at = ("alternativeInstanceTypes", index)
        unknown = instance_type_violation(cloud, name)
        if unknown is not None:
            found.append(Violation(unknown.kind, unknown.message, unknown.hint, at))
            continue
        if name == instance_type or list(alternatives).index(name) != index:
            found.append(Violation("alternative_instance_types", f"'{name}' is listed twice (instanceType and alternatives are one list)", "list each type once", at))
            continue
        other = catalog.instance_type(cloud, name)
        if _shape(other) != _shape(machine):
            found.append(Violation(
                "alternative_instance_types",
                f"{name} ({_describe(other)}) is not interchangeable with {instance_type} ({_describe(machine)})",
                "cluster-autoscaler sizes a node group from one of its types, so every type needs the same vCPUs, memory and GPUs; "
                + (f"interchangeable in the catalog: {', '.join(fitting)}" if fitting else f"the catalog has no type like {instance_type}; remove it"),
                at,
            ))
    return found
