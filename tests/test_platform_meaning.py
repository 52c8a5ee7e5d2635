"""What the generated platform means: placement, GPUs, autoscaling, queues, HA and the Flux order.

These read the real reference synthesis (the session fixture) and check it against the model
and the instance catalog, computed here independently of the constructs.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path, PurePosixPath

import pytest

from aiops.model import load_catalog
from aiops.model.queues import queue_quotas
from conftest import REFERENCE_ENVIRONMENTS, REPO

GPU = "nvidia.com/gpu"


def _objects(reference_documents, environment, kind=None):
    return [doc for _, doc in reference_documents[environment] if kind is None or doc["kind"] == kind]


def _one(reference_documents, environment, kind, name):
    (found,) = [doc for doc in _objects(reference_documents, environment, kind) if doc["metadata"]["name"] == name]
    return found


def _pod_specs(document):
    """(where, pod spec) of every pod template in an object."""
    spec = document.get("spec", {})
    if document["kind"] == "Deployment":
        yield "template", spec["template"]["spec"]
    elif document["kind"] == "RayCluster":
        yield "head", spec["headGroupSpec"]["template"]["spec"]
        for group in spec["workerGroupSpecs"]:
            yield group["groupName"], group["template"]["spec"]
    elif document["kind"] == "DaskCluster":
        yield "scheduler", spec["scheduler"]["spec"]
        yield "worker", spec["worker"]["spec"]


def _all_pod_specs(reference_documents):
    for environment in REFERENCE_ENVIRONMENTS:
        for document in _objects(reference_documents, environment):
            for where, pod in _pod_specs(document):
                yield environment, f"{document['kind']}/{document['metadata']['name']} {where}", pod


def _expected_tolerations(pool):
    return [
        {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect} if t.value else {"key": t.key, "operator": "Exists", "effect": t.effect}
        for t in pool.taints
    ]


# --- Placement -----------------------------------------------------------------------------


def test_training_workers_carry_the_gpu_training_pools_toleration_and_selector(reference_documents, reference_environments):
    pool = reference_environments["aws-primary"].pool("gpu-training")
    pod = _one(reference_documents, "aws-primary", "Deployment", "ml-training-workers")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"workload-type": "ml-training", "gpu-type": "v100"} == pool.labels
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]


def test_every_pod_tolerates_exactly_the_taints_of_the_pool_it_selects(reference_documents, reference_environments):
    """A pod that tolerates a taint its pool lacks could land on another tainted pool; one that
    misses a taint would never schedule. Pools are found by their labels, as the scheduler does."""
    seen = 0
    for environment, where, pod in _all_pod_specs(reference_documents):
        # The scheduler's rule: a node matches when it carries every label of the selector.
        pools = [p for p in reference_environments[environment].node_pools if pod["nodeSelector"].items() <= p.labels.items()]
        assert len(pools) == 1, f"{environment} {where}: nodeSelector {pod['nodeSelector']} selects {[p.name for p in pools]}"
        assert pod.get("tolerations", []) == _expected_tolerations(pools[0]), f"{environment} {where}"
        seen += 1
    assert seen == 9  # aws: 2 Deployments, Ray head + workers, Dask scheduler + workers; azure: 1; gcp: Ray head + workers


# --- Containers ----------------------------------------------------------------------------


def _containers(reference_documents):
    for environment, where, pod in _all_pod_specs(reference_documents):
        for container in pod["containers"]:
            yield environment, f"{where} {container['name']}", container


def test_every_container_has_cpu_and_memory_requests_and_limits(reference_documents):
    for environment, where, container in _containers(reference_documents):
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), f"{environment} {where}"
        assert {"cpu", "memory"} <= resources["limits"].keys(), f"{environment} {where}"


def test_gpu_requests_equal_gpu_limits(reference_documents):
    gpu_containers = 0
    for environment, where, container in _containers(reference_documents):
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        assert requests.get(GPU) == limits.get(GPU), f"{environment} {where}"
        gpu_containers += GPU in limits
    assert gpu_containers == 5  # aws: training, inference, Ray workers; azure: inference; gcp: Ray workers


def _pinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    return bool(digest) or (tag not in ("", "latest"))


def test_every_image_is_pinned(reference_documents):
    images = [(environment, where, c["image"]) for environment, where, c in _containers(reference_documents)]
    assert images and all(_pinned(image) for _, _, image in images), [i for i in images if not _pinned(i[2])]
    # Images set through chart values too (the charts pin the rest with their version).
    autoscaler = _one(reference_documents, "aws-primary", "HelmRelease", "cluster-autoscaler")
    assert autoscaler["spec"]["values"]["image"]["tag"] == "v1.36.1"  # the 1.36 cluster's autoscaler


@pytest.mark.parametrize("image", ["ghcr.io/dask/dask:latest", "ghcr.io/dask/dask", "localhost:5000/dask"])
def test_the_pin_check_itself_refuses_unpinned_images(image):
    assert not _pinned(image)


# --- Autoscaling ---------------------------------------------------------------------------


def _served_pod_metrics(reference_documents, environment) -> set[str]:
    adapters = [d for d in _objects(reference_documents, environment, "HelmRelease") if d["metadata"]["name"] == "prometheus-adapter"]
    served = set()
    for adapter in adapters:
        for rule in adapter["spec"]["values"]["rules"]["custom"]:
            series = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rule["seriesQuery"])[1]
            assert rule["name"] == {"matches": f"^{series}$", "as": series}
            assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}
            served.add(series)
    return served


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_hpa_metrics_are_only_ones_a_metrics_pipeline_serves(reference_documents, environment):
    """Resource metrics come from metrics-server (CPU and memory only); Pods metrics from the
    prometheus-adapter rules of the same environment. Nothing else has a server."""
    served = _served_pod_metrics(reference_documents, environment)
    for hpa in _objects(reference_documents, environment, "HorizontalPodAutoscaler"):
        for metric in hpa["spec"]["metrics"]:
            assert metric["type"] in ("Resource", "Pods"), hpa["metadata"]["name"]
            if metric["type"] == "Resource":
                assert metric["resource"]["name"] in ("cpu", "memory")
            else:
                assert metric["pods"]["metric"]["name"] in served


def test_aws_needs_its_own_metrics_server_and_the_others_do_not(reference_documents):
    names = {env: {d["metadata"]["name"] for d in _objects(reference_documents, env, "HelmRelease")} for env in REFERENCE_ENVIRONMENTS}
    assert "metrics-server" in names["aws-primary"]  # EKS does not install it
    assert "metrics-server" not in names["azure-dr"] | names["gcp-burst"]  # AKS and GKE do


def test_training_hpa_scales_on_gpu_as_a_pods_metric_and_on_cpu(reference_documents):
    hpa = _one(reference_documents, "aws-primary", "HorizontalPodAutoscaler", "ml-training-workers")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ml-training-workers"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 10)
    assert hpa["metrics"] == [
        {"type": "Pods", "pods": {"metric": {"name": "DCGM_FI_DEV_GPU_UTIL"}, "target": {"type": "AverageValue", "averageValue": "80"}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
    ]


def test_prometheus_adapter_reads_the_prometheus_the_stack_installs(reference_documents):
    stack = _one(reference_documents, "aws-primary", "HelmRelease", "kube-prometheus-stack")
    adapter = _one(reference_documents, "aws-primary", "HelmRelease", "prometheus-adapter")
    service = f"{stack['spec']['values']['fullnameOverride']}-prometheus.{stack['metadata']['namespace']}.svc"
    assert adapter["spec"]["values"]["prometheus"] == {"url": f"http://{service}", "port": 9090}
    assert adapter["spec"]["dependsOn"] == [{"name": "kube-prometheus-stack", "namespace": "monitoring"}]
    operator = _one(reference_documents, "aws-primary", "HelmRelease", "gpu-operator")
    # The exporter keeps the namespace/pod labels of the pod that holds the GPU.
    assert operator["spec"]["values"]["dcgmExporter"] == {"serviceMonitor": {"enabled": True, "honorLabels": True}}


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_what_an_autoscaler_owns_is_not_in_git(reference_documents, environment):
    """Deployments under an HPA and Ray worker groups carry no replica count for Flux to reset."""
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in _objects(reference_documents, environment, "HorizontalPodAutoscaler")}
    for deployment in _objects(reference_documents, environment, "Deployment"):
        assert deployment["metadata"]["name"] in scaled
        assert "replicas" not in deployment["spec"]
    for ray in _objects(reference_documents, environment, "RayCluster"):
        assert ray["spec"]["enableInTreeAutoscaling"] is True
        assert all("replicas" not in group for group in ray["spec"]["workerGroupSpecs"])


def test_cluster_autoscaler_discovers_the_eks_node_groups_by_their_cluster(reference_documents, reference_terraform):
    autoscaler = _one(reference_documents, "aws-primary", "HelmRelease", "cluster-autoscaler")["spec"]["values"]
    (cluster,) = reference_terraform["aws-primary"]["resource"]["aws_eks_cluster"].values()
    assert autoscaler["autoDiscovery"] == {
        "clusterName": cluster["name"],
        "tags": ["k8s.io/cluster-autoscaler/enabled", f"k8s.io/cluster-autoscaler/{cluster['name']}"],
    }
    assert (autoscaler["cloudProvider"], autoscaler["awsRegion"]) == ("aws", "us-east-1")


# --- Ray and Dask --------------------------------------------------------------------------


def test_ray_cluster_is_the_designs_on_ray_io_v1(reference_documents):
    ray = _one(reference_documents, "aws-primary", "RayCluster", "aiops-ray-cluster")
    assert ray["apiVersion"] == "ray.io/v1"
    spec = ray["spec"]
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]["resources"]
    # No GPU (see RayCluster's docstring); requests equal limits, which KubeRay reads Ray's resources from.
    assert head == {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"cpu": "2", "memory": "8Gi"}}
    (group,) = spec["workerGroupSpecs"]
    assert (group["minReplicas"], group["maxReplicas"]) == (1, 10)
    assert group["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "6", "memory": "32Gi", GPU: "1"},
        "limits": {"cpu": "6", "memory": "32Gi", GPU: "1"},
    }
    # The object store's /dev/shm: memory-backed, 30 % of the memory limit (Ray's default store size).
    # Besides it, only /tmp is writable (an emptyDir; the root filesystem is read-only, test_constructs_security.py).
    for pod in (spec["headGroupSpec"]["template"]["spec"], group["template"]["spec"]):
        shm, tmp = pod["volumes"]
        assert shm["emptyDir"]["medium"] == "Memory" and tmp == {"name": "writable-tmp", "emptyDir": {}}
        assert pod["containers"][0]["volumeMounts"] == [{"name": shm["name"], "mountPath": "/dev/shm"}, {"name": "writable-tmp", "mountPath": "/tmp"}]
    assert group["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "9830Mi"  # 30 % of 32 GiB
    for params in [spec["headGroupSpec"]["rayStartParams"], group["rayStartParams"]]:
        assert all(isinstance(value, str) for value in params.values())
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"  # no tasks on the head
    images = [c["image"] for _, pod in _pod_specs(ray) for c in pod["containers"]]
    assert all(image.split(":")[1].startswith(spec["rayVersion"]) for image in images)


@pytest.mark.parametrize("environment", ["aws-primary", "gcp-burst"])
def test_no_ray_head_holds_a_gpu(reference_documents, environment):
    for ray in _objects(reference_documents, environment, "RayCluster"):
        head = ray["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["resources"]
        assert GPU not in head["requests"] and GPU not in head["limits"]


def test_dask_cluster_is_the_designs(reference_documents):
    dask = _one(reference_documents, "aws-primary", "DaskCluster", "aiops-dask")["spec"]
    assert dask["worker"]["replicas"] == 10
    (worker,) = dask["worker"]["spec"]["containers"]
    assert worker["resources"]["requests"] == {"cpu": "2", "memory": "8Gi"}
    assert worker["args"][worker["args"].index("--memory-limit") + 1] == "7GB"
    assert worker["image"] == dask["scheduler"]["spec"]["containers"][0]["image"] == "ghcr.io/dask/dask:2026.7.1-py3.13"
    autoscaler = _one(reference_documents, "aws-primary", "DaskAutoscaler", "aiops-dask")["spec"]
    assert autoscaler == {"cluster": "aiops-dask", "minimum": 2, "maximum": 20}


# --- Kueue ---------------------------------------------------------------------------------


def _gib(value: str) -> Decimal:
    number, unit = re.fullmatch(r"([0-9]+)(Gi|Mi)", value).groups()
    return Decimal(number) / (1024 if unit == "Mi" else 1)


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_cluster_queue_quotas_are_what_queued_work_can_get_and_never_more_than_the_pools(reference_documents, reference_environments, environment):
    """The quotas in dist/ are aiops.model.queues' (its arithmetic: tests/test_queues.py), below raw capacity."""
    env = reference_environments[environment]
    catalog = load_catalog()
    queues = {q["metadata"]["name"]: q for q in _objects(reference_documents, environment, "ClusterQueue")}
    expected = {q.name: q for q in queue_quotas(env)}
    assert set(queues) == set(expected) == {q.name for q in env.workloads.queues}
    for name, queue in queues.items():
        assert queue["spec"]["cohortName"] == env.name
        written = {f["name"]: {r["name"]: r["nominalQuota"] for r in f["resources"]} for f in queue["spec"]["resourceGroups"][0]["flavors"]}
        for flavor in expected[name].flavors:
            q = flavor.quota.quantities()
            assert written[flavor.flavor] == {"cpu": q["cpu"], "memory": q["memory"], **({GPU: q["gpus"]} if GPU in written[flavor.flavor] else {})}
            pool = env.pool(flavor.flavor)
            machine = catalog.instance_type(env.cloud, pool.instance_type)
            assert flavor.quota.cpu_millis < pool.max * machine.vcpu * 1000
            assert flavor.quota.gpus <= pool.max * pool.gpu_count(env.cloud)


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_each_team_has_a_local_queue_per_queue_and_only_teams_use_a_queue(reference_documents, reference_environments, environment):
    env = reference_environments[environment]
    local = {(q["metadata"]["namespace"], q["metadata"]["name"], q["spec"]["clusterQueue"]) for q in _objects(reference_documents, environment, "LocalQueue")}
    assert local == {(team.name, queue, queue) for team in env.workloads.teams for queue in team.queues}
    for queue in _objects(reference_documents, environment, "ClusterQueue"):
        (expression,) = queue["spec"]["namespaceSelector"]["matchExpressions"]
        assert set(expression["values"]) == {ns for ns, _, cq in local if cq == queue["metadata"]["name"]}


# --- High availability ---------------------------------------------------------------------


def test_inference_outranks_training_which_outranks_batch(reference_documents):
    value = {p["metadata"]["name"]: p["value"] for p in _objects(reference_documents, "aws-primary", "PriorityClass")}
    assert value["aiops-inference"] > value["aiops-training"] > value["aiops-batch"]
    by_workload = {
        f"{d['kind']}/{d['metadata']['name']}": {pod["priorityClassName"] for _, pod in _pod_specs(d)}
        for d in _objects(reference_documents, "aws-primary")
        if d["kind"] in ("Deployment", "RayCluster", "DaskCluster")
    }
    assert by_workload == {
        "Deployment/ml-training-workers": {"aiops-training"},
        "Deployment/model-server": {"aiops-inference"},
        "RayCluster/aiops-ray-cluster": {"aiops-training"},
        "DaskCluster/aiops-dask": {"aiops-batch"},
    }


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_multi_replica_group_has_a_disruption_budget_and_a_zone_spread(reference_documents, environment):
    """Deployments' budgets take one pod at a time (maxUnavailable 1: the disruption controller
    reads their scale); Ray and Dask workers' owners have no scale subresource, so theirs are an
    integer minAvailable one below the group's minimum (the simulation shows they allow a drain)."""
    budgets = [b["spec"] for b in _objects(reference_documents, environment, "PodDisruptionBudget")]
    groups = []
    for hpa in _objects(reference_documents, environment, "HorizontalPodAutoscaler"):
        if hpa["spec"]["maxReplicas"] > 1:
            pod = _one(reference_documents, environment, "Deployment", hpa["metadata"]["name"])["spec"]["template"]
            groups.append((pod, {"maxUnavailable": 1}))
    for ray in _objects(reference_documents, environment, "RayCluster"):
        for group in ray["spec"]["workerGroupSpecs"]:
            if group["maxReplicas"] > 1:
                pod = {"metadata": {"labels": {"ray.io/cluster": ray["metadata"]["name"], "ray.io/group": group["groupName"]}}, "spec": group["template"]["spec"]}
                groups.append((pod, {"minAvailable": max(group["minReplicas"] - 1, 0)}))
    for dask in _objects(reference_documents, environment, "DaskCluster"):
        labels = {"dask.org/cluster-name": dask["metadata"]["name"], "dask.org/component": "worker"}
        minimum = _one(reference_documents, environment, "DaskAutoscaler", dask["metadata"]["name"])["spec"]["minimum"]
        groups.append(({"metadata": {"labels": labels}, "spec": dask["spec"]["worker"]["spec"]}, {"minAvailable": max(minimum - 1, 0)}))
    assert groups
    for pod, rule in groups:
        pod_labels = pod["metadata"]["labels"]
        matching = [b for b in budgets if b["selector"]["matchLabels"].items() <= pod_labels.items()]
        assert [{k: v for k, v in b.items() if k != "selector"} for b in matching] == [rule], pod_labels
        (spread,) = pod["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["labelSelector"]["matchLabels"].items() <= pod_labels.items()


def test_inference_must_spread_over_all_the_zones(reference_documents, reference_environments):
    for environment in ("aws-primary", "azure-dr"):
        pod = _one(reference_documents, environment, "Deployment", "model-server")["spec"]["template"]["spec"]
        (spread,) = pod["topologySpreadConstraints"]
        assert spread["whenUnsatisfiable"] == "DoNotSchedule"
        assert spread["minDomains"] == len(reference_environments[environment].zones) == 3


# --- Flux ----------------------------------------------------------------------------------


def _kustomizations(environment):
    from aiops.tree.flux import flux_kustomizations
    from aiops.tree.manifests import scan_manifests

    return {k.name: k for k in flux_kustomizations(scan_manifests([Path("dist") / environment]).manifests)}


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_flux_applies_controllers_then_configs_then_apps(monkeypatch, environment):
    monkeypatch.chdir(REPO)  # the committed dist/ (test_synth proves it is the synthesis)
    kustomizations = _kustomizations(environment)
    assert set(kustomizations) == {"flux-system", "infra-controllers", "infra-configs", "apps"}
    for name, kustomization in kustomizations.items():
        assert (REPO / kustomization.folder / "kustomization.yaml").is_file(), f"{name}: {kustomization.path} is not in dist/"
        assert kustomization.prune and kustomization.source_name == "flux-system"
    assert kustomizations["infra-controllers"].depends_on == ()
    assert kustomizations["infra-configs"].depends_on == (("flux-system", "infra-controllers"),)
    assert kustomizations["apps"].depends_on == (("flux-system", "infra-configs"),)
    assert kustomizations["infra-controllers"].wait and kustomizations["infra-configs"].wait


CRD_OWNERS = {  # API group of a custom resource -> the HelmRelease whose chart installs its CRD
    "kueue.x-k8s.io": "kueue",
    "ray.io": "kuberay-operator",
    "kubernetes.dask.org": "dask-kubernetes-operator",
}


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_custom_resource_waits_for_the_release_of_its_crd(monkeypatch, environment):
    """A custom resource is applied by a Kustomization that depends, through waiting
    Kustomizations, on the one that installs its CRD's chart."""
    from aiops.tree.flux import owner_of
    from aiops.tree.manifests import scan_manifests

    monkeypatch.chdir(REPO)
    manifests = scan_manifests([Path("dist") / environment]).manifests
    kustomizations = _kustomizations(environment)
    releases = {m.name: m for m in manifests if m.kind == "HelmRelease"}

    def upstream(name: str) -> set[str]:
        found, todo = set(), [name]
        while todo:
            for _, dependency in kustomizations[todo.pop()].depends_on:
                assert kustomizations[dependency].wait, f"{dependency} does not wait for its objects"
                found.add(dependency)
                todo.append(dependency)
        return found

    checked = 0
    for manifest in manifests:
        if manifest.group in CRD_OWNERS:
            release = releases[CRD_OWNERS[manifest.group]]
            installer = owner_of(release.file, list(kustomizations.values())).name
            applier = owner_of(manifest.file, list(kustomizations.values())).name
            assert installer in upstream(applier), f"{manifest.describe()} ({applier}) does not wait for {installer}"
            checked += 1
    assert checked


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_chart_is_pinned_to_an_exact_version(reference_documents, environment):
    sources = {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]): d for d in _objects(reference_documents, environment) if d["kind"] in ("HelmRepository", "OCIRepository")}
    for release in _objects(reference_documents, environment, "HelmRelease"):
        assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
        namespace = release["metadata"]["namespace"]
        if "chartRef" in release["spec"]:
            source = sources[("OCIRepository", namespace, release["spec"]["chartRef"]["name"])]
            version = source["spec"]["ref"]["tag"]
        else:
            chart = release["spec"]["chart"]["spec"]
            assert ("HelmRepository", namespace, chart["sourceRef"]["name"]) in sources
            version = chart["version"]
        assert re.fullmatch(r"v?[0-9]+\.[0-9]+\.[0-9]+", version), f"{release['metadata']['name']}: {version}"


def test_what_each_environment_installs(reference_documents):
    installed = {env: sorted(d["metadata"]["name"] for d in _objects(reference_documents, env, "HelmRelease")) for env in REFERENCE_ENVIRONMENTS}
    assert installed == {
        "aws-primary": [
            "aws-load-balancer-controller", "cluster-autoscaler", "dask-kubernetes-operator", "gpu-operator", "kube-prometheus-stack",
            "kuberay-operator", "kueue", "metrics-server", "prometheus-adapter",
        ],
        # AKS scales its pools and runs metrics-server itself; no Ray or Dask in the DR cluster.
        "azure-dr": ["gpu-operator", "kube-prometheus-stack", "kueue", "prometheus-adapter"],
        # GKE installs the GPU driver and device plugin itself; nothing scales on GPU metrics.
        "gcp-burst": ["kube-prometheus-stack", "kuberay-operator", "kueue"],
    }


def test_dist_paths_follow_the_layout(reference_synthesis):
    aws = sorted(str(PurePosixPath(*p.parts[1:])) for p in reference_synthesis.files if p.parts[0] == "aws-primary" and p.name != "kustomization.yaml")
    assert aws == [
        "apps/dask-cluster.yaml",
        "apps/inference-ingress.yaml",
        "apps/inference-service.yaml",
        "apps/ray-cluster.yaml",
        "apps/training-workers.yaml",
        "cluster/apps.yaml",
        "cluster/flux-system/gotk-sync.yaml",
        "cluster/infrastructure.yaml",
        "infrastructure/configs/network-policies.yaml",
        "infrastructure/configs/node-pools.yaml",
        "infrastructure/configs/priority-classes.yaml",
        "infrastructure/configs/queues.yaml",
        "infrastructure/configs/team-limits.yaml",
        "infrastructure/configs/teams.yaml",
        "infrastructure/controllers/aws-load-balancer-controller.yaml",
        "infrastructure/controllers/cluster-autoscaler.yaml",
        "infrastructure/controllers/dask-operator.yaml",
        "infrastructure/controllers/gpu-operator.yaml",
        "infrastructure/controllers/kube-prometheus-stack.yaml",
        "infrastructure/controllers/kuberay-operator.yaml",
        "infrastructure/controllers/kueue.yaml",
        "infrastructure/controllers/metrics-server.yaml",
        "infrastructure/controllers/prometheus-adapter.yaml",
        "infrastructure/controllers/storage-class.yaml",
        "terraform/eks/cdk.tf.json",
        "terraform/eks/versions.tf",
        "terraform/traffic/cdk.tf.json",
        "terraform/traffic/versions.tf",
    ]


# --- Monitoring that remembers ------------------------------------------------------------


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_prometheus_keeps_its_data_on_a_volume_of_the_default_class(reference_documents, environment):
    release = _one(reference_documents, environment, "HelmRelease", "kube-prometheus-stack")
    spec = release["spec"]["values"]["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}}  # no class: the cluster's default
    assert spec["retentionSize"] == "90GB" and spec["retention"] == "15d"
    classes = _objects(reference_documents, environment, "StorageClass")
    # EKS (1.30+) has no default class: the platform brings one (and the EBS CSI add-on in Terraform).
    if environment == "aws-primary":
        (gp3,) = classes
        assert gp3["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
        assert (gp3["provisioner"], gp3["parameters"], gp3["volumeBindingMode"]) == ("ebs.csi.aws.com", {"type": "gp3", "encrypted": "true"}, "WaitForFirstConsumer")
    else:
        assert classes == []  # AKS and GKE ship a default class
