"""prometheus-adapter: GPU utilization from Prometheus as a custom metric that HPAs can use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from constructs import Construct

from aiops_constructs.k8s import charts
from aiops_constructs.k8s.autoscaled_deployment import GPU_UTILIZATION_METRIC
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def pod_metric_rule(metric: str) -> dict[str, Any]:
    """An adapter rule that serves a per-pod series as the Pods metric of the same name.

    The series must carry `namespace` and `pod` labels of the pod it measures (DCGM exporter
    does, with honorLabels); the HPA asks for the average over its pods.
    """
    return {
        "seriesQuery": f'{metric}{{namespace!="",pod!=""}}',
        "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
        "name": {"matches": f"^{metric}$", "as": metric},
        "metricsQuery": "avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    }


class GpuMetricsAdapter(Construct):
    """The prometheus-adapter HelmRelease, serving exactly `metrics` through the custom metrics
    API (custom.metrics.k8s.io). Its default rules are off: the resource metrics API stays with
    metrics-server, and no HPA can come to depend on a metric nobody meant to serve."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prometheus_url: str,
        prometheus_release: tuple[str, str],
        namespace: str = "monitoring",
        prometheus_port: int = 9090,
        metrics: Sequence[str] = (GPU_UTILIZATION_METRIC,),
        source: ChartSource = charts.PROMETHEUS_ADAPTER,
    ) -> None:
        super().__init__(scope, id)
        if not metrics:
            raise ValueError("GpuMetricsAdapter: metrics is empty; name at least one Prometheus series to serve")
        for metric in metrics:
            if not _METRIC_NAME.match(metric):
                raise ValueError(f"GpuMetricsAdapter: metric '{metric}' is not a Prometheus metric name")
        if not prometheus_url.startswith(("http://", "https://")):
            raise ValueError(f"GpuMetricsAdapter: prometheus_url '{prometheus_url}' must be an http:// or https:// URL")
        self.served_metrics = tuple(metrics)
        HelmChartRelease(
            self,
            "release",
            release="prometheus-adapter",
            namespace=namespace,
            source=source,
            values={
                "prometheus": {"url": prometheus_url, "port": prometheus_port},
                "rules": {"default": False, "custom": [pod_metric_rule(metric) for metric in metrics]},
                # The GPU HPAs read their metric through this adapter: one replica would stop
                # them during every drain or restart of its node.
                "replicas": 2,
                "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
            },
            depends_on=(prometheus_release,),
            create_namespace=namespace != prometheus_release[0],
        )
