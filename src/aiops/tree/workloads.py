"""The pods that manifests ask for: every pod template in a tree's objects, and quantities.

Reads `Manifest` objects (from `manifests.py`), not files. Knows where each kind keeps its pod
spec: the workload kinds of Kubernetes, KubeRay (RayCluster, RayJob, RayService) and the Dask
operator (DaskCluster, DaskWorkerGroup, DaskJob). For each template it tells how many pods it may
run: a fixed count, or the maximum an autoscaler or the operator may reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiops.tree.manifests import Manifest
from aiops.tree.shapes import mapping, mappings, sequence

Path_ = tuple[str | int, ...]

_WORKLOADS = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "ReplicationController"}


@dataclass(frozen=True)
class PodTemplate:
    manifest: Manifest
    path: Path_  # where the PodSpec is in the object, e.g. ("spec", "template", "spec")
    spec: dict[str, Any]
    role: str  # "" for the only template of an object; "head", "worker group gpu-workers", ...
    replicas: int | None  # pods it runs as written (None: one per node, a DaemonSet)
    max_replicas: int | None  # the most pods an autoscaler may scale it to (None: fixed at `replicas`)

    def describe(self) -> str:
        return self.manifest.describe() + (f" ({self.role})" if self.role else "")

    def pods(self) -> str:
        """How a message names these pods, next to the object's own name."""
        return f"the {self.role} pods" if self.role else "its pods"

    def container_name(self, container: dict) -> str:
        return f"container '{container.get('name', '?')}'" + (f" of the {self.role}" if self.role else "")

    def containers(self, *, init: bool = True) -> Iterator[tuple[Path_, dict[str, Any]]]:
        """(path in the object, container) for each container (and init container)."""
        kinds = ("containers", "initContainers") if init else ("containers",)
        for kind in kinds:
            for index, container in enumerate(sequence(self.spec.get(kind))):
                if isinstance(container, dict):
                    yield (*self.path, kind, index), container

    def line(self, *subpath: str | int) -> int:
        return self.manifest.line_of((*self.path, *subpath))

    def request(self, resource: str) -> float:
        """What one pod requests of a resource, as the scheduler counts it: the containers' sum,
        or the largest init container when that is more (a limit stands in for a missing request)."""
        def of(container: dict) -> float:
            resources = mapping(container.get("resources"))
            value = mapping(resources.get("requests")).get(resource)
            if value is None:
                value = mapping(resources.get("limits")).get(resource)
            return (quantity(value) or 0.0) if value is not None else 0.0

        main = sum(of(c) for c in mappings(self.spec.get("containers")))
        init = max((of(c) for c in mappings(self.spec.get("initContainers"))), default=0.0)
        return max(main, init)

    def gpu_resources(self) -> dict[str, float]:
        """GPU-like extended resources (`<vendor>/gpu`) the pod requests, by name."""
        names = set()
        for _, container in self.containers():
            resources = mapping(container.get("resources"))
            for section in ("requests", "limits"):
                names |= {n for n in mapping(resources.get(section)) if isinstance(n, str) and n.endswith("/gpu")}
        return {name: amount for name in sorted(names) if (amount := self.request(name)) > 0}

    @property
    def gpus(self) -> float:
        return sum(self.gpu_resources().values())

    @property
    def most_replicas(self) -> int | None:
        return self.max_replicas if self.max_replicas is not None else self.replicas


def _int(value: Any, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _ray_groups(manifest: Manifest, base: Path_, cluster: dict) -> Iterator[PodTemplate]:
    head = mapping(cluster.get("headGroupSpec"))
    if isinstance(mapping(head.get("template")).get("spec"), dict):
        yield PodTemplate(manifest, (*base, "headGroupSpec", "template", "spec"), head["template"]["spec"], "head", 1, None)
    autoscaling = cluster.get("enableInTreeAutoscaling") is True
    for index, group in enumerate(sequence(cluster.get("workerGroupSpecs"))):
        if not isinstance(group, dict) or not isinstance(mapping(group.get("template")).get("spec"), dict):
            continue
        hosts = _int(group.get("numOfHosts"), 1) or 1
        replicas = (_int(group.get("replicas"), _int(group.get("minReplicas"), 0)) or 0) * hosts
        maximum = _int(group.get("maxReplicas"))
        yield PodTemplate(
            manifest, (*base, "workerGroupSpecs", index, "template", "spec"), group["template"]["spec"],
            f"worker group {group.get('groupName', index)}", replicas,
            maximum * hosts if autoscaling and maximum is not None else None,
        )


def pod_templates(manifest: Manifest) -> list[PodTemplate]:
    """Every pod template of an object, in the order they appear."""
    body, kind, group = manifest.body, manifest.kind, manifest.group
    spec = mapping(body.get("spec"))
    found: list[PodTemplate] = []
    if group in ("", "apps", "batch", "extensions") and kind in _WORKLOADS:
        template = mapping(spec.get("template")).get("spec")
        if isinstance(template, dict):
            if kind == "DaemonSet":
                replicas = None
            elif kind == "Job":
                replicas = _int(spec.get("parallelism"), 1)
            else:
                replicas = _int(spec.get("replicas"), 1)
            found.append(PodTemplate(manifest, ("spec", "template", "spec"), template, "", replicas, None))
    elif group == "batch" and kind == "CronJob":
        job = mapping(mapping(spec.get("jobTemplate")).get("spec"))
        template = mapping(job.get("template")).get("spec")
        if isinstance(template, dict):
            found.append(PodTemplate(manifest, ("spec", "jobTemplate", "spec", "template", "spec"), template, "", _int(job.get("parallelism"), 1), None))
    elif group == "" and kind == "Pod" and spec:
        found.append(PodTemplate(manifest, ("spec",), spec, "", 1, None))
    elif group == "" and kind == "PodTemplate":
        template = mapping(body.get("template")).get("spec")
        if isinstance(template, dict):
            found.append(PodTemplate(manifest, ("template", "spec"), template, "", 1, None))
    elif group == "ray.io" and kind == "RayCluster":
        found.extend(_ray_groups(manifest, ("spec",), spec))
    elif group == "ray.io" and kind == "RayJob":
        if isinstance(spec.get("rayClusterSpec"), dict):
            found.extend(_ray_groups(manifest, ("spec", "rayClusterSpec"), spec["rayClusterSpec"]))
        submitter = mapping(spec.get("submitterPodTemplate")).get("spec")
        if isinstance(submitter, dict):
            found.append(PodTemplate(manifest, ("spec", "submitterPodTemplate", "spec"), submitter, "submitter", 1, None))
    elif group == "ray.io" and kind == "RayService":
        if isinstance(spec.get("rayClusterConfig"), dict):
            found.extend(_ray_groups(manifest, ("spec", "rayClusterConfig"), spec["rayClusterConfig"]))
    elif group == "kubernetes.dask.org" and kind in ("DaskCluster", "DaskWorkerGroup", "DaskJob"):
        cluster, base = spec, ("spec",)
        if kind == "DaskJob":
            job = mapping(spec.get("job")).get("spec")
            if isinstance(job, dict):
                found.append(PodTemplate(manifest, ("spec", "job", "spec"), job, "job", 1, None))
            cluster, base = mapping(mapping(spec.get("cluster")).get("spec")), ("spec", "cluster", "spec")
        scheduler = mapping(cluster.get("scheduler")).get("spec")
        if kind != "DaskWorkerGroup" and isinstance(scheduler, dict):
            found.append(PodTemplate(manifest, (*base, "scheduler", "spec"), scheduler, "scheduler", 1, None))
        worker = mapping(cluster.get("worker"))
        if isinstance(worker.get("spec"), dict):
            found.append(PodTemplate(manifest, (*base, "worker", "spec"), worker["spec"], "worker", _int(worker.get("replicas"), 1), None))
    return found


# --- Quantities ------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {
    None: 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


class BadQuantity(ValueError):
    pass


def parse_quantity(value: Any) -> float:
    """A Kubernetes resource quantity ("500m", "16Gi", "192G", 4) as a number (cores, bytes, units)."""
    if isinstance(value, bool):
        raise BadQuantity(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise BadQuantity(f"{value!r} is not a quantity")
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def quantity(value: Any) -> float | None:
    """parse_quantity, or None when the value is not a quantity (the schema check reports that)."""
    try:
        return parse_quantity(value)
    except BadQuantity:
        return None
