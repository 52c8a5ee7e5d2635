"""Each platform rule, fired by a real sample, the platform design or the reference dist/ broken
into the mistake it catches, and silent once the mistake is fixed. The validator runs for real
(kubeconform included) on a copy in a temporary folder."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml

from conftest import REPO
from validate_helpers import SAMPLES, design_block, dist_copy, dump, edit, of_rule, rules_of, run_validate, sample, write


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of the reference dist/ (in a git work tree), with the working folder beside it."""
    monkeypatch.chdir(tmp_path)
    return dist_copy(tmp_path, git=True)


def ray_sample(name: str = "ray-cluster.sample.yaml") -> dict:
    return next(d for d in sample(f"kuberay/{name}") if d["kind"] == "RayCluster")


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


def _untaint_gpu_inference(tree):
    """aws-primary's gpu-inference pool as with `gpuTaint: false` (its node group untainted)."""
    import json

    stack = tree / "aws-primary/terraform/eks/cdk.tf.json"
    data = json.loads(stack.read_text())
    data["resource"]["aws_eks_node_group"]["node_group_gpu_inference_us_east_1a"].pop("taint")
    stack.write_text(json.dumps(data, indent=2))


def test_the_fix_names_a_pool_that_would_fit(tree):
    _untaint_gpu_inference(tree)  # a pool the pod may use, too small, beside one it would fit but does not tolerate
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


# --- api-removed, api-deprecated ------------------------------------------------------------------

def test_the_designs_ray_v1alpha1_is_deprecated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ray-cluster.yaml", design_block("ray/ray-cluster.yaml"))
    [finding] = of_rule(run_validate("ray-cluster.yaml"), "api-deprecated")
    assert finding.level == "warning"
    assert finding.message.startswith("ray.io/v1alpha1 RayCluster is deprecated in KubeRay v1.7.0: ")
    assert finding.hint == "change apiVersion to ray.io/v1"


def test_versions_the_pinned_crds_no_longer_serve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    release = sample("flux/apps-base-podinfo-release.yaml")[0]
    release["apiVersion"] = "helm.toolkit.fluxcd.io/v2beta1"
    write(tmp_path / "release.yaml", dump(release))
    report = run_validate("release.yaml")
    assert rules_of(report) == ["api-removed"]  # and no schema-missing beside it
    [finding] = report.findings
    assert finding.message == (
        "helm.toolkit.fluxcd.io/v2beta1 HelmRelease is not served by the HelmRelease CRD of Flux helm-controller v1.6.3 "
        "(it serves v2); the API server rejects the object"
    )
    assert finding.hint.startswith("change apiVersion to helm.toolkit.fluxcd.io/v2")


def test_removed_kubernetes_versions_and_deprecated_kueue(tree):
    hpa = yaml.safe_load(design_block("k8s/hpa-gpu.yaml"))
    hpa["apiVersion"] = "autoscaling/v2beta2"
    write(tree / "aws-primary/apps/hpa.yaml", dump(hpa))
    edit(tree / "aws-primary/infrastructure/configs/node-pools.yaml", "kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1")
    report = run_validate("dist", skip=frozenset({"hpa-resource-metric"}))
    assert [(f.rule.id, f.object) for f in report.findings] == [
        ("api-removed", "HorizontalPodAutoscaler/ml-training-hpa"),
        ("api-deprecated", "ResourceFlavor/gpu-training"),
    ]
    removed, deprecated = report.findings
    assert removed.message == "autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26; a 1.36 cluster rejects it"  # aws-primary's version
    assert removed.hint == "change apiVersion to autoscaling/v2"
    assert deprecated.hint == "change apiVersion to kueue.x-k8s.io/v1beta2"


# --- image-unpinned, container-resources ----------------------------------------------------------

@pytest.mark.parametrize("image, problem", [
    ("rayproject/ray", "has no tag, so it runs whatever `latest` is when the node pulls it"),
    ("rayproject/ray:latest", "is tagged `latest`, which moves: two nodes can run different code"),
    ("localhost:5000/ray", "has no tag, so it runs whatever `latest` is when the node pulls it"),
])
def test_unpinned_images(tmp_path, monkeypatch, image, problem):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample()
    cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"] = image
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "image-unpinned")
    assert finding.message == f"Container 'ray-head' of the head: image {image} {problem}"


def test_pinned_images_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample()
    cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"] = "localhost:5000/ray@sha256:" + "a" * 64
    write(tmp_path / "ray.yaml", dump(cluster))
    assert run_validate("ray.yaml").findings == []


def test_containers_need_requests_and_limits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample("ray-cluster.autoscaler.yaml")
    worker = cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    del worker["resources"]["limits"]
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "container-resources")
    assert finding.message.startswith("Container 'ray-worker' of the worker group small-group has no limits.cpu, limits.memory: ")
    del worker["resources"]
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "container-resources")
    assert finding.hint == "set resources.requests.cpu and resources.requests.memory and resources.limits.cpu and resources.limits.memory"


# --- Flux -------------------------------------------------------------------------------------------

def _line(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_depends_on_a_missing_kustomization(tree):
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "    - name: infra-controllers\n", "    - name: infra-controlers\n")
    [finding] = of_rule(run_validate("dist"), "flux-depends-on-missing")
    assert (finding.file, finding.line) == ("dist/aws-primary/cluster/infrastructure.yaml", _line(infrastructure, "- name: infra-controlers"))
    assert finding.message == (
        "Kustomization flux-system/infra-configs depends on flux-system/infra-controlers, which is not a Kustomization of "
        "aws-primary (there are: flux-system/apps, flux-system/flux-system, flux-system/infra-configs, "
        "flux-system/infra-controllers); Flux waits for it forever"
    )


def test_the_flux_sample_dependencies_resolve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_validate(SAMPLES / "flux").findings == []


def test_dependency_cycles(tree):
    edit(tree / "aws-primary/cluster/infrastructure.yaml", "spec:\n", "spec:\n  dependsOn:\n    - name: flux-system\n")
    edit(tree / "aws-primary/cluster/flux-system/gotk-sync.yaml", "  interval: 10m\n", "  interval: 10m\n  dependsOn:\n    - name: infra-configs\n")
    [finding] = of_rule(run_validate("dist"), "flux-dependency-cycle")
    assert finding.message == (
        "Kustomizations depend on each other in a cycle: flux-system/flux-system -> flux-system/infra-configs -> "
        "flux-system/infra-controllers -> flux-system/flux-system; none of them ever becomes ready"
    )


def test_paths_that_do_not_exist(tree):
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "./dist/aws-primary/infrastructure/configs", "./dist/aws-primary/infrastructure/config")
    [finding] = of_rule(run_validate("dist"), "flux-path-missing")
    assert (finding.file, finding.line) == ("dist/aws-primary/cluster/infrastructure.yaml", _line(infrastructure, "path: ./dist/aws-primary/infrastructure/config"))
    assert finding.message.startswith(
        "Kustomization flux-system/infra-configs applies ./dist/aws-primary/infrastructure/config, which does not exist in this repository"
    )


def test_paths_of_other_sources_are_not_judged(tmp_path, monkeypatch):
    """The flux sample's paths (./controllers, ./configs) live in an ExternalArtifact, not here."""
    monkeypatch.chdir(tmp_path)
    report = run_validate(SAMPLES / "flux", repo_root=tmp_path)
    assert of_rule(report, "flux-path-missing") == []


def _kueue_objects(tree) -> list[str]:
    from aiops.tree.manifests import scan_manifests

    return [m.describe() for m in scan_manifests([tree / "aws-primary/infrastructure/configs"]).manifests if m.group == "kueue.x-k8s.io"]


def test_custom_resources_must_wait_for_their_crds(tree):
    """infra-configs' Kueue objects need the CRDs that infra-controllers' kueue HelmRelease installs."""
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "  dependsOn:\n    - name: infra-controllers\n", "")
    findings = [f for f in of_rule(run_validate("dist"), "flux-crd-order") if "/infrastructure/configs/" in f.file]
    assert [f.object for f in findings] == _kueue_objects(tree) and len(findings) >= 3
    assert findings[0].message == (
        "applied by Kustomization infra-configs, which does not depend on infra-controllers, where HelmRelease/kueue-system/kueue "
        "(applied by Kustomization infra-controllers) installs the kueue.x-k8s.io CRDs: it may be applied before the CRD exists and fail"
    )
    assert findings[0].hint == "add dependsOn: [{name: infra-controllers}] to Kustomization infra-configs (and wait: true on infra-controllers)"
    edit(infrastructure, "  timeout: 5m\n", "  timeout: 5m\n  dependsOn:\n    - name: infra-controllers\n")
    assert of_rule(run_validate("dist"), "flux-crd-order") == []


def test_custom_resources_beside_the_helm_release_that_installs_their_crd(tree):
    """The kueue HelmRelease moved into infra-configs, next to the Kueue objects it should precede."""
    release = tree / "aws-primary/infrastructure/controllers/kueue.yaml"
    (tree / "aws-primary/infrastructure/configs/kueue.yaml").write_text(release.read_text())
    release.unlink()
    for folder in ("controllers", "configs"):
        listing = tree / f"aws-primary/infrastructure/{folder}/kustomization.yaml"
        text = listing.read_text().replace("  - kueue.yaml\n", "")
        listing.write_text(text + ("  - kueue.yaml\n" if folder == "configs" else ""))
    findings = of_rule(run_validate("dist"), "flux-crd-order")
    assert [f.object for f in findings] == _kueue_objects(tree)
    assert "the same one that applies HelmRelease/kueue-system/kueue" in findings[0].message


# --- autoscaler-node-template -----------------------------------------------------------------------

def _asg_tags(tree, tags: dict[str, str]) -> None:
    path = tree / "aws-primary/terraform/eks/cdk.tf.json"
    document = json.loads(path.read_text())
    document["resource"]["aws_autoscaling_group_tag"] = {
        f"gpu_training_tag_{index}": {
            "autoscaling_group_name": "${aws_eks_node_group.node_group_gpu_training.resources[0].autoscaling_groups[0].name}",
            "tag": {"key": key, "value": value, "propagate_at_launch": False},
        }
        for index, (key, value) in enumerate(tags.items())
    }
    path.write_text(json.dumps(document, indent=2))


def test_scale_from_zero_pools_advertise_labels_taints_and_gpus(tree):
    _asg_tags(tree, {"k8s.io/cluster-autoscaler/enabled": "true", "k8s.io/cluster-autoscaler/node-template/label/workload-type": "ml-training"})
    [finding] = of_rule(run_validate("dist"), "autoscaler-node-template")
    assert finding.object == "aws_eks_node_group.node_group_gpu_training (node pool gpu-training)"
    assert finding.message == (
        "node group gpu-training scales from zero (min 0), but its autoscaling group does not advertise "
        "k8s.io/cluster-autoscaler/node-template/label/gpu-type=v100, "
        "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator=nvidia-tesla-v100, "
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu=true:NoSchedule, "
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu=1: with no node to look at, cluster-autoscaler "
        "cannot tell that a pending pod fits this group"
    )
    _asg_tags(tree, {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/node-template/label/workload-type": "ml-training",
        "k8s.io/cluster-autoscaler/node-template/label/gpu-type": "v100",
        "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": "nvidia-tesla-v100",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
    })
    assert run_validate("dist").findings == []


def test_a_deployed_cluster_autoscaler_makes_the_tags_necessary(tree):
    """Node-template tags matter only to a cluster-autoscaler: without one (and no discovery tag), no finding."""
    _asg_tags(tree, {"k8s.io/cluster-autoscaler/node-template/label/workload-type": "ml-training"})
    release = tree / "aws-primary/infrastructure/controllers/cluster-autoscaler.yaml"
    deployed = release.read_text()
    release.unlink()
    edit(tree / "aws-primary/infrastructure/controllers/kustomization.yaml", "  - cluster-autoscaler.yaml\n", "")
    assert of_rule(run_validate("dist", skip=frozenset({"schema"})), "autoscaler-node-template") == []
    release.write_text(deployed)
    [finding] = of_rule(run_validate("dist", skip=frozenset({"schema"})), "autoscaler-node-template")
    assert "k8s.io/cluster-autoscaler/node-template/label/gpu-type=v100" in finding.message


# --- instance-retired, instance-retiring, instance-unknown ---------------------------------------------

def test_the_designs_retired_azure_gpu_type(tree):
    """The design put azure-dr's GPU pool on Standard_NC6s_v3; the reference environment moved
    off it because of this finding."""
    edit(tree / "azure-dr/terraform/aks/cdk.tf.json", '"vm_size": "Standard_NC8as_T4_v3"', '"vm_size": "Standard_NC6s_v3"')
    [finding] = run_validate("dist").findings
    assert (finding.rule.id, finding.level, finding.file) == ("instance-retired", "error", "dist/azure-dr/terraform/aks/cdk.tf.json")
    lines = (tree / "azure-dr/terraform/aks/cdk.tf.json").read_text().splitlines()
    assert lines[finding.line - 1].strip() == '"vm_size": "Standard_NC6s_v3",'
    assert finding.object == "azurerm_kubernetes_cluster_node_pool.node_pool_gpu1 (node pool gpu)"
    assert finding.message == (
        "node pool gpu uses Standard_NC6s_v3, which was retired by Azure on 2025-09-30 (Azure announcement retiring the NCv3 "
        "series (NC6s_v3, NC12s_v3, NC24s_v3) on 2025-09-30); the cloud no longer creates such nodes, so the pool cannot be "
        "created or scale up"
    )
    assert finding.hint == (
        "move the pool to a current GPU series such as NCasT4_v3 (Standard_NC4as_T4_v3, Standard_NC8as_T4_v3) "
        "or NC A100 v4 (Standard_NC24ads_A100_v4)"
    )
    [early] = run_validate("dist", today=date(2025, 6, 1)).findings
    assert (early.rule.id, early.level) == ("instance-retiring", "warning")
    assert "which is to be retired by Azure on 2025-09-30" in early.message


def test_instance_types_the_catalog_does_not_know(tree):
    edit(tree / "gcp-burst/terraform/gke/cdk.tf.json", '"machine_type": "n1-standard-4"', '"machine_type": "n1-standard-96"')
    [finding] = run_validate("dist").findings
    assert (finding.rule.id, finding.level) == ("instance-unknown", "warning")
    assert finding.message.startswith("node pool gpu-t4 uses n1-standard-96, which the instance catalog does not list for Google Cloud")


# --- secret-plaintext -----------------------------------------------------------------------------

SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: registry, namespace: ml}\nstringData:\n  password: hunter2\n"


def test_plaintext_secrets_in_git(tree):
    write(tree / "aws-primary/apps/secret.yaml", SECRET)
    [finding] = run_validate("dist").findings
    assert (finding.rule.id, finding.line, finding.object) == ("secret-plaintext", 4, "Secret/ml/registry")
    assert finding.message.startswith("holds plaintext values (password) in a file git tracks")


def test_secrets_that_are_encrypted_ignored_or_outside_git_pass(tree, tmp_path):
    sops = SECRET.replace("hunter2", "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]") + "sops:\n  version: 3.9.0\n"
    write(tree / "aws-primary/apps/secret.yaml", sops)
    assert of_rule(run_validate("dist", skip=frozenset({"schema"})), "secret-plaintext") == []
    write(tree / "aws-primary/apps/secret.yaml", SECRET)
    write(tmp_path / ".gitignore", "secret.yaml\n")
    assert run_validate("dist").findings == []
    (tmp_path / ".git").rename(tmp_path / "not-git")
    assert run_validate("dist").findings == []


# --- gpu-pool-untainted ---------------------------------------------------------------------------

def test_a_gpu_pool_left_open_is_a_warning(tree):
    _untaint_gpu_inference(tree)
    [finding] = of_rule(run_validate("dist"), "gpu-pool-untainted")
    assert finding.level == "warning"
    assert finding.file == "dist/aws-primary/terraform/eks/cdk.tf.json"
    assert finding.message == (
        "GPU pool gpu-inference has no nvidia.com/gpu NoSchedule taint: any pod (operators, Prometheus, Flux) can land on its "
        "g4dn.xlarge nodes and keep them from scaling down"
    )
    assert finding.rule.fix == "remove `gpuTaint: false` from the pool (or taint it nvidia.com/gpu:NoSchedule) so that only pods that ask for GPUs land there"


def test_the_reference_gpu_pools_are_tainted_by_default(reference_environments):
    """aws-primary's gpu-inference says no taint; the model gives it nvidia.com/gpu=true:NoSchedule,
    and GKE's pool the value GKE itself uses (present)."""
    inference = next(p for p in reference_environments["aws-primary"].node_pools if p.name == "gpu-inference")
    assert [(t.key, t.value, t.effect) for t in inference.taints] == [("nvidia.com/gpu", "true", "NoSchedule")]
    t4 = next(p for p in reference_environments["gcp-burst"].node_pools if p.name == "gpu-t4")
    # gpu-t4 is also spot: the model adds GKE's spot taint too (aiops.model.spot)
    assert [(t.key, t.value, t.effect) for t in t4.taints] == [("nvidia.com/gpu", "present", "NoSchedule"), ("cloud.google.com/gke-spot", "true", "NoSchedule")]
    cpu = next(p for p in reference_environments["aws-primary"].node_pools if p.name == "cpu-compute")
    assert cpu.taints == []


def test_gpu_taint_false_opts_out(reference_environments):
    from aiops.model import Environment

    data = reference_environments["aws-primary"].model_dump(by_alias=True)
    for pool in data["nodePools"]:
        if pool["name"] == "gpu-inference":
            pool["taints"], pool["gpuTaint"] = [], False
    data["workloads"]["inference"] = None
    opened = Environment.model_validate(data)
    assert next(p for p in opened.node_pools if p.name == "gpu-inference").taints == []
