"""Each platform rule, fired by a real sample, the platform design or the reference dist/ broken
into the mistake it catches, and silent once the mistake is fixed. The validator runs for real
(kubeconform included) on a copy in a temporary folder. Here: the scheduling rules (GPUs,
tolerations, selectors, sizes against the pools); the manifests' own rules are in
test_validate_manifest_rules.py, the cloud side's in test_validate_cloud_rules.py."""

from __future__ import annotations

import json

import yaml

from conftest import REPO
from validate_helpers import design_block, dump, edit, of_rule, ray_sample, run_validate, sample, tree, untaint_gpu_inference, write  # noqa: F401 (tree is a fixture)


def gpu_workers(cluster: dict, gpus: int = 1, **group) -> dict:
    worker = cluster["spec"]["workerGroupSpecs"][0]
    resources = worker["template"]["spec"]["containers"][0]["resources"]
    resources["requests"]["nvidia.com/gpu"] = resources["limits"]["nvidia.com/gpu"] = str(gpus)
    worker.update(group)
    return cluster


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
SPOT_TOLERATION = {"key": "cloud.google.com/gke-spot", "operator": "Exists", "effect": "NoSchedule"}  # gcp-burst's gpu-t4 is spot
INTERRUPTIBLE = {"aiops.example/interruptible": "true"}


def interruptible(manifest: dict) -> dict:
    """Say the object's pods may be interrupted (what a spot pool asks; rule spot-not-interruptible)."""
    manifest["metadata"].setdefault("annotations", {}).update(INTERRUPTIBLE)
    return manifest


# --- hpa-resource-metric --------------------------------------------------------------------------

def test_the_designs_gpu_hpa_is_caught(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "hpa-gpu.yaml", design_block("k8s/hpa-gpu.yaml"))
    report = run_validate("hpa-gpu.yaml")
    [finding] = of_rule(report, "hpa-resource-metric")
    assert (finding.file, finding.line, finding.object) == ("hpa-gpu.yaml", 16, "HorizontalPodAutoscaler/ml-training-hpa")
    assert finding.message == (
        "metric 1 is a Resource metric on 'nvidia.com/gpu': the resource metrics API (metrics-server) serves only cpu and "
        "memory, so the HPA cannot read it and stops scaling (FailedGetResourceMetric)"
    )
    assert "DCGM_FI_DEV_GPU_UTIL" in finding.hint
    # The fix the rule suggests: GPU utilization as a Pods metric; cpu stays a Resource metric.
    hpa = yaml.safe_load(design_block("k8s/hpa-gpu.yaml"))
    hpa["spec"]["metrics"][0] = {"type": "Pods", "pods": {"metric": {"name": "DCGM_FI_DEV_GPU_UTIL"}, "target": {"type": "AverageValue", "averageValue": "80"}}}
    write(tmp_path / "hpa-gpu.yaml", dump(hpa))
    assert run_validate("hpa-gpu.yaml").findings == []


# --- extended-resource-limit ----------------------------------------------------------------------

def test_gpu_request_without_or_unlike_its_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    verl = sample("kuberay/ray-cluster.verl.yaml")[0]
    limits = verl["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    del limits["nvidia.com/gpu"]
    write(tmp_path / "verl.yaml", dump(verl))
    [finding] = of_rule(run_validate("verl.yaml"), "extended-resource-limit")
    assert finding.message == (
        "Container 'ray-head' of the head requests nvidia.com/gpu: 4 without a limit; the API server rejects this, "
        "because extended resources cannot be overcommitted"
    )
    assert finding.hint == "add resources.limits.nvidia.com/gpu: 4 (equal to the request)"
    limits["nvidia.com/gpu"] = "2"
    write(tmp_path / "verl.yaml", dump(verl))
    [finding] = of_rule(run_validate("verl.yaml"), "extended-resource-limit")
    assert "requests nvidia.com/gpu: 4 but limits it to 2" in finding.message
    limits["nvidia.com/gpu"] = 4  # the same quantity, written as a number
    write(tmp_path / "verl.yaml", dump(verl))
    assert of_rule(run_validate("verl.yaml"), "extended-resource-limit") == []


# --- gpu-taint-not-tolerated, node-selector-no-pool ----------------------------------------------

def test_gpu_pods_must_tolerate_a_gpu_pool(tree):
    cluster = gpu_workers(ray_sample())
    path = write(tree / "gcp-burst/apps/ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("dist"), "gpu-taint-not-tolerated")
    assert finding.object == "RayCluster/raycluster-kuberay"
    assert finding.message == (
        "The worker group workergroup pods request 1 GPU each but tolerate the taints of none of the GPU pools of gcp-burst: "
        "gpu-t4 (nvidia.com/gpu=present:NoSchedule, cloud.google.com/gke-spot=true:NoSchedule); they stay Pending"
    )
    assert finding.hint == ("add to the pod's tolerations: {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}, "
                            "{key: cloud.google.com/gke-spot, operator: Exists, effect: NoSchedule}")
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["tolerations"] = [GPU_TOLERATION]
    write(path, dump(cluster))
    [finding] = of_rule(run_validate("dist"), "gpu-taint-not-tolerated")  # the spot taint still keeps them off
    assert finding.message.endswith("gpu-t4 (nvidia.com/gpu=present:NoSchedule, cloud.google.com/gke-spot=true:NoSchedule); they stay Pending")
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["tolerations"] = [GPU_TOLERATION, SPOT_TOLERATION]
    write(path, dump(cluster))
    [finding] = run_validate("dist").findings  # on the spot pool now, from an object that does not say it may be interrupted
    assert (finding.rule.id, finding.object, finding.level) == ("spot-not-interruptible", "RayCluster/raycluster-kuberay", "warning")
    assert finding.message == (
        "The worker group workergroup pods can run on spot pool(s) gpu-t4 (they tolerate nvidia.com/gpu=present:NoSchedule, "
        "cloud.google.com/gke-spot=true:NoSchedule), but RayCluster/raycluster-kuberay does not say they can be interrupted; "
        "the cloud takes spot nodes back at short notice"
    )
    assert finding.hint == ('drop the toleration of the spot taint, or annotate the object aiops.example/interruptible: "true" '
                            "if the pods checkpoint and resume")
    write(path, dump(interruptible(cluster)))
    assert run_validate("dist").findings == []


def test_gke_taints_gpu_pools_itself_and_aks_does_not(tree):
    cluster = gpu_workers(ray_sample())
    for environment in ("gcp-burst", "azure-dr"):
        write(tree / f"{environment}/apps/ray.yaml", dump(cluster))
    # Without the taint in Terraform, GKE still taints the GPU pool (the cluster has a CPU pool) ...
    edit(tree / "gcp-burst/terraform/gke/cdk.tf.json", '"taint": [', '"taint_declared_elsewhere": [')
    # ... while AKS adds nothing, so an untainted AKS GPU pool takes the pods.
    edit(tree / "azure-dr/terraform/aks/cdk.tf.json", '"node_taints": [', '"node_taints_declared_elsewhere": [')
    findings = of_rule(run_validate("dist", skip=frozenset({"schema"})), "gpu-taint-not-tolerated")
    assert [(f.file, f.message.split(": ", 1)[1]) for f in findings] == [
        ("dist/gcp-burst/apps/ray.yaml", "gpu-t4 (nvidia.com/gpu=present:NoSchedule (set by GKE)); they stay Pending"),
    ]


def test_selectors_must_match_a_pool(tree):
    cluster = ray_sample()
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["nodeSelector"] = {"gpu-type": "a100"}
    write(tree / "aws-primary/apps/ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("dist"), "node-selector-no-pool")
    assert finding.message == (
        "The worker group workergroup pods select gpu-type=a100, which no node pool of aws-primary carries "
        "(cpu-compute: workload-type=general-compute; gpu-inference: aiops.example/node-pool=gpu-inference, gpu-type=t4, k8s.amazonaws.com/accelerator=nvidia-tesla-t4, "
        "nvidia.com/device-plugin.config=replicas-2, workload-type=ml-inference; gpu-training: gpu-type=v100, k8s.amazonaws.com/accelerator=nvidia-tesla-v100, "
        "workload-type=ml-training); they stay Pending"
    )
    # Required node affinity counts the same way; well-known labels the cloud sets match the pool.
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"].pop("nodeSelector")
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "eks.amazonaws.com/nodegroup", "operator": "In", "values": ["cpu-compute"]}]}]}}}
    write(tree / "aws-primary/apps/ray.yaml", dump(cluster))
    assert run_validate("dist").findings == []
    # A CPU pod that selects only a tainted pool cannot run either.
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] = ["gpu-training"]
    write(tree / "aws-primary/apps/ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("dist"), "node-selector-no-pool")
    assert "which only pools whose taints they do not tolerate carry: gpu-training (nvidia.com/gpu=true:NoSchedule)" in finding.message


def test_resource_flavors_must_match_a_pool(tree):
    edit(tree / "aws-primary/infrastructure/configs/node-pools.yaml", "gpu-type: v100", "gpu-type: a100")
    [finding] = of_rule(run_validate("dist"), "node-selector-no-pool")
    assert (finding.file, finding.line, finding.object) == ("dist/aws-primary/infrastructure/configs/node-pools.yaml", 9, "ResourceFlavor/gpu-training")
    assert finding.message.startswith("ResourceFlavor gpu-training selects workload-type=ml-training, gpu-type=a100, which no node pool of aws-primary carries")


# --- pod-exceeds-node -----------------------------------------------------------------------------

def test_a_pod_larger_than_any_node_it_can_use(tree):
    verl = sample("kuberay/ray-cluster.verl.yaml")[0]
    verl["spec"]["headGroupSpec"]["template"]["spec"]["tolerations"] = [GPU_TOLERATION]
    write(tree / "aws-primary/apps/verl.yaml", dump(verl))
    [finding] = of_rule(run_validate("dist"), "pod-exceeds-node")
    # gpu-inference's one T4 is time-sliced two ways: 2 nvidia.com/gpu per node.
    assert finding.message == (
        "The head pods need 4 GPUs, 36 CPU, 134.1 GiB each, more than one node of any pool they can run on offers: "
        "gpu-inference (g4dn.xlarge: 2 GPU, 3.92 CPU, 15.3 GiB allocatable); gpu-training (p3.2xlarge: 1 GPU, 7.91 CPU, 60.0 GiB allocatable); "
        "they stay Pending"
    )


def test_the_fix_names_a_pool_that_would_fit(tree):
    untaint_gpu_inference(tree)  # a pool the pod may use, too small, beside one it would fit but does not tolerate
    cluster = gpu_workers(ray_sample())
    resources = cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["resources"]
    resources["requests"].update(cpu="4", memory="16Gi")
    resources["limits"].update(cpu="8", memory="32Gi")
    write(tree / "aws-primary/apps/ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("dist"), "pod-exceeds-node")
    assert finding.hint == (
        "lower the pod's requests, or let it run on gpu-training (p3.2xlarge), whose nodes hold it: it needs a toleration "
        "{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}"
    )


# --- gpu-demand-exceeds-pools ---------------------------------------------------------------------

def test_autoscaler_maximum_beyond_the_pools(tree):
    cluster = interruptible(gpu_workers(ray_sample(), maxReplicas=30))
    cluster["spec"]["enableInTreeAutoscaling"] = True
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["tolerations"] = [GPU_TOLERATION, SPOT_TOLERATION]
    path = write(tree / "gcp-burst/apps/ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("dist"), "gpu-demand-exceeds-pools")
    assert finding.line == yaml.compose(path.read_text()).start_mark.line + 1 + path.read_text().splitlines().index("    maxReplicas: 30")
    assert finding.message == (
        "RayCluster/raycluster-kuberay (worker group workergroup) may run 30 pods (maxReplicas) of 1 GPU each, 30 GPUs in all, "
        "but the pools it can run on hold at most 16 such pods at their maximum size (gpu-t4: 16 nodes x 1); the rest stay Pending"
    )
    assert finding.hint == "lower maxReplicas to 16, or raise the max node count of the pools"
    cluster["spec"]["workerGroupSpecs"][0]["maxReplicas"] = 16
    write(path, dump(cluster))
    assert run_validate("dist").findings == []


def test_hpa_maximum_beyond_the_pools(tree):
    hpa = yaml.safe_load(design_block("k8s/hpa-gpu.yaml"))
    hpa["spec"]["metrics"] = hpa["spec"]["metrics"][1:]
    hpa["spec"]["maxReplicas"] = 24
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ml-training-workers"},
        "spec": {"selector": {"matchLabels": {"app": "w"}}, "template": {"metadata": {"labels": {"app": "w"}}, "spec": {
            "nodeSelector": {"workload-type": "ml-training"}, "tolerations": [GPU_TOLERATION],
            "containers": [{"name": "w", "image": "rayproject/ray-ml:2.8.0-gpu", "resources": {
                "requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}, "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"}}}]}}},
    }
    write(tree / "aws-primary/apps/training.yaml", dump(hpa, deployment))
    [finding] = of_rule(run_validate("dist"), "gpu-demand-exceeds-pools")
    assert finding.object == "HorizontalPodAutoscaler/ml-training-hpa"
    assert finding.message.startswith(
        "Deployment/ml-training-workers may run 24 pods (maxReplicas of HorizontalPodAutoscaler/ml-training-hpa) of 1 GPU each, "
        "24 GPUs in all, but the pools it can run on hold at most 20 such pods at their maximum size (gpu-training: 20 nodes x 1)"
    )


def test_queue_quotas_beyond_the_pools(tree):
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue", "metadata": {"name": "training"},
        "spec": {"namespaceSelector": {}, "resourceGroups": [{"coveredResources": ["cpu", "memory", "nvidia.com/gpu"], "flavors": [
            {"name": "gpu-training", "resources": [{"name": "cpu", "nominalQuota": 80}, {"name": "memory", "nominalQuota": "600Gi"}, {"name": "nvidia.com/gpu", "nominalQuota": 24}]}]}]},
    }
    write(tree / "aws-primary/infrastructure/configs/queues.yaml", dump(queue))
    [finding] = of_rule(run_validate("dist"), "gpu-demand-exceeds-pools")
    assert finding.message == (
        "ClusterQueue nominal quotas of nvidia.com/gpu on flavor gpu-training add up to 24 (training: 24), but its pools hold "
        "at most 20 GPUs at their maximum size (gpu-training: 20 nodes x 1); admitted workloads would stay Pending"
    )
    assert run_validate("dist").findings == [finding]  # the ClusterQueue itself is schema-valid


def test_queue_quotas_are_checked_against_their_own_resource_whatever_comes_last(tmp_path, monkeypatch):
    """aws-primary alone (as `aiops synth --env aws-primary --out DIR` validates it): its queue's
    last resource is memory, not the GPU, and the pools' GPUs are still counted (they once read 0,
    which refused the reference environment whenever no other queue followed it)."""
    import shutil

    shutil.copytree(REPO / "dist" / "aws-primary", tmp_path / "dist" / "aws-primary")
    monkeypatch.chdir(tmp_path)
    assert of_rule(run_validate("dist"), "gpu-demand-exceeds-pools") == []
