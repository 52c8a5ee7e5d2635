"""What the tree readers add for validation: field lines, pod templates, quantities, and node
pools as Kubernetes sees them (taints GKE adds, labels the clouds set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops.tree.manifests import scan_manifests
from aiops.tree.pools import GKE_GPU_TAINT, PoolTaint, node_labels, node_taints, pools_of
from aiops.tree.terraform import scan_terraform
from aiops.tree.workloads import BadQuantity, parse_quantity, pod_templates
from conftest import REPO
from validate_helpers import SAMPLES, write


def test_line_of_a_field(monkeypatch):
    monkeypatch.chdir(REPO)
    [cluster] = [m for m in scan_manifests([SAMPLES / "kuberay/ray-cluster.complete.yaml"]).manifests]
    text = (SAMPLES / "kuberay/ray-cluster.complete.yaml").read_text().splitlines()
    line = cluster.line_of(("spec", "workerGroupSpecs", 0, "template", "spec", "containers", 0, "image"))
    assert text[line - 1].strip() == "image: rayproject/ray:2.52.0" and line > cluster.line_of(("spec", "headGroupSpec"))
    # A path that ends early gives its deepest existing parent: here the worker's container.
    assert cluster.line_of(("spec", "workerGroupSpecs", 0, "template", "spec", "containers", 0, "nope")) == \
        cluster.line_of(("spec", "workerGroupSpecs", 0, "template", "spec", "containers", 0))
    assert cluster.line_of(()) == cluster.line == 5


def test_terraform_line_of_an_attribute(monkeypatch):
    monkeypatch.chdir(REPO)
    tree = scan_terraform([Path("dist/gcp-burst")])
    pool = tree.get("dist/gcp-burst/terraform/gke/cdk.tf.json", "google_container_node_pool", "node_pool_gpu_t4")
    lines = Path(pool.file).read_text().splitlines()
    assert lines[tree.line_of(pool, "node_config", "machine_type") - 1].strip() == '"machine_type": "n1-standard-4",'
    assert lines[tree.line_of(pool) - 1].strip() == '"node_pool_gpu_t4": {'


def test_gke_adds_its_gpu_taint_only_beside_cpu_pools(monkeypatch):
    monkeypatch.chdir(REPO)
    pools = pools_of(scan_terraform([Path("dist")]))
    by_name = {p.name: p for p in pools}
    gke = [p for p in pools if p.cloud == "gcp"]
    # declared already: not twice (and gpu-t4 is spot: GKE's spot taint, declared by the stack too)
    assert node_taints(by_name["gpu-t4"], gke) == (PoolTaint("nvidia.com/gpu", "present", "NoSchedule"), PoolTaint("cloud.google.com/gke-spot", "true", "NoSchedule"))
    from dataclasses import replace

    untainted = replace(by_name["gpu-t4"], taints=())
    assert node_taints(untainted, [untainted, by_name["cpu-system"]]) == (GKE_GPU_TAINT,)
    assert node_taints(untainted, [untainted]) == ()  # a GPU-only cluster: GKE leaves it alone
    aks = replace(by_name["gpu"], taints=())
    assert node_taints(aks, [aks, by_name["system"]]) == ()  # AKS never taints by itself


def test_node_labels_the_clouds_set(monkeypatch):
    monkeypatch.chdir(REPO)
    by_name = {p.name: p for p in pools_of(scan_terraform([Path("dist")]))}
    assert node_labels(by_name["gpu-t4"]) == {
        "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "n1-standard-4", "beta.kubernetes.io/instance-type": "n1-standard-4",
        "cloud.google.com/gke-nodepool": "gpu-t4", "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
        "cloud.google.com/gke-spot": "true", "cloud.google.com/gke-provisioning": "spot",  # a spot pool
        "gpu-type": "t4", "workload-type": "ml-inference",
    }
    assert node_labels(by_name["gpu-training"])["eks.amazonaws.com/nodegroup"] == "gpu-training"
    assert node_labels(by_name["gpu"])["kubernetes.azure.com/agentpool"] == "gpu"


def _objects(tmp_path, text):
    write(tmp_path / "objects.yaml", text)
    return scan_manifests([tmp_path / "objects.yaml"]).manifests


def test_pod_templates_of_ray_clusters():
    [cluster] = [m for m in scan_manifests([SAMPLES / "kuberay/ray-cluster.autoscaler.yaml"]).manifests if m.kind == "RayCluster"]
    head, workers = pod_templates(cluster)
    assert (head.role, head.path, head.replicas, head.max_replicas) == ("head", ("spec", "headGroupSpec", "template", "spec"), 1, None)
    # enableInTreeAutoscaling: the autoscaler may take the group to maxReplicas
    assert (workers.role, workers.replicas, workers.max_replicas, workers.most_replicas) == ("worker group small-group", 0, 10, 10)
    assert (head.request("cpu"), head.request("memory")) == (1.0, 2 * 2**30)
    [verl] = scan_manifests([SAMPLES / "kuberay/ray-cluster.verl.yaml"]).manifests
    [head] = pod_templates(verl)
    assert (head.gpus, head.gpu_resources(), head.request("memory")) == (4.0, {"nvidia.com/gpu": 4.0}, 144e9)


def test_pod_templates_of_other_kinds(tmp_path):
    objects = _objects(tmp_path, """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {replicas: 3, template: {spec: {containers: [{name: c, image: x:1}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec: {schedule: "* * * * *", jobTemplate: {spec: {parallelism: 2, template: {spec: {containers: [{name: c, image: x:1}]}}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec: {template: {spec: {containers: [{name: c, image: x:1}]}}}
---
apiVersion: kubernetes.dask.org/v1
kind: DaskCluster
metadata: {name: dask}
spec:
  worker: {replicas: 10, spec: {containers: [{name: worker, image: x:1, resources: {limits: {nvidia.com/gpu: 1}}}],
                                initContainers: [{name: warm, image: x:1, resources: {requests: {cpu: "3"}}}]}}
  scheduler: {spec: {containers: [{name: scheduler, image: x:1}]}, service: {}}
---
apiVersion: ray.io/v1
kind: RayJob
metadata: {name: job}
spec:
  rayClusterSpec: {headGroupSpec: {template: {spec: {containers: [{name: h, image: x:1}]}}}}
  submitterPodTemplate: {spec: {containers: [{name: s, image: x:1}]}}
""")
    found = [(t.manifest.kind, t.role, t.path, t.replicas) for m in objects for t in pod_templates(m)]
    assert found == [
        ("Deployment", "", ("spec", "template", "spec"), 3),
        ("CronJob", "", ("spec", "jobTemplate", "spec", "template", "spec"), 2),
        ("DaemonSet", "", ("spec", "template", "spec"), None),
        ("DaskCluster", "scheduler", ("spec", "scheduler", "spec"), 1),
        ("DaskCluster", "worker", ("spec", "worker", "spec"), 10),
        ("RayJob", "head", ("spec", "rayClusterSpec", "headGroupSpec", "template", "spec"), 1),
        ("RayJob", "submitter", ("spec", "submitterPodTemplate", "spec"), 1),
    ]
    worker = pod_templates(objects[3])[1]
    assert worker.gpus == 1.0  # a limit alone sets the request
    assert worker.request("cpu") == 3.0  # an init container larger than the containers decides


@pytest.mark.parametrize("text, value", [
    ("500m", 0.5), ("2", 2.0), (4, 4.0), ("16Gi", 16 * 2**30), ("192G", 192e9), ("1.5", 1.5), ("1e3", 1000.0), ("100Mi", 100 * 2**20),
])
def test_quantities(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1x", "Gi", True, "1.2.3"])
def test_bad_quantities(text):
    with pytest.raises(BadQuantity):
        parse_quantity(text)


def test_other_documents_are_kept_for_their_own_checks(tmp_path):
    write(tmp_path / "values.yaml", "replicas: 3\n")
    tree = scan_manifests([tmp_path])
    assert [(d.file.endswith("values.yaml"), d.body) for d in tree.other_documents] == [(True, {"replicas": 3})]
    assert [p.kind for p in tree.problems] == ["not-kubernetes"]
