"""kube-prometheus-stack: Prometheus and the Prometheus operator, which the GPU metrics need."""

from __future__ import annotations

import re
from typing import Any

from constructs import Construct

from aiops.model.node_overhead import NODE_EXPORTER
from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease

RELEASE = "kube-prometheus-stack"
_RETENTION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


class PrometheusStack(Construct):
    """The kube-prometheus-stack HelmRelease.

    - `fullnameOverride` fixes the object names, so `prometheus_url` is known in advance and
      prometheus-adapter can point at it.
    - ServiceMonitors and PodMonitors of every release are scraped (not only this chart's),
      which is how the DCGM exporter's GPU series get in.
    - node-exporter, the one DaemonSet on every node, requests what the queues' quotas keep
      free for it on each node (`aiops.model.node_overhead.NODE_EXPORTER`).
    - Prometheus keeps its data on a persistent volume of `storage_gib` from the cluster's
      default StorageClass (on EKS, the gp3 class of storage_class.py), with `retentionSize` at
      90 % of it so that a full disk drops the oldest data instead of stopping Prometheus.
    - On managed Kubernetes (`managed_control_plane`) the cloud runs etcd, the scheduler and
      the controller manager out of reach; scraping them would only raise alerts forever.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "monitoring",
        retention: str = "15d",
        storage_gib: int = 100,
        managed_control_plane: bool = True,
        source: ChartSource = charts.KUBE_PROMETHEUS_STACK,
    ) -> None:
        super().__init__(scope, id)
        if not _RETENTION.match(retention):
            raise ValueError(f"PrometheusStack: retention '{retention}' is not a Prometheus duration like 15d")
        if storage_gib < 10:
            raise ValueError(f"PrometheusStack: storage_gib must be at least 10, got {storage_gib}")
        self.namespace = namespace
        values: dict[str, Any] = {"fullnameOverride": RELEASE}
        if managed_control_plane:
            values |= {"kubeControllerManager": {"enabled": False}, "kubeScheduler": {"enabled": False}, "kubeEtcd": {"enabled": False}}
        exporter = NODE_EXPORTER.quantities()
        values["prometheus-node-exporter"] = {
            "resources": {"requests": {"cpu": exporter["cpu"], "memory": exporter["memory"]}, "limits": {"memory": "256Mi"}}
        }
        values["prometheus"] = {
            "prometheusSpec": {
                "retention": retention,
                "retentionSize": f"{storage_gib * 9 // 10}GB",
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{storage_gib}Gi"}}}
                    }
                },
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
            }
        }
        HelmChartRelease(self, "release", release=RELEASE, namespace=namespace, source=source, values=values)

    @property
    def release(self) -> tuple[str, str]:
        """(namespace, name) of the HelmRelease, for other releases' dependsOn."""
        return (self.namespace, RELEASE)

    @property
    def prometheus_url(self) -> str:
        return f"http://{RELEASE}-prometheus.{self.namespace}.svc"
