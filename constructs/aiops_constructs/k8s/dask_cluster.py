"""A Dask operator DaskCluster and the DaskAutoscaler that sizes it."""

from __future__ import annotations

from decimal import ROUND_FLOOR
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model import NodePool
from aiops.model.quantity import parse_dask_bytes, parse_quantity
from aiops.model.workloads import DaskClusterWorkload
from aiops_constructs.k8s.pods import add_disruption_budget, container_resources, labels, placement, spot_metadata, zone_spread
from aiops_constructs.k8s.security_context import secure

DASK_API_VERSION = "kubernetes.dask.org/v1"
SCHEDULER_PORT, SCHEDULER_DASHBOARD_PORT, WORKER_DASHBOARD_PORT = 8786, 8787, 8788


class DaskCluster(Construct):
    """A `DaskCluster` (`kubernetes.dask.org/v1`), its `DaskAutoscaler`, and a PodDisruptionBudget.

    The worker and scheduler commands are those dask-kubernetes' own `make_cluster_spec`
    writes; workers get `--nthreads` from their CPU request and `--memory-limit` from the
    model, below the container's memory limit so Dask spills before the kernel kills it.
    The DaskAutoscaler scales the operator's `<name>-default` DaskWorkerGroup, not the
    DaskCluster, so the `replicas` committed here is only the starting size and Flux never
    undoes the autoscaler.
    """

    def __init__(self, scope: Construct, id: str, *, workload: DaskClusterWorkload, pool: NodePool, priority_class: str, zones: int,
                 scheduler_pool: NodePool | None = None) -> None:
        super().__init__(scope, id)
        who = f"DaskCluster '{workload.name}'"
        workers = workload.workers
        scheduler_pool = scheduler_pool or pool
        if workload.pool != pool.name:
            raise ValueError(f"{who}: workload.pool is '{workload.pool}' but the pool given is '{pool.name}'")
        if (workload.scheduler.pool or workload.pool) != scheduler_pool.name:
            raise ValueError(f"{who}: the scheduler's pool is '{workload.scheduler.pool or workload.pool}' but the pool given is '{scheduler_pool.name}'")
        if scheduler_pool.spot:
            raise ValueError(f"{who}: scheduler_pool '{scheduler_pool.name}' is spot; the scheduler holds the cluster's state and is never interruptible")
        if not workers.min_replicas <= workers.replicas <= workers.max_replicas:
            raise ValueError(f"{who}: workers.replicas ({workers.replicas}) is outside {workers.min_replicas}..{workers.max_replicas}")
        if parse_dask_bytes(workers.dask_memory_limit) >= parse_quantity(workers.resources.limits[1]):
            raise ValueError(
                f"{who}: workers.dask_memory_limit ({workers.dask_memory_limit}) must be below the container memory limit ({workers.resources.limits[1]})"
            )

        name, namespace = workload.name, workload.namespace
        threads = max(1, int(parse_quantity(workers.resources.cpu).to_integral_value(rounding=ROUND_FLOOR)))
        worker_selector = {"dask.org/cluster-name": name, "dask.org/component": "worker"}  # labels the operator sets
        worker_container = {
            "name": "worker",
            "image": workload.image,
            "args": [
                "dask-worker", "--name", "$(DASK_WORKER_NAME)", "--dashboard", "--dashboard-address", str(WORKER_DASHBOARD_PORT),
                "--nthreads", str(threads), "--memory-limit", workers.dask_memory_limit,
            ],
            "ports": [{"name": "http-dashboard", "containerPort": WORKER_DASHBOARD_PORT, "protocol": "TCP"}],
            "resources": container_resources(workers.resources),
        }
        health = {"httpGet": {"port": "http-dashboard", "path": "/health"}}
        scheduler_container = {
            "name": "scheduler",
            "image": workload.image,
            "args": ["dask-scheduler", "--host", "0.0.0.0"],
            "ports": [
                {"name": "tcp-comm", "containerPort": SCHEDULER_PORT, "protocol": "TCP"},
                {"name": "http-dashboard", "containerPort": SCHEDULER_DASHBOARD_PORT, "protocol": "TCP"},
            ],
            "readinessProbe": {**health, "initialDelaySeconds": 5, "periodSeconds": 10},
            "livenessProbe": {**health, "initialDelaySeconds": 15, "periodSeconds": 20},
            "resources": container_resources(workload.scheduler.resources),
        }
        spec: dict[str, Any] = {
            "worker": {
                "replicas": workers.replicas,
                "spec": {
                    "priorityClassName": priority_class,
                    **placement(pool),
                    "topologySpreadConstraints": zone_spread(worker_selector, zones=zones, hard=False),
                    "containers": [worker_container],
                },
            },
            "scheduler": {
                "spec": {"priorityClassName": priority_class, **placement(scheduler_pool), "containers": [scheduler_container]},
                "service": {
                    "type": "ClusterIP",
                    "selector": {"dask.org/cluster-name": name, "dask.org/component": "scheduler"},
                    "ports": [
                        {"name": "tcp-comm", "protocol": "TCP", "port": SCHEDULER_PORT, "targetPort": "tcp-comm"},
                        {"name": "http-dashboard", "protocol": "TCP", "port": SCHEDULER_DASHBOARD_PORT, "targetPort": "http-dashboard"},
                    ],
                },
            },
        }
        # Pod Security restricted; workers spill to /tmp (Dask's temporary-directory); no API token.
        for part in ("worker", "scheduler"):
            secure(spec[part]["spec"], workload.security)
        object_labels = labels(name, "dask-cluster")
        cluster = ApiObject(self, "cluster", api_version=DASK_API_VERSION, kind="DaskCluster", metadata={"name": name, "namespace": namespace, "labels": object_labels, **spot_metadata(pool)})
        cluster.add_json_patch(JsonPatch.add("/spec", spec))
        autoscaler = ApiObject(
            self, "autoscaler", api_version=DASK_API_VERSION, kind="DaskAutoscaler", metadata={"name": name, "namespace": namespace, "labels": object_labels}
        )
        autoscaler.add_json_patch(JsonPatch.add("/spec", {"cluster": name, "minimum": workers.min_replicas, "maximum": workers.max_replicas}))
        if workers.max_replicas > 1:
            # As for Ray workers: an integer minAvailable, one below the autoscaler's minimum.
            add_disruption_budget(self, "workers-pdb", name=f"{name}-workers", namespace=namespace, selector=worker_selector,
                                  object_labels=object_labels, min_available=max(workers.min_replicas - 1, 0))
