"""A Deployment on one node pool, scaled by an HPA on GPU and CPU utilization."""

from __future__ import annotations

import re
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model import NodePool
from aiops.model.capacity import NodeCapacity
from aiops.model.workloads import DeploymentWorkload
from aiops_constructs.k8s.pods import QUEUE_LABEL, add_disruption_budget, container_resources, labels, placement, shared_memory, spot_metadata, zone_spread
from aiops_constructs.k8s.security_context import secure

# DCGM's GPU utilization (percent, 0-100) per GPU, labelled with the pod that holds the GPU;
# prometheus-adapter serves it as a Pods metric of that name (see prometheus_adapter.py).
GPU_UTILIZATION_METRIC = "DCGM_FI_DEV_GPU_UTIL"
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_QUEUE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class AutoscaledDeployment(Construct):
    """A `Deployment`, its `HorizontalPodAutoscaler` (autoscaling/v2), a `PodDisruptionBudget`
    when it can run more than one pod, and a `Service` when it has a port.

    - Placement comes from `pool`: its labels are the node selector, its taints the tolerations.
    - GPUs: `nvidia.com/gpu` request equals limit.
    - GPU utilization is a `Pods` metric (DCGM through prometheus-adapter): the resource metrics
      API (metrics-server) serves only CPU and memory, so a `Resource` metric named
      `nvidia.com/gpu` would be accepted by the API server and then never work.
    - The Deployment has no `replicas`: the HPA owns that field, and a value in git would make
      Flux reset the HPA's choice on every reconciliation.
    - Pods spread over the zones; `hard_zone_spread` (for serving) makes it a requirement.
    - `shared_memory_share`: an in-memory /dev/shm of that percent of the memory limit (training:
      PyTorch data-loader workers pass batches through shared memory; the default is 64 MiB).
    - `queue`: the LocalQueue its pods go through (Kueue's `deployment` integration admits each
      pod, and holds the ones over quota behind a scheduling gate). Serving passes none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workload: DeploymentWorkload,
        component: str,
        pool: NodePool,
        pool_capacity: NodeCapacity,
        priority_class: str,
        zones: int,
        hard_zone_spread: bool = False,
        gpu_metric: str = GPU_UTILIZATION_METRIC,
        shared_memory_share: int | None = None,
        queue: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        who = f"AutoscaledDeployment '{workload.name}'"
        if workload.pool != pool.name:
            raise ValueError(f"{who}: workload.pool is '{workload.pool}' but the pool given is '{pool.name}'")
        if pool.spot and (component == "inference" or workload.interruptible is False):
            raise ValueError(f"{who}: pool '{pool.name}' is spot but the {component} pods cannot be interrupted")
        if workload.resources.gpus and not pool_capacity.gpus:
            raise ValueError(f"{who}: resources.gpus is {workload.resources.gpus} but pool '{pool.name}' has no GPUs")
        if workload.autoscaling.gpu_utilization is not None and not workload.resources.gpus:
            raise ValueError(f"{who}: autoscaling.gpu_utilization needs pods that hold GPUs, but resources.gpus is 0")
        if not _METRIC_NAME.match(gpu_metric):
            raise ValueError(f"{who}: gpu_metric '{gpu_metric}' is not a Prometheus metric name")
        if zones < 1:
            raise ValueError(f"{who}: zones must be at least 1, got {zones}")
        if queue is not None and not _QUEUE_NAME.match(queue):
            raise ValueError(f"{who}: queue '{queue}' is not a valid LocalQueue name")
        if shared_memory_share is not None and not 0 < shared_memory_share < 100:
            raise ValueError(f"{who}: shared_memory_share is a percent of the memory limit between 1 and 99, got {shared_memory_share}")

        name, namespace = workload.name, workload.namespace
        object_labels = labels(name, component) | ({QUEUE_LABEL: queue} if queue else {})
        selector = {"app.kubernetes.io/name": name}
        container: dict[str, Any] = {"name": name, "image": workload.image}
        if workload.args:
            container["args"] = list(workload.args)
        if workload.port is not None:
            container["ports"] = [{"name": "http", "containerPort": workload.port, "protocol": "TCP"}]
        if workload.readiness_path is not None:
            container["readinessProbe"] = {"httpGet": {"path": workload.readiness_path, "port": "http"}, "periodSeconds": 10}
        container["resources"] = container_resources(workload.resources, gpu_resource=pool_capacity.gpu_resource)
        pod_spec: dict[str, Any] = {
            "priorityClassName": priority_class,
            **placement(pool),
            "topologySpreadConstraints": zone_spread(selector, zones=zones, hard=hard_zone_spread, match_label_keys=("pod-template-hash",)),
            "containers": [container],
        }
        if shared_memory_share is not None:
            shared_memory(container, pod_spec, workload.resources.limits[1], share=shared_memory_share)
        secure(pod_spec, workload.security)  # Pod Security restricted; no API token (neither workload calls the API)

        deployment = ApiObject(
            self, "deployment", api_version="apps/v1", kind="Deployment", metadata={"name": name, "namespace": namespace, "labels": object_labels, **spot_metadata(pool)}
        )
        deployment.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "selector": {"matchLabels": selector},
                    # Never below the HPA's count during a rollout; one extra pod at a time.
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                    "template": {"metadata": {"labels": object_labels}, "spec": pod_spec},
                },
            )
        )

        if workload.port is not None:
            service = ApiObject(self, "service", api_version="v1", kind="Service", metadata={"name": name, "namespace": namespace, "labels": object_labels})
            service.add_json_patch(
                JsonPatch.add(
                    "/spec",
                    {"type": "ClusterIP", "selector": selector, "ports": [{"name": "http", "port": workload.port, "targetPort": "http", "protocol": "TCP"}]},
                )
            )

        scaling = workload.autoscaling
        metrics: list[dict[str, Any]] = []
        if scaling.gpu_utilization is not None:
            metrics.append(
                {
                    "type": "Pods",
                    "pods": {"metric": {"name": gpu_metric}, "target": {"type": "AverageValue", "averageValue": str(scaling.gpu_utilization)}},
                }
            )
        if scaling.cpu_utilization is not None:
            metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": scaling.cpu_utilization}}})
        hpa = ApiObject(
            self, "hpa", api_version="autoscaling/v2", kind="HorizontalPodAutoscaler", metadata={"name": name, "namespace": namespace, "labels": object_labels}
        )
        hpa.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": scaling.min_replicas,
                    "maxReplicas": scaling.max_replicas,
                    "metrics": metrics,
                },
            )
        )
        if scaling.max_replicas > 1:
            add_disruption_budget(self, "pdb", name=name, namespace=namespace, selector=selector, object_labels=object_labels)
