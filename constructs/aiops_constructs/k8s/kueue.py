"""Kueue's controller manager: the HelmRelease, run so that its webhooks cannot stop the cluster."""

from __future__ import annotations

from typing import Any

import yaml
from constructs import Construct

from aiops_constructs.k8s import charts
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.k8s.security_context import pod_security_labels
from aiops_constructs.k8s.team_namespaces import KUEUE_MANAGED_LABEL

# The chart's own controller_manager_config.yaml (kueue 0.19.2 values.yaml,
# managerConfig.controllerManagerConfigYaml), which a value can only replace whole; the
# managedJobsNamespaceSelector below is this construct's one change to it.
_CHART_CONFIGURATION: dict[str, Any] = {
    "apiVersion": "config.kueue.x-k8s.io/v1beta2",
    "kind": "Configuration",
    "health": {"healthProbeBindAddress": ":8081"},
    "metrics": {"bindAddress": ":8443"},
    "webhook": {"port": 9443},
    "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
    "controller": {
        "groupKindConcurrency": {
            "Job.batch": 5, "Pod": 5, "Workload.kueue.x-k8s.io": 10, "LocalQueue.kueue.x-k8s.io": 5,
            "ClusterQueue.kueue.x-k8s.io": 5, "ResourceFlavor.kueue.x-k8s.io": 1,
        }
    },
    "clientConnection": {"qps": 300, "burst": 500},
    "integrations": {
        "frameworks": [
            "batch/job", "kubeflow.org/mpijob", "ray.io/rayjob", "ray.io/rayservice", "ray.io/raycluster", "jobset.x-k8s.io/jobset",
            "workload.codeflare.dev/appwrapper", "trainer.kubeflow.org/trainjob", "pod", "deployment", "statefulset",
            "leaderworkerset.x-k8s.io/leaderworkerset",
        ]
    },
}


class Kueue(Construct):
    """The Kueue HelmRelease (an OCI chart), scoped to the team namespaces and highly available.

    - **Only the namespaces of teams that queue.** Kueue's pod, Deployment and StatefulSet
      webhooks fail closed (`failurePolicy: Fail`); the chart registers them for every
      namespace but kube-system and its own, so with Kueue down no pod could be created
      anywhere, Flux's, Prometheus' and the GPU operator's included. `managedJobsNamespaceSelector`
      (which the chart also uses as the webhooks' namespaceSelector) limits both Kueue and its
      webhooks to the namespaces labelled as Kueue-managed: those of teams with queues. Serving
      namespaces are not among them.
    - **Two replicas and a budget.** Leader election keeps one active controller; both serve
      the webhooks, and `minAvailable: 1` keeps one through a drain.
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str = "kueue-system", replicas: int = 2, source: ChartSource = charts.KUEUE) -> None:
        super().__init__(scope, id)
        if replicas < 2:
            raise ValueError(f"Kueue: replicas must be at least 2 (its webhooks fail closed; one replica is a cluster-wide point of failure), got {replicas}")
        configuration = {**_CHART_CONFIGURATION, "managedJobsNamespaceSelector": {"matchLabels": {KUEUE_MANAGED_LABEL: "true"}}}
        values = {
            "controllerManager": {"replicas": replicas, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
            "managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(configuration, sort_keys=False)},
        }
        # restricted: the chart's controller runs as non-root with every capability dropped (the simulation admits it).
        HelmChartRelease(self, "release", release="kueue", namespace=namespace, source=source, values=values,
                         namespace_labels=pod_security_labels("restricted"))
