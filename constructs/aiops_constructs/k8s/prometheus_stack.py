"""kube-prometheus-stack: Prometheus and the Prometheus operator, which the GPU metrics need."""

from __future__ import annotations

import re
from typing import Any

from cdk8s import ApiObject
from constructs import Construct

from aiops.model.node_overhead import NODE_EXPORTER
from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.k8s.security_context import pod_security_labels

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
    - Node exporter runs in a namespace of its own (`node_exporter_namespace`), labelled
      privileged: it reads the node's /proc, /sys and root filesystem and shares the node's
      network and process namespaces, which is its job. The release's namespace enforces
      baseline and warns and audits at restricted: the chart's own pods meet restricted (the
      simulation admits them), but the Prometheus and Alertmanager pods are made by the
      Prometheus operator, which the simulation does not run, so restricted is not proven there.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "monitoring",
        node_exporter_namespace: str = "node-exporter",
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
        if node_exporter_namespace == namespace:
            raise ValueError(f"PrometheusStack: node_exporter_namespace is the release's namespace '{namespace}'; node exporter needs a privileged namespace of its own")
        self.namespace = namespace
        values: dict[str, Any] = {"fullnameOverride": RELEASE}
        if managed_control_plane:
            values |= {"kubeControllerManager": {"enabled": False}, "kubeScheduler": {"enabled": False}, "kubeEtcd": {"enabled": False}}
        exporter = NODE_EXPORTER.quantities()
        values["prometheus-node-exporter"] = {
            "namespaceOverride": node_exporter_namespace,
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
        ApiObject(self, "node-exporter-namespace", api_version="v1", kind="Namespace",
                  metadata={"name": node_exporter_namespace, "labels": pod_security_labels("privileged")})
        HelmChartRelease(self, "release", release=RELEASE, namespace=namespace, source=source, values=values,
                         namespace_labels=pod_security_labels("baseline", report="restricted"))

    @property
    def release(self) -> tuple[str, str]:
        """(namespace, name) of the HelmRelease, for other releases' dependsOn."""
        return (self.namespace, RELEASE)

    @property
    def prometheus_url(self) -> str:
        return f"http://{RELEASE}-prometheus.{self.namespace}.svc"
