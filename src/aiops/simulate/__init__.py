"""`aiops simulate`: reconcile an environment on a real Kubernetes control plane whose nodes are its pools.

- `binaries`: where the set-up put the programs, and which Kubernetes minors can run;
- `control_plane`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK on
  127.0.0.1, stopped and removed afterwards;
- `allocatable`, `nodes`: the pools of the environment's Terraform as Node objects, with each
  cloud's labels, taints, zones and allocatable resources;
- `apply` (flux-apply, on Flux's own apply code), `helm`, `host_operators`, `reconcile`: dist/
  applied the way Flux would, charts rendered with Helm, Kueue and KubeRay running on the host;
- `scale`, `observe`: workloads at their minimum and maximum, and what the cluster did;
- `run`: one environment from start to verdict; `report`: text and JSON.
"""

from aiops.lazy import names_from

_WHERE = {
    "EnvironmentResult": "aiops.simulate.run",
    "simulate_environment": "aiops.simulate.run",
}

__all__ = sorted(_WHERE)
__getattr__ = names_from(__name__, _WHERE)
