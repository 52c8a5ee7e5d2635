"""A KubeRay RayCluster: a CPU head and an autoscaled GPU worker group."""

from __future__ import annotations

import re
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model import NodePool
from aiops.model.capacity import NodeCapacity
from aiops.model.workloads import RayClusterWorkload
from aiops_constructs.k8s.pods import PART_OF, QUEUE_LABEL, add_disruption_budget, container_resources, labels, placement, shared_memory, spot_metadata, zone_spread
from aiops_constructs.k8s.security_context import container_security_context, secure, writable_mounts

RAY_API_VERSION = "ray.io/v1"  # v1alpha1 is deprecated in KubeRay 1.7 and due to stop being served
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The autoscaler sidecar KubeRay adds to the head; these are KubeRay's own defaults, written
# out so that every container in the cluster has visible requests and limits.
RAY_OBJECT_STORE_SHARE = 30  # percent of the container's memory limit, Ray's default object store size
ELASTIC_JOB_ANNOTATION = "kueue.x-k8s.io/elastic-job"
# The scheduling gate Kueue's webhook requires in every pod template of an elastic RayCluster
# (kueue v0.19.2 apis/kueue/v1beta2/constants.go); Kueue lifts it from each pod it admits.
ELASTIC_JOB_GATE = "kueue.x-k8s.io/elastic-job"
AUTOSCALER_RESOURCES = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}


class RayCluster(Construct):
    """A `RayCluster` (`ray.io/v1`) with in-tree autoscaling, and a PodDisruptionBudget for its workers.

    **The head has no GPU.** It runs the GCS, the dashboard and the autoscaler sidecar, and
    `num-cpus: "0"` keeps Ray tasks and actors off it, so a GPU there would sit idle. Worse,
    `nvidia.com/gpu` cannot be overcommitted (a limit alone sets the request), so the design's
    `limits: {nvidia.com/gpu: 1}` on the head would hold a whole GPU node for as long as the
    cluster lives and stop the GPU pool from ever scaling to zero. The head runs on a CPU pool;
    GPU work goes to the worker group.

    **Requests equal limits** in every Ray container: KubeRay sets Ray's `num-cpus` and memory
    from the limits, so a request below them would let Ray run more on a node than the
    scheduler reserved. Head and workers mount an in-memory /dev/shm for the object store.

    The worker group has `minReplicas`/`maxReplicas` but no `replicas`: the Ray autoscaler owns
    that field (KubeRay starts at minReplicas), and a value in git would make Flux undo every
    scaling decision. `rayStartParams` values are strings, as the CRD requires.

    **Queued** with `queue`: the RayCluster carries the LocalQueue's name and, because the Ray
    autoscaler resizes it, `kueue.x-k8s.io/elastic-job: "true"` (Kueue 0.19.2's webhook refuses
    an autoscaled RayCluster without it, pkg/controller/jobs/raycluster/raycluster_webhook.go;
    Kueue then admits it as workload slices that grow and shrink with the worker group). The pod
    templates carry Kueue's elastic-job scheduling gate themselves: Kueue's mutating webhook
    adds it only on create, its validating webhook requires it on every update, so a manifest
    without it is refused the next time Flux applies it (the simulation showed this).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workload: RayClusterWorkload,
        head_pool: NodePool,
        worker_pool: NodePool,
        worker_capacity: NodeCapacity,
        priority_class: str,
        zones: int,
        group_name: str = "gpu-workers",
        idle_timeout_seconds: int = 60,
        queue: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        who = f"RayCluster '{workload.name}'"
        if workload.head.resources.gpus:
            raise ValueError(f"{who}: head.resources.gpus is {workload.head.resources.gpus}; the head takes no GPU (it runs no tasks)")
        if (workload.head.pool, workload.workers.pool) != (head_pool.name, worker_pool.name):
            raise ValueError(
                f"{who}: the workload names pools '{workload.head.pool}' and '{workload.workers.pool}' but head_pool and worker_pool are "
                f"'{head_pool.name}' and '{worker_pool.name}'"
            )
        if head_pool.spot:
            raise ValueError(f"{who}: head_pool '{head_pool.name}' is spot; the head holds the cluster's state (GCS) and is never interruptible")
        if worker_pool.spot and not workload.workers.interruptible:
            raise ValueError(f"{who}: worker_pool '{worker_pool.name}' is spot but workers.interruptible is false")
        if workload.workers.resources.gpus and not worker_capacity.gpus:
            raise ValueError(f"{who}: workers.resources.gpus is {workload.workers.resources.gpus} but pool '{worker_pool.name}' has no GPUs")
        if not _NAME.match(group_name):
            raise ValueError(f"{who}: group_name '{group_name}' is not a valid Kubernetes name")
        if queue is not None and not _NAME.match(queue):
            raise ValueError(f"{who}: queue '{queue}' is not a valid LocalQueue name")
        if idle_timeout_seconds < 0:
            raise ValueError(f"{who}: idle_timeout_seconds must not be negative, got {idle_timeout_seconds}")

        name, namespace, workers = workload.name, workload.namespace, workload.workers
        worker_selector = {"ray.io/cluster": name, "ray.io/group": group_name}  # labels KubeRay puts on worker pods
        worker_start: dict[str, str] = {"num-gpus": str(workers.resources.gpus)} if workers.resources.gpus else {}
        head_container: dict[str, Any] = {
            "name": "ray-head",
            "image": workload.head.image,
            "ports": [
                {"name": "gcs", "containerPort": 6379, "protocol": "TCP"},
                {"name": "dashboard", "containerPort": 8265, "protocol": "TCP"},
                {"name": "client", "containerPort": 10001, "protocol": "TCP"},
            ],
            "resources": container_resources(workload.head.resources, requests_equal_limits=True),
        }
        worker_container = {"name": "ray-worker", "image": workers.image, "resources": container_resources(workers.resources, requests_equal_limits=True, gpu_resource=worker_capacity.gpu_resource)}
        head_pod: dict[str, Any] = {"priorityClassName": priority_class, **placement(head_pool), "containers": [head_container]}
        worker_pod: dict[str, Any] = {
            "priorityClassName": priority_class,
            **placement(worker_pool),
            "topologySpreadConstraints": zone_spread(worker_selector, zones=zones, hard=False),
            "containers": [worker_container],
        }
        # Ray's object store lives in /dev/shm (30 % of memory is Ray's default store size).
        shared_memory(head_container, head_pod, workload.head.resources.limits[1], share=RAY_OBJECT_STORE_SHARE)
        shared_memory(worker_container, worker_pod, workers.resources.limits[1], share=RAY_OBJECT_STORE_SHARE)
        if queue:
            for pod in (head_pod, worker_pod):
                pod["schedulingGates"] = [{"name": ELASTIC_JOB_GATE}]
        # Pod Security restricted; Ray writes its sessions, logs and spilled objects under /tmp.
        # Only the head's autoscaler sidecar calls the API (to scale the workers), so only the head has a token.
        secure(head_pod, workload.security, service_account_token=True)
        secure(worker_pod, workload.security)
        spec: dict[str, Any] = {
            "rayVersion": workload.ray_version,
            "enableInTreeAutoscaling": True,
            "autoscalerOptions": {
                "upscalingMode": "Default", "idleTimeoutSeconds": idle_timeout_seconds, "resources": AUTOSCALER_RESOURCES,
                # The sidecar KubeRay adds to the head: as restricted as the head, with its writable paths.
                "imagePullPolicy": "Always", "securityContext": container_security_context(workload.security),
                **({"volumeMounts": writable_mounts(workload.security)} if workload.security.writable_paths else {}),
            },
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/component": "ray-head", "app.kubernetes.io/part-of": PART_OF}},
                    "spec": head_pod,
                },
            },
            "workerGroupSpecs": [
                {
                    "groupName": group_name,
                    "minReplicas": workers.min_replicas,
                    "maxReplicas": workers.max_replicas,
                    "rayStartParams": worker_start,
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/component": "ray-worker", "app.kubernetes.io/part-of": PART_OF}},
                        "spec": worker_pod,
                    },
                }
            ],
        }
        object_labels = labels(name, "ray-cluster")
        metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": object_labels | ({QUEUE_LABEL: queue} if queue else {})}
        annotations = {**({ELASTIC_JOB_ANNOTATION: "true"} if queue else {}), **spot_metadata(worker_pool).get("annotations", {})}
        if annotations:
            metadata["annotations"] = annotations
        cluster = ApiObject(self, "cluster", api_version=RAY_API_VERSION, kind="RayCluster", metadata=metadata)
        cluster.add_json_patch(JsonPatch.add("/spec", spec))
        if workers.max_replicas > 1:
            # One worker below the group's minimum may be evicted at a time (an integer minAvailable:
            # a RayCluster has no scale subresource).
            add_disruption_budget(self, "workers-pdb", name=f"{name}-{group_name}", namespace=namespace, selector=worker_selector,
                                  object_labels=object_labels, min_available=max(workers.min_replicas - 1, 0))
