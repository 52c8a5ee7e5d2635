"""Set every workload to its minimum or its maximum, as its autoscaler would, and wait until
the cluster has settled.

The autoscalers cannot decide here (no metrics, no Ray or Dask load), so the simulation does
what they would do at the two ends of their range: a HorizontalPodAutoscaler's target gets
minReplicas or maxReplicas (through the scale subresource, as the HPA controller writes it),
each Ray worker group minReplicas or maxReplicas (what the Ray autoscaler writes into the
RayCluster), each DaskCluster's workers the DaskAutoscaler's minimum or maximum. All writes
are made as the field manager `aiops-simulate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiops.simulate.api import Api, ApiError

FIELD_MANAGER = "aiops-simulate"
RESOURCES = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ReplicaSet": "replicasets"}


@dataclass(frozen=True)
class Scaled:
    kind: str
    namespace: str
    name: str
    replicas: int
    by: str  # what decided it: HPA/<name>, the Ray worker group, the DaskAutoscaler

    def as_dict(self) -> dict:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "replicas": self.replicas, "by": self.by}


def scale_workloads(api: Api, end: str) -> list[Scaled]:
    """Scale every autoscaled workload to `end` ("min" or "max") of its range."""
    done: list[Scaled] = []
    for hpa in api.items("/apis/autoscaling/v2/horizontalpodautoscalers"):
        meta, spec = hpa["metadata"], hpa.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        replicas = int(spec.get("maxReplicas", 1)) if end == "max" else int(spec.get("minReplicas", 1))
        resource = RESOURCES.get(target.get("kind", ""))
        if resource is None:
            continue
        group = str(target.get("apiVersion", "apps/v1"))
        path = f"/apis/{group}/namespaces/{meta['namespace']}/{resource}/{target.get('name')}/scale"
        try:
            api.merge_patch(path, {"spec": {"replicas": replicas}}, field_manager=FIELD_MANAGER)
        except ApiError as exc:
            if exc.status != 404:
                raise
            continue
        done.append(Scaled(target.get("kind", ""), meta["namespace"], str(target.get("name")), replicas, f"HPA/{meta['name']}"))
    for ray in api.items("/apis/ray.io/v1/rayclusters"):
        meta, spec = ray["metadata"], ray.get("spec") or {}
        groups = spec.get("workerGroupSpecs") or []
        for group in groups:
            group["replicas"] = int(group.get("maxReplicas" if end == "max" else "minReplicas", group.get("replicas", 0)) or 0)
        if groups:
            api.merge_patch(f"/apis/ray.io/v1/namespaces/{meta['namespace']}/rayclusters/{meta['name']}", {"spec": {"workerGroupSpecs": groups}}, field_manager=FIELD_MANAGER)
            for group in groups:
                done.append(Scaled("RayCluster", meta["namespace"], f"{meta['name']}/{group.get('groupName')}", group["replicas"], "Ray autoscaler (worker group range)"))
    for autoscaler in api.items("/apis/kubernetes.dask.org/v1/daskautoscalers"):
        meta, spec = autoscaler["metadata"], autoscaler.get("spec") or {}
        replicas = int(spec.get("maximum" if end == "max" else "minimum", 0))
        cluster = spec.get("cluster")
        try:
            api.merge_patch(f"/apis/kubernetes.dask.org/v1/namespaces/{meta['namespace']}/daskclusters/{cluster}", {"spec": {"worker": {"replicas": replicas}}}, field_manager=FIELD_MANAGER)
        except ApiError as exc:
            if exc.status != 404:
                raise
            continue
        done.append(Scaled("DaskCluster", meta["namespace"], str(cluster), replicas, f"DaskAutoscaler/{meta['name']}"))
    return done


@dataclass(frozen=True)
class ClusterState:
    """What changes while a cluster settles; equal states a second apart mean nothing moves."""

    pods: int
    bound: int
    running: int
    undecided: int  # unbound pods the scheduler has not judged yet
    unplaceable: int  # unbound pods the scheduler judged (unschedulable) or Kueue gates
    workloads: int
    decided_workloads: int
    unobserved_budgets: int
    pending_rollouts: int

    @property
    def quiet(self) -> bool:
        """Nothing is left for a controller to do: every pod placed or judged, every budget observed."""
        return self.undecided == 0 and self.unobserved_budgets == 0 and self.pending_rollouts == 0


def cluster_state(api: Api) -> ClusterState:
    pods = [p for p in api.items("/api/v1/pods") if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    bound = sum(1 for p in pods if (p.get("spec") or {}).get("nodeName"))
    running = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Running")
    unbound = [p for p in pods if not (p.get("spec") or {}).get("nodeName")]
    workloads = api.items("/apis/kueue.x-k8s.io/v1beta2/workloads")
    judged = sum(1 for p in unbound if _scheduler_said(p, workloads))
    decided = sum(1 for w in workloads if (w.get("status") or {}).get("conditions"))
    budgets = api.items("/apis/policy/v1/poddisruptionbudgets")
    observed = sum(1 for b in budgets if (b.get("status") or {}).get("observedGeneration") == b["metadata"].get("generation"))
    deployments = api.items("/apis/apps/v1/deployments")
    # A Deployment whose pods admission refuses (ReplicaFailure: a quota, Pod Security) is done too.
    pending_rollouts = sum(1 for d in deployments if (d.get("status") or {}).get("replicas", 0) != (d.get("spec") or {}).get("replicas", 1)
                           and not _replica_failure(d))
    return ClusterState(len(pods), bound, running, len(unbound) - judged, judged, len(workloads), decided, len(budgets) - observed, pending_rollouts)


def _replica_failure(deployment: dict) -> bool:
    return any(c.get("type") == "ReplicaFailure" and c.get("status") == "True" for c in (deployment.get("status") or {}).get("conditions") or [])


def _owner(obj: dict) -> tuple[str, str] | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", "")
    return None


def _kueue_held(pod: dict, workloads: list[dict]) -> bool:
    """Kueue has judged a pod behind its gate: the Workload that admits it (the pod's own, or the
    newest slice of its RayCluster's) exists and is pending. An admitted one is about to lift the
    gate, and a missing one is still to be made: both mean Kueue is not done (settle waits, up to
    its timeout)."""
    owner = _owner(pod)
    if owner is None:
        return False
    kind, name = owner
    if kind != "RayCluster":
        kind, name = "Pod", pod["metadata"]["name"]
    mine = [w for w in workloads if _owner(w) == (kind, name) and (w["metadata"].get("namespace") == pod["metadata"].get("namespace"))]
    if not mine:
        return False
    newest = max(mine, key=lambda w: w["metadata"].get("creationTimestamp", ""))
    conditions = {c.get("type"): c.get("status") for c in (newest.get("status") or {}).get("conditions") or []}
    return bool(conditions) and conditions.get("Admitted") != "True"


def _kueue_gated_by_admission(pod: dict) -> bool:
    return any(g.get("name", "").startswith("kueue.x-k8s.io/") for g in (pod.get("spec") or {}).get("schedulingGates") or [])


def _scheduler_said(pod: dict, workloads: list[dict]) -> bool:
    """The scheduler has decided about an unbound pod (unschedulable), or Kueue has about a gated one."""
    if (pod.get("spec") or {}).get("schedulingGates"):
        return not _kueue_gated_by_admission(pod) or _kueue_held(pod, workloads)
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return True
    return False


def settle(api: Api, *, timeout: float = 120.0, quiet: float = 3.0) -> float:
    """Wait until every pod is bound or judged by the scheduler, the rollouts and budgets are
    observed and nothing has changed for `quiet` seconds; returns the seconds it took."""
    start = time.monotonic()
    last, since = None, time.monotonic()
    while time.monotonic() - start < timeout:
        state = cluster_state(api)
        if state != last:
            last, since = state, time.monotonic()
        elif state.quiet and time.monotonic() - since >= quiet:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def stuck_detector(api: Api, *, quiet: float = 8.0):
    """A `give_up` for apply(): a reason once the cluster has been still for `quiet` seconds with
    pods the scheduler cannot place (no cluster-autoscaler adds nodes here, so a health check
    waiting for them would only time out)."""
    seen: dict[str, object] = {"state": None, "since": time.monotonic()}

    def give_up() -> str | None:
        state = cluster_state(api)
        if state != seen["state"]:
            seen["state"], seen["since"] = state, time.monotonic()
            return None
        if state.undecided == 0 and state.unplaceable and time.monotonic() - float(seen["since"]) >= quiet:
            return (f"not healthy: {state.unplaceable} pod(s) stay Pending, unschedulable or waiting for Kueue admission (their reasons are in "
                    "the passes below); Flux's health check would time out")
        return None

    return give_up
