"""The platform's cdk8s constructs: a snapshot of what each builds, and the error of bad props.

Snapshots live in tests/snapshots/test_constructs_platform/; refresh them with
`pytest --snapshot-update` and review the diff.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cdk8s
import pytest
import yaml

from aiops.model.allocatable import MIB
from aiops.model.capacity import NodeCapacity, node_capacity
from aiops.model.node_overhead import Resources
from aiops.model.queues import FlavorQuota
from aiops_constructs.k8s.autoscaled_deployment import AutoscaledDeployment
from aiops_constructs.k8s.cluster_autoscaler import ClusterAutoscaler
from aiops_constructs.k8s.cluster_queues import ClusterQueues, QueueProps
from aiops_constructs.k8s.dask_cluster import DaskCluster
from aiops_constructs.k8s.gpu_operator import GpuOperator
from aiops_constructs.k8s.helm_release import ChartSource, HelmChartRelease
from aiops_constructs.k8s.priority_classes import PLATFORM_PRIORITY_CLASSES, PriorityClasses, PriorityClassProps
from aiops_constructs.k8s.prometheus_adapter import GpuMetricsAdapter
from aiops_constructs.k8s.prometheus_stack import PrometheusStack
from aiops_constructs.k8s.ray_cluster import RayCluster
from aiops_constructs.k8s.team_namespaces import TeamNamespaces, TeamProps
from constructs_fixtures import environment_with_workloads, render as _render, construct_error as _error

ENV = environment_with_workloads()
GPU_POOL, CPU_POOL = ENV.pool("gpu"), ENV.pool("cpu")
V100 = NodeCapacity(vcpu=8, memory_gib=node_capacity("aws", GPU_POOL).memory_gib, gpus=1)


# --- PriorityClasses -----------------------------------------------------------------------


def test_priority_classes_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: PriorityClasses(c, "p")), "priority_classes.json")


def test_priority_classes_refuse_equal_values():
    classes = (*PLATFORM_PRIORITY_CLASSES, PriorityClassProps("aiops-other", 10_000, "same as training"))
    assert _error(lambda c: PriorityClasses(c, "p", classes=classes)) == (
        "PriorityClasses: value 10000 is given twice; equal priorities would not order anything"
    )


# --- TeamNamespaces ------------------------------------------------------------------------


def test_team_namespaces_snapshot(snapshot):
    teams = [TeamProps(t.name, tuple(t.queues)) for t in ENV.workloads.teams]
    snapshot.assert_match(_render(lambda c: TeamNamespaces(c, "t", teams=teams)), "team_namespaces.json")


def test_team_namespaces_refuse_a_bad_namespace_name():
    assert _error(lambda c: TeamNamespaces(c, "t", teams=[TeamProps("Team_A")])) == (
        "TeamNamespaces: team name 'Team_A' is not a valid namespace name"
    )


# --- ClusterQueues -------------------------------------------------------------------------


def _queues():
    # Quotas as aiops.model.queues computes them; the construct writes them out as quantities.
    return [
        QueueProps("gpu-jobs", (FlavorQuota("gpu", Resources(74_400, 600 * 1024 * MIB, 10)), FlavorQuota("cpu", Resources(2000, 8 * 1024 * MIB))), ("team-a",)),
        QueueProps("cpu-jobs", (FlavorQuota("cpu", Resources(736_000, 1_291_918 * MIB)),), ("team-b", "team-a")),
    ]


def test_cluster_queues_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: ClusterQueues(c, "q", queues=_queues(), cohort="env")), "cluster_queues.json")


def test_cluster_queues_are_one_cohort_that_reclaims_lent_quota():
    chart = cdk8s.Chart(cdk8s.App(), "c")
    ClusterQueues(chart, "q", queues=_queues(), cohort="env")
    specs = {o["metadata"]["name"]: o["spec"] for o in chart.to_json()}
    assert {name: (spec["cohortName"], spec["preemption"]["reclaimWithinCohort"]) for name, spec in specs.items()} == {
        "gpu-jobs": ("env", "Any"), "cpu-jobs": ("env", "Any"),
    }
    # Two queues share the cpu pool: gpu-jobs holds 2 CPU / 8Gi of it (a Ray head), cpu-jobs the rest.
    gpu_flavors = specs["gpu-jobs"]["resourceGroups"][0]["flavors"]
    assert [(f["name"], [r["nominalQuota"] for r in f["resources"]]) for f in gpu_flavors] == [
        ("gpu", ["74400m", "614400Mi", "10"]), ("cpu", ["2", "8192Mi", "0"]),
    ]
    assert specs["cpu-jobs"]["resourceGroups"][0] == {
        "coveredResources": ["cpu", "memory"],
        "flavors": [{"name": "cpu", "resources": [{"name": "cpu", "nominalQuota": "736"}, {"name": "memory", "nominalQuota": "1291918Mi"}]}],
    }


def test_cluster_queues_refuse_a_flavor_listed_twice():
    queues = _queues()
    queues[1] = dataclasses.replace(queues[1], flavors=queues[1].flavors * 2)
    assert _error(lambda c: ClusterQueues(c, "q", queues=queues, cohort="env")) == (
        "ClusterQueues: flavor 'cpu' is listed twice in queue 'cpu-jobs'"
    )


def test_cluster_queues_refuse_a_flavor_without_room():
    queues = _queues()
    queues[1] = dataclasses.replace(queues[1], flavors=(FlavorQuota("cpu", Resources(-500, 4 * 1024 * MIB)),))
    assert _error(lambda c: ClusterQueues(c, "q", queues=queues, cohort="env")) == (
        "ClusterQueues: flavor 'cpu' of queue 'cpu-jobs' has no CPU (-500m CPU, 4096Mi)"
    )


def test_cluster_queues_refuse_an_unknown_queueing_strategy():
    assert _error(lambda c: ClusterQueues(c, "q", queues=_queues(), cohort="env", queueing_strategy="FIFO")) == (
        "ClusterQueues: queueing_strategy 'FIFO' is not BestEffortFIFO or StrictFIFO"
    )


def test_cluster_queues_refuse_a_bad_cohort_name():
    assert _error(lambda c: ClusterQueues(c, "q", queues=_queues(), cohort="Env_1")) == (
        "ClusterQueues: cohort 'Env_1' is not a valid Kubernetes name"
    )


# --- AutoscaledDeployment ------------------------------------------------------------------


def _deployment(c, **changes):
    props = dict(
        workload=ENV.workloads.inference, component="inference", pool=GPU_POOL, pool_capacity=V100,
        priority_class="aiops-inference", zones=2, hard_zone_spread=True,
    )
    return AutoscaledDeployment(c, "d", **(props | changes))


def test_autoscaled_deployment_snapshot(snapshot):
    snapshot.assert_match(_render(_deployment), "inference.json")


def test_autoscaled_deployment_training_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: _deployment(c, workload=ENV.workloads.training, component="training", hard_zone_spread=False)), "training.json")


def test_autoscaled_deployment_refuses_gpus_on_a_pool_without_any():
    assert _error(lambda c: _deployment(c, pool_capacity=NodeCapacity(16, V100.memory_gib, 0))) == (
        "AutoscaledDeployment 'server': resources.gpus is 1 but pool 'gpu' has no GPUs"
    )


def test_autoscaled_deployment_refuses_gpu_scaling_without_gpus():
    workload = ENV.workloads.training.model_copy(update={"resources": ENV.workloads.training.resources.model_copy(update={"gpus": 0})})
    assert _error(lambda c: _deployment(c, workload=workload)) == (
        "AutoscaledDeployment 'trainer': autoscaling.gpu_utilization needs pods that hold GPUs, but resources.gpus is 0"
    )


def test_autoscaled_deployment_refuses_a_metric_prometheus_could_not_name():
    assert _error(lambda c: _deployment(c, gpu_metric="gpu-util")) == (
        "AutoscaledDeployment 'server': gpu_metric 'gpu-util' is not a Prometheus metric name"
    )


# --- RayCluster ----------------------------------------------------------------------------


def _ray(c, **changes):
    props = dict(workload=ENV.workloads.ray, head_pool=CPU_POOL, worker_pool=GPU_POOL, worker_capacity=V100, priority_class="aiops-training", zones=2)
    return RayCluster(c, "r", **(props | changes))


def test_ray_cluster_snapshot(snapshot):
    snapshot.assert_match(_render(_ray), "ray_cluster.json")


def _objects(build) -> list[dict]:
    chart = cdk8s.Chart(cdk8s.App(), "c")
    build(chart)
    return chart.to_json()


def test_a_queued_ray_cluster_names_its_queue_and_is_an_elastic_job():
    # Kueue 0.19.2 refuses an autoscaled RayCluster with a queue name unless it is an elastic job.
    cluster = next(o for o in _objects(lambda c: _ray(c, queue="training")) if o["kind"] == "RayCluster")
    assert cluster["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "training"
    assert cluster["metadata"]["annotations"] == {"kueue.x-k8s.io/elastic-job": "true"}
    # Kueue's validating webhook wants its gate in every template on every update, not only on create.
    templates = [cluster["spec"]["headGroupSpec"]["template"], *(g["template"] for g in cluster["spec"]["workerGroupSpecs"])]
    assert [t["spec"]["schedulingGates"] for t in templates] == [[{"name": "kueue.x-k8s.io/elastic-job"}]] * 2
    unqueued = next(o for o in _objects(_ray) if o["kind"] == "RayCluster")
    assert "kueue.x-k8s.io/queue-name" not in unqueued["metadata"]["labels"] and "annotations" not in unqueued["metadata"]
    assert "schedulingGates" not in unqueued["spec"]["headGroupSpec"]["template"]["spec"]


def test_ray_cluster_refuses_a_bad_queue_name():
    assert _error(lambda c: _ray(c, queue="Training")) == "RayCluster 'ray': queue 'Training' is not a valid LocalQueue name"


def test_a_queued_deployment_labels_the_deployment_and_its_pods():
    build = lambda c: _deployment(c, workload=ENV.workloads.training, component="training", hard_zone_spread=False, queue="training")  # noqa: E731
    deployment = next(o for o in _objects(build) if o["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "training"
    assert deployment["spec"]["template"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "training"
    assert "kueue.x-k8s.io/queue-name" not in deployment["spec"]["selector"]["matchLabels"]


def test_autoscaled_deployment_refuses_a_bad_queue_name():
    assert _error(lambda c: _deployment(c, queue="q_1")) == "AutoscaledDeployment 'server': queue 'q_1' is not a valid LocalQueue name"


def test_only_the_namespaces_of_teams_with_queues_are_kueue_managed():
    objects = _objects(lambda c: TeamNamespaces(c, "t", teams=[TeamProps("jobs", ("batch",)), TeamProps("serving")]))
    labels = {o["metadata"]["name"]: {k: v for k, v in o["metadata"]["labels"].items() if k.startswith("aiops.example/")}
              for o in objects if o["kind"] == "Namespace"}  # the Pod Security labels: test_constructs_security.py
    assert labels == {
        "jobs": {"aiops.example/team": "jobs", "aiops.example/kueue-managed": "true"},
        "serving": {"aiops.example/team": "serving"},
    }


def test_ray_cluster_refuses_a_head_with_a_gpu():
    ray = ENV.workloads.ray
    head = ray.head.model_construct(**(dict(ray.head) | {"resources": ray.head.resources.model_copy(update={"gpus": 1})}))
    workload = ray.model_construct(**(dict(ray) | {"head": head}))  # past the model's own check
    assert _error(lambda c: _ray(c, workload=workload)) == (
        "RayCluster 'ray': head.resources.gpus is 1; the head takes no GPU (it runs no tasks)"
    )


def test_ray_cluster_refuses_pools_other_than_the_workloads():
    assert _error(lambda c: _ray(c, head_pool=GPU_POOL)) == (
        "RayCluster 'ray': the workload names pools 'cpu' and 'gpu' but head_pool and worker_pool are 'gpu' and 'gpu'"
    )


# --- DaskCluster ---------------------------------------------------------------------------


def _dask(c, **changes):
    props = dict(workload=ENV.workloads.dask, pool=CPU_POOL, priority_class="aiops-batch", zones=2)
    return DaskCluster(c, "k", **(props | changes))


def test_dask_cluster_snapshot(snapshot):
    snapshot.assert_match(_render(_dask), "dask_cluster.json")


def test_dask_cluster_refuses_a_memory_limit_above_the_containers():
    dask = ENV.workloads.dask
    workers = dask.workers.model_construct(**(dict(dask.workers) | {"dask_memory_limit": "9GB"}))
    workload = dask.model_construct(**(dict(dask) | {"workers": workers}))
    assert _error(lambda c: _dask(c, workload=workload)) == (
        "DaskCluster 'dask': workers.dask_memory_limit (9GB) must be below the container memory limit (8Gi)"
    )


# --- HelmChartRelease and the charts -------------------------------------------------------

PODINFO = ChartSource("https://stefanprodan.github.io/podinfo", "podinfo", "6.9.0")


def test_helm_chart_release_snapshot(snapshot):
    snapshot.assert_match(
        _render(lambda c: HelmChartRelease(c, "h", release="podinfo", namespace="podinfo", source=PODINFO, values={"replicaCount": 2}, depends_on=(("monitoring", "kube-prometheus-stack"),))),
        "helm_repository.json",
    )


def test_helm_chart_release_from_an_oci_chart_snapshot(snapshot):
    source = ChartSource("oci://registry.k8s.io/kueue/charts/kueue", "kueue", "0.19.2")
    snapshot.assert_match(_render(lambda c: HelmChartRelease(c, "h", release="kueue", namespace="kueue-system", source=source)), "oci.json")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"source": ChartSource("https://x.example", "x", ">=1.0.0")}, "HelmChartRelease 'podinfo': chart version '>=1.0.0' is not an exact version; pin one, like 1.7.0"),
        ({"source": ChartSource("http://x.example", "x", "1.0.0")}, "HelmChartRelease 'podinfo': chart url 'http://x.example' must start with https:// (a Helm repository) or oci:// (an OCI chart)"),
        ({"namespace": "Pod_Info"}, "HelmChartRelease 'podinfo': namespace 'Pod_Info' is not a valid namespace name"),
        ({"timeout": "ten minutes"}, "HelmChartRelease 'podinfo': timeout 'ten minutes' is not a Go duration like 10m or 1h"),
    ],
)
def test_helm_chart_release_refuses_bad_props(changes, expected):
    props = dict(release="podinfo", namespace="podinfo", source=PODINFO) | changes
    assert _error(lambda c: HelmChartRelease(c, "h", **props)) == expected


def test_gpu_operator_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: GpuOperator(c, "g", monitoring=("monitoring", "kube-prometheus-stack"))), "gpu_operator.json")


def test_gpu_operator_refuses_a_bad_monitoring_reference():
    assert _error(lambda c: GpuOperator(c, "g", monitoring=("monitoring",))) == (
        "HelmChartRelease 'gpu-operator': depends_on entry ('monitoring',) is not a (namespace, release) pair"
    )


def test_prometheus_stack_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: PrometheusStack(c, "p")), "prometheus_stack.json")


def test_prometheus_stack_refuses_a_bad_retention():
    assert _error(lambda c: PrometheusStack(c, "p", retention="two weeks")) == (
        "PrometheusStack: retention 'two weeks' is not a Prometheus duration like 15d"
    )


def test_gpu_metrics_adapter_snapshot(snapshot):
    build = lambda c: GpuMetricsAdapter(c, "a", prometheus_url="http://kube-prometheus-stack-prometheus.monitoring.svc", prometheus_release=("monitoring", "kube-prometheus-stack"))  # noqa: E731
    snapshot.assert_match(_render(build), "prometheus_adapter.json")


def test_gpu_metrics_adapter_refuses_a_bad_metric_name():
    assert _error(lambda c: GpuMetricsAdapter(c, "a", prometheus_url="http://p", prometheus_release=("m", "p"), metrics=("gpu utilization",))) == (
        "GpuMetricsAdapter: metric 'gpu utilization' is not a Prometheus metric name"
    )


def test_cluster_autoscaler_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: ClusterAutoscaler(c, "ca", cluster_name="unit", region="us-east-1", kubernetes_version="1.33")), "cluster_autoscaler.json")


def test_cluster_autoscaler_refuses_a_kubernetes_version_without_a_pinned_release():
    assert _error(lambda c: ClusterAutoscaler(c, "ca", cluster_name="unit", region="us-east-1", kubernetes_version="1.37")) == (
        "ClusterAutoscaler: no cluster-autoscaler release is pinned for Kubernetes 1.37 (pinned: 1.33, 1.34, 1.35, 1.36); "
        "its minor must match the cluster's, add one to CLUSTER_AUTOSCALER_IMAGE_TAGS"
    )


def test_node_pool_flavors_refuse_more_labels_than_a_flavor_takes():
    from aiops_constructs.k8s.node_pool_flavors import NodePoolFlavors
    from constructs_fixtures import BASE, environment

    labels = {f"label-{i}": "x" for i in range(9)}
    pools = [dict(BASE["nodePools"][0], labels=labels), BASE["nodePools"][1]]
    assert _error(lambda c: NodePoolFlavors(c, "f", environment=environment(nodePools=pools))) == (
        "unit: node pool 'gpu' has 9 labels and 1 taints; a ResourceFlavor takes at most 8 of each"
    )


def test_kueue_refuses_a_single_replica():
    from aiops_constructs.k8s.kueue import Kueue

    assert _error(lambda c: Kueue(c, "kueue", replicas=1)) == (
        "Kueue: replicas must be at least 2 (its webhooks fail closed; one replica is a cluster-wide point of failure), got 1"
    )


def test_kueue_manages_only_the_namespaces_of_teams_that_queue_and_its_webhooks_follow():
    """The chart templates its webhooks' namespaceSelector from managedJobsNamespaceSelector;
    rendered with Helm, the simulation runs Kueue with this configuration (tests/test_simulate.py)."""
    import yaml

    from aiops_constructs.k8s.kueue import Kueue
    from aiops_constructs.k8s.team_namespaces import KUEUE_MANAGED_LABEL

    chart = cdk8s.Chart(cdk8s.App(), "c")
    Kueue(chart, "kueue")
    release = next(o for o in chart.to_json() if o["kind"] == "HelmRelease")
    values = release["spec"]["values"]
    assert values["controllerManager"] == {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}}
    configuration = yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])
    assert configuration["managedJobsNamespaceSelector"] == {"matchLabels": {KUEUE_MANAGED_LABEL: "true"}}
    assert configuration["leaderElection"]["leaderElect"] is True


@pytest.mark.parametrize(("environment", "runtime_class"), [("aws-primary", "nvidia"), ("azure-dr", "nvidia-container-runtime")])
def test_gpu_operator_runs_with_the_runtime_of_each_clouds_gpu_image(environment, runtime_class):
    # AKS's GPU image names its preinstalled toolkit's handler nvidia-container-runtime (NVIDIA's
    # AKS guide); with the chart's default `nvidia` no operand starts and no GPU is advertised.
    path = Path(__file__).parent.parent / "dist" / environment / "infrastructure" / "controllers" / "gpu-operator.yaml"
    release = next(d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "HelmRelease")
    values = release["spec"]["values"]
    assert values["operator"]["runtimeClass"] == runtime_class
    assert values["driver"] == {"enabled": False} and values["toolkit"] == {"enabled": False}


def test_gpu_operator_refuses_a_bad_runtime_class():
    assert _error(lambda c: GpuOperator(c, "g", runtime_class="nvidia runtime")) == (
        "GpuOperator: runtime_class 'nvidia runtime' is not a RuntimeClass handler name like nvidia"
    )
