"""What one node of a pool offers: vCPUs, memory and GPUs, from the instance catalog; with GPU
sharing (aiops.model.gpu_sharing), GPUs count what the node advertises (time slices, MIG instances).

Queues (their quotas) and the workload checks (does a pod fit on a node) read the same numbers,
and the constructs receive them as props, so no construct reads the catalog file itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aiops.model.catalog import Cloud, load_catalog
from aiops.model.environment import NodePool


@dataclass(frozen=True)
class NodeCapacity:
    """Capacity of one node (not allocatable: the kubelet and system pods take a little)."""

    vcpu: int
    memory_gib: Decimal
    gpus: int  # what the node advertises: whole GPUs, time slices or MIG instances (gpu_resource)
    gpu_resource: str = "nvidia.com/gpu"
    physical_gpus: int | None = None  # the GPUs themselves (None: as `gpus`)


def node_capacity(cloud: Cloud, pool: NodePool) -> NodeCapacity:
    machine = load_catalog().instance_type(cloud, pool.instance_type)
    if machine is None:
        raise KeyError(f"{pool.instance_type} is not in the {cloud} catalog")
    # str() first: the catalog's floats (15.0, 61) become exact decimals.
    gpus = pool.gpu_count(cloud)
    shared = pool.advertised(cloud)
    return NodeCapacity(vcpu=machine.vcpu, memory_gib=Decimal(str(machine.memory_gi_b)), gpus=shared.per_node(gpus),
                        gpu_resource=shared.resource, physical_gpus=gpus)
