"""What a node of each cloud offers to pods (used by `aiops simulate`'s nodes and by the
validator's capacity rules): capacity minus the kubelet's reservations and its
eviction threshold, by the formula each cloud documents.

Capacity is the instance catalog's vCPU and memory (a real node's kernel reports slightly
less memory than the instance's nominal GiB, so real allocatable memory is a little lower).
Every formula says where it comes from:

- EKS (Amazon Linux 2023, nodeadm): kube-reserved CPU by the core ladder below; kube-reserved
  memory 11 MiB x max pods + 255 MiB; eviction at memory.available < 100 MiB. Max pods is the
  ENI limit of the instance type (amazon-eks-ami templates/shared/runtime/eni-max-pods.txt,
  without prefix delegation). Source: awslabs/amazon-eks-ami nodeadm
  internal/kubelet/config.go (getCPUMillicoresToReserve, getMemoryMebibytesToReserve).
- AKS (1.29 and later): kube-reserved CPU by the table of "Node resource reservations in AKS"
  (learn.microsoft.com/azure/aks/node-resource-reservations); kube-reserved memory the lesser
  of 20 MB x max pods + 50 MB and 25 % of the memory (read here as MiB); eviction at
  memory.available < 100 Mi. Max pods 250, Azure CNI Overlay's default, unless the pool sets
  max_pods.
- GKE (Standard): CPU by the same ladder as EKS; memory 25 % of the first 4 GiB, 20 % of the
  next 4, 10 % of the next 8, 6 % of the next 112, 2 % above 128 GiB; eviction at
  memory.available < 100 MiB; 110 pods. Source: cloud.google.com/kubernetes-engine/docs/
  concepts/plan-node-sizes ("Reserved resources for Standard nodes").
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
GIB = 1024 * MIB

# ENI-based max pods of the instance types in the catalog (amazon-eks-ami eni-max-pods.txt).
EKS_MAX_PODS = {"p3.2xlarge": 58, "g4dn.xlarge": 29, "c5.4xlarge": 234, "c5a.4xlarge": 234, "c6i.4xlarge": 234, "p4d.24xlarge": 737}
# An instance type not listed: the ENI formula of a 4-ENI, 15-IP machine (most xlarge types).
EKS_DEFAULT_MAX_PODS = 58
AKS_DEFAULT_MAX_PODS = 250
GKE_MAX_PODS = 110
EVICTION_MEMORY = 100 * MIB
AKS_CPU_TABLE = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))


@dataclass(frozen=True)
class NodeResources:
    cpu_millis: int  # capacity
    memory_bytes: int
    gpus: int
    max_pods: int
    reserved_cpu_millis: int  # kube-reserved + system-reserved
    reserved_memory_bytes: int  # kube-reserved + the eviction threshold

    @property
    def allocatable_cpu_millis(self) -> int:
        return self.cpu_millis - self.reserved_cpu_millis

    @property
    def allocatable_memory_bytes(self) -> int:
        return self.memory_bytes - self.reserved_memory_bytes


def _cpu_ladder(vcpu: int) -> int:
    """6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % above."""
    millis = 0.0
    for core in range(vcpu):
        millis += 60 if core == 0 else 10 if core == 1 else 5 if core < 4 else 2.5
    return int(millis)


def _gke_memory(memory: int) -> int:
    if memory < GIB:
        return 255 * MIB
    reserved, rest = 0.0, float(memory)
    for size, share in ((4 * GIB, 0.25), (4 * GIB, 0.20), (8 * GIB, 0.10), (112 * GIB, 0.06), (float("inf"), 0.02)):
        part = min(rest, size)
        reserved += part * share
        rest -= part
        if rest <= 0:
            break
    return int(reserved)


def _aks_cpu(vcpu: int) -> int:
    for cores, millis in AKS_CPU_TABLE:
        if vcpu <= cores:
            return millis
    return AKS_CPU_TABLE[-1][1]


def node_resources(cloud: str, instance_type: str, vcpu: int, memory_gib: float, gpus: int, max_pods: int | None = None) -> NodeResources:
    """Capacity and reservations of one node of `instance_type` on `cloud`."""
    memory = int(memory_gib * GIB)
    if cloud == "aws":
        pods = max_pods or EKS_MAX_PODS.get(instance_type, EKS_DEFAULT_MAX_PODS)
        cpu, kube_memory = _cpu_ladder(vcpu), (11 * pods + 255) * MIB
    elif cloud == "azure":
        pods = max_pods or AKS_DEFAULT_MAX_PODS
        cpu, kube_memory = _aks_cpu(vcpu), min((20 * pods + 50) * MIB, memory // 4)
    else:
        pods = max_pods or GKE_MAX_PODS
        cpu, kube_memory = _cpu_ladder(vcpu), _gke_memory(memory)
    return NodeResources(vcpu * 1000, memory, gpus, pods, cpu, kube_memory + EVICTION_MEMORY)
