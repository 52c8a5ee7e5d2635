"""What a pool's nodes give queued workloads: allocatable minus what runs on every node, in
the units Kueue's quotas count (millicores, bytes, whole GPUs).

Four kinds of overhead, each saying how it is known:

- `NODE_EXPORTER`: the requests the PrometheusStack construct sets on node-exporter, the one
  DaemonSet of dist/ that runs on every node (the simulation runs it and shows its pods).
- `CLOUD_DAEMONS_MARGIN`: the clouds' own DaemonSets (VPC CNI / Azure CNI / Cilium, kube-proxy,
  CSI node plugins, identity agents) are not in dist/ and do not run in the simulation; this is
  a margin, not a measurement.
- `GPU_OPERANDS_MARGIN`: the GPU operator's operands (device plugin, GPU feature discovery,
  DCGM exporter, validator) on each GPU node of EKS and AKS. The operator does not run in the
  simulation (it needs the NVIDIA runtime), so this too is a margin.
- `PLATFORM_PODS`: the platform's pods outside Kueue that land on untainted pools (operators,
  Prometheus, Flux's controllers are not in the simulation, the webhooks...). Measured by
  `aiops simulate` on the reference environments (tests/test_simulate.py re-measures it and
  fails when they need more than this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiops.model.allocatable import GIB, MIB, node_resources
from aiops.model.quantity import parse_quantity

if TYPE_CHECKING:
    from aiops.model.catalog import Cloud
    from aiops.model.environment import NodePool
    from aiops.model.workloads import ComputeResources


@dataclass(frozen=True)
class Resources:
    cpu_millis: int
    memory_bytes: int
    gpus: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millis + other.cpu_millis, self.memory_bytes + other.memory_bytes, self.gpus + other.gpus)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millis - other.cpu_millis, self.memory_bytes - other.memory_bytes, self.gpus - other.gpus)

    def times(self, count: int) -> Resources:
        return Resources(self.cpu_millis * count, self.memory_bytes * count, self.gpus * count)

    def short_of(self, *, gpus: bool) -> str:
        """The first resource a quota has none of ('' when it has some of each)."""
        if self.cpu_millis <= 0:
            return "CPU"
        if self.memory_bytes <= 0:
            return "memory"
        if gpus and self.gpus <= 0:
            return "GPUs"
        return ""

    def quantities(self) -> dict[str, str]:
        """As Kubernetes quantities: whole cores when exact, else millicores; memory in Mi (rounded down)."""
        cpu = f"{self.cpu_millis // 1000}" if self.cpu_millis % 1000 == 0 else f"{self.cpu_millis}m"
        return {"cpu": cpu, "memory": f"{self.memory_bytes // MIB}Mi", "gpus": str(self.gpus)}

    def __str__(self) -> str:
        q = self.quantities()
        return f"{q['cpu']} CPU, {q['memory']}" + (f", {self.gpus} GPU(s)" if self.gpus else "")


@dataclass(frozen=True)
class NodeDaemons:
    every_node: Resources
    gpu_node: Resources  # in addition, on GPU nodes of clouds where the GPU operator runs

    def on(self, cloud: Cloud, gpu: bool) -> Resources:
        return self.every_node + (self.gpu_node if gpu and cloud != "gcp" else Resources(0, 0))


NODE_EXPORTER = Resources(20, 48 * MIB)
CLOUD_DAEMONS_MARGIN = Resources(200, 256 * MIB)
GPU_OPERANDS_MARGIN = Resources(250, 768 * MIB)
NODE_DAEMONS = NodeDaemons(NODE_EXPORTER + CLOUD_DAEMONS_MARGIN, GPU_OPERANDS_MARGIN)
# Measured with `aiops simulate` (see the module docstring); rounded up.
PLATFORM_PODS = Resources(4000, 8 * GIB)
# KubeRay's autoscaler sidecar on the head (the RayCluster construct writes these out).
RAY_AUTOSCALER_SIDECAR = Resources(500, 512 * MIB)


def allocatable(cloud: Cloud, pool: NodePool) -> Resources:
    """One node's allocatable CPU, memory and GPUs (the cloud's documented reservations)."""
    from aiops.model.catalog import load_catalog

    machine = load_catalog().instance_type(cloud, pool.instance_type)
    if machine is None:
        raise KeyError(f"{pool.instance_type} is not in the {cloud} catalog")
    node = node_resources(cloud, pool.instance_type, machine.vcpu, machine.memory_gi_b, pool.gpu_count(cloud))
    # GPUs as the node advertises them: whole, time slices or MIG instances (aiops.model.gpu_sharing)
    return Resources(node.allocatable_cpu_millis, node.allocatable_memory_bytes, pool.advertised(cloud).per_node(node.gpus))


def requests_of(resources: ComputeResources) -> Resources:
    """One container's requests (GPUs: request = limit)."""
    return Resources(int(parse_quantity(resources.cpu) * 1000), int(parse_quantity(resources.memory)), resources.gpus)
