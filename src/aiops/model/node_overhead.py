"""What a pool's nodes give queued workloads: allocatable minus what runs on every node, in
the units Kueue's quotas count (millicores, bytes, whole GPUs).

Each kind of overhead says how it is known:

- `NODE_EXPORTER`: the requests the PrometheusStack construct sets on node-exporter, the one
  DaemonSet of the platform's own charts on every node.
- `NFD_WORKER`: node-feature-discovery's worker, which the GPU operator chart runs on every node
  of EKS and AKS (its chart's requests, 5m / 64Mi).
  `aiops simulate` runs both DaemonSets and shows their pods on every node.
- `CLOUD_DAEMONS_MARGIN`: the clouds' own DaemonSets (VPC CNI / Azure CNI / Cilium, kube-proxy,
  CSI node plugins, identity agents) are not in dist/ and do not run in the simulation; this is
  a margin, not a measurement.
- `GPU_OPERANDS_MARGIN`: the GPU operator's operands (device plugin, GPU feature discovery,
  DCGM exporter, validator) on each GPU node of EKS and AKS. The operator does not run in the
  simulation (it needs the NVIDIA runtime), so this too is a margin.
- `PLATFORM_PODS`: the platform's pods outside Kueue that land on untainted pools. Measured by
  `aiops simulate` on aws-primary at desired (2026-12-02): 1.51 CPU and 2.0 GiB of requests
  (Kueue's two replicas, the GPU operator and NFD master, KubeRay, metrics-server...; charts
  that leave requests unset count 0); to that come Flux's controllers (not in dist/: about
  0.35 CPU / 0.25 GiB) and Prometheus and Alertmanager, which the Prometheus operator would
  start (it does not run in the simulation). 4 CPU / 8 GiB leaves room for those;
  tests/test_simulate.py fails when what the simulation measures grows past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiops.model.allocatable import GIB, MIB, node_resources
from aiops.model.quantity import parse_quantity

if TYPE_CHECKING:
    from aiops.model.catalog import Cloud
    from aiops.model.environment import Environment, NodePool
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


NODE_EXPORTER = Resources(20, 48 * MIB)
NFD_WORKER = Resources(5, 64 * MIB)
CLOUD_DAEMONS_MARGIN = Resources(200, 256 * MIB)
GPU_OPERANDS_MARGIN = Resources(250, 768 * MIB)


def node_daemons(environment: Environment, pool: NodePool) -> Resources:
    """What the DaemonSets take on each node of `pool`."""
    cloud = environment.cloud
    daemons = NODE_EXPORTER + CLOUD_DAEMONS_MARGIN
    # The GPU operator runs on EKS and AKS when a pool has GPUs (GKE brings its own GPU stack).
    if cloud != "gcp" and any(p.gpu_count(cloud) for p in environment.node_pools):
        daemons = daemons + NFD_WORKER + (GPU_OPERANDS_MARGIN if pool.gpu_count(cloud) else Resources(0, 0))
    return daemons
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
