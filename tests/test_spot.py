"""Spot capacity: one pool field, each cloud's Terraform (checked against the pinned provider
bindings' schema), the labels and taints Kubernetes sees on the nodes (as the simulation builds
them from that Terraform), and the workloads the model lets onto spot pools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops.model.errors import InvalidEnvironment
from aiops.model.loader import load_environment
from aiops.simulate.nodes import node_objects, read_cluster
from aiops.synth.terraform import synthesize_terraform
from aiops.tree.pools import node_labels, pools_of
from aiops.tree.terraform import scan_terraform
from constructs_fixtures import environment
from test_terraform_stacks import binding_parameters

AWS_SPOT = {"name": "cpu", "instanceType": "c5.4xlarge", "capacityType": "spot", "alternativeInstanceTypes": ["c5a.4xlarge", "c6i.4xlarge"],
            "min": 0, "desired": 1, "max": 3, "labels": {"workload-type": "general-compute"}}
AZURE = {
    "cloud": "azure", "region": "eastus", "zones": ["1", "2"],
    "terraformState": {"storageAccount": "sa", "container": "tfstate", "resourceGroup": "rg"},
    "nodePools": [
        {"name": "system", "instanceType": "Standard_D4s_v5", "min": 1, "desired": 1, "max": 2, "system": True, "labels": {"workload-type": "system"}},
        {"name": "gpu", "instanceType": "Standard_NC8as_T4_v3", "capacityType": "spot", "min": 0, "desired": 0, "max": 4, "labels": {"workload-type": "ml-training"}},
    ],
}
GCP = {
    "cloud": "gcp", "region": "us-central1", "zones": ["us-central1-a", "us-central1-b"], "gcpProject": "p",
    "terraformState": {"bucket": "state"},
    "nodePools": [
        {"name": "cpu", "instanceType": "e2-standard-4", "min": 1, "desired": 1, "max": 2, "labels": {"workload-type": "general-compute"}},
        {"name": "gpu", "instanceType": "n1-standard-4", "gpu": {"type": "nvidia-tesla-t4", "count": 1}, "capacityType": "spot",
         "min": 0, "desired": 0, "max": 4, "labels": {"workload-type": "ml-training"}},
    ],
}


def synthesized(tmp_path: Path, env) -> tuple[dict, Path]:
    """The environment's Terraform JSON, written as dist/<env>/terraform/<stack>/cdk.tf.json."""
    files = synthesize_terraform([env], tmp_path / "cdktf.out")
    for relative, data in files.items():
        path = tmp_path / "dist" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    stack = next(p for p in files if p.name == "cdk.tf.json")
    return json.loads(files[stack]), tmp_path / "dist"


def test_eks_spot_node_group_with_interchangeable_types(tmp_path):
    env = environment(nodePools=[environment().model_dump(by_alias=True)["nodePools"][0], AWS_SPOT])
    template, dist = synthesized(tmp_path, env)
    group = template["resource"]["aws_eks_node_group"]["node_group_cpu"]
    assert {"capacity_type", "instance_types", "taint"} <= binding_parameters("aws_eks_node_group")
    assert group["capacity_type"] == "SPOT"
    assert group["instance_types"] == ["c5.4xlarge", "c5a.4xlarge", "c6i.4xlarge"]  # all 16 vCPU, 32 GiB, no GPU (the catalog)
    assert group["taint"] == [{"key": "aiops.example/capacity-type", "value": "spot", "effect": "NO_SCHEDULE"}]
    assert "capacity_type" not in template["resource"]["aws_eks_node_group"]["node_group_gpu"]  # on demand: EKS's default
    # What Kubernetes sees, as the simulation builds the nodes from this Terraform.
    cpu = read_cluster(dist, "unit").pool("cpu")
    node = node_objects(cpu, 1, "1.33.0")[0]
    assert node["metadata"]["labels"]["eks.amazonaws.com/capacityType"] == "SPOT"
    assert node["spec"]["taints"] == [{"key": "aiops.example/capacity-type", "value": "spot", "effect": "NoSchedule"}]
    assert read_cluster(dist, "unit").pool("gpu").labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
    facts = {p.name: p for p in pools_of(scan_terraform([dist]))}
    assert (facts["cpu"].spot, facts["cpu"].alternative_instance_types, facts["cpu"].region) == (True, ("c5a.4xlarge", "c6i.4xlarge"), "us-east-1")


def test_aks_spot_pool_with_eviction_and_its_taint(tmp_path):
    template, dist = synthesized(tmp_path, environment(**AZURE))
    pool = template["resource"]["azurerm_kubernetes_cluster_node_pool"]["node_pool_gpu"]
    assert {"priority", "eviction_policy", "spot_max_price", "node_taints", "node_labels"} <= binding_parameters("azurerm_kubernetes_cluster_node_pool")
    assert (pool["priority"], pool["eviction_policy"], pool["spot_max_price"]) == ("Spot", "Delete", -1)
    assert pool["node_taints"] == ["nvidia.com/gpu=true:NoSchedule", "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert pool["node_labels"]["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert "priority" not in template["resource"]["azurerm_kubernetes_cluster"]["cluster"]["default_node_pool"]
    node = node_objects(read_cluster(dist, "unit").pool("gpu"), 1, "1.33.0")[0]
    assert node["metadata"]["labels"]["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"} in node["spec"]["taints"]


def test_gke_spot_pool_and_its_taint(tmp_path):
    template, dist = synthesized(tmp_path, environment(**GCP))
    config = template["resource"]["google_container_node_pool"]["node_pool_gpu"]["node_config"]
    assert config["spot"] is True
    assert {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NO_SCHEDULE"} in config["taint"]
    assert "spot" not in template["resource"]["google_container_node_pool"]["node_pool_cpu"]["node_config"]
    gpu = read_cluster(dist, "unit").pool("gpu")
    node = node_objects(gpu, 1, "1.33.0")[0]
    assert node["metadata"]["labels"]["cloud.google.com/gke-spot"] == "true"
    assert {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"} in node["spec"]["taints"]
    assert node_labels(next(p for p in pools_of(scan_terraform([dist])) if p.name == "cpu")).get("cloud.google.com/gke-spot") is None


def test_the_gpu_operator_and_the_workloads_tolerate_a_spot_gpu_pool(tmp_path):
    from aiops.synth.kubernetes import _spot_tolerations

    env = environment(**AZURE)
    assert _spot_tolerations(env) == ({"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot", "effect": "NoSchedule"},)
    assert _spot_tolerations(environment()) == ()


VALID = """\
name: demo
cloud: aws
region: us-east-1
zones: [us-east-1a, us-east-1b]
kubernetesVersion: "1.33"
costCentre: ml-platform
git: {url: https://github.com/example-org/aiops-gitops.git}
terraformState: {bucket: state, region: us-east-1}
nodePools:
  - name: gpu
    instanceType: p3.2xlarge
    capacityType: spot
    min: 0
    desired: 1
    max: 8
    labels: {workload-type: ml-training}
  - name: cpu
    instanceType: c5.4xlarge
    min: 1
    desired: 1
    max: 3
    labels: {workload-type: general-compute}
workloads:
  teams: [{name: team-a, queues: [gpu-jobs]}]
  queues: [{name: gpu-jobs, pools: [gpu]}]
  ray:
    name: ray
    namespace: team-a
    rayVersion: "2.52.0"
    head: {pool: cpu, image: rayproject/ray:2.52.0-py311-cpu, resources: {cpu: "2", memory: 8Gi}}
    workers: {pool: gpu, image: rayproject/ray:2.52.0-py311-cu124, minReplicas: 0, maxReplicas: 4, resources: {cpu: "4", memory: 16Gi, gpus: 1}}
"""


def errors_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "demo.yaml").write_text(text)
    with pytest.raises(InvalidEnvironment) as caught:
        load_environment(tmp_path / "demo.yaml")
    return [str(e).replace(str(tmp_path) + "/", "") for e in caught.value.errors]


def test_ray_workers_may_run_on_spot_and_the_pool_gets_its_taint(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    env = load_environment(tmp_path / "demo.yaml")
    assert [str(t) for t in env.pool("gpu").taints] == ["nvidia.com/gpu=true:NoSchedule", "aiops.example/capacity-type=spot:NoSchedule"]
    assert env.pool("cpu").taints == [] and not env.pool("cpu").spot


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "head: {pool: cpu,", "head: {pool: gpu,",
            ["demo.yaml:30:18: workloads.ray.head.pool: pool 'gpu' is spot (capacityType: spot) and the Ray head cannot be interrupted\n"
             "    fix: run it on an on-demand pool"],
            id="ray-head-on-spot",
        ),
        pytest.param(
            "minReplicas: 0, maxReplicas: 4, resources: {cpu: \"4\", memory: 16Gi, gpus: 1}}",
            "minReplicas: 0, maxReplicas: 4, interruptible: false, resources: {cpu: \"4\", memory: 16Gi, gpus: 1}}",
            ["demo.yaml:31:21: workloads.ray.workers.pool: pool 'gpu' is spot (capacityType: spot) and the Ray workers cannot be interrupted\n"
             "    fix: run it on an on-demand pool, or set interruptible: true if it checkpoints and resumes"],
            id="workers-that-say-no",
        ),
        pytest.param(
            "    capacityType: spot\n", "    capacityType: spot\n    alternativeInstanceTypes: [g4dn.xlarge]\n",
            ["demo.yaml:13:32: nodePools[0].alternativeInstanceTypes[0]: g4dn.xlarge (4 vCPU, 16 GiB, 1 x T4) is not interchangeable with "
             "p3.2xlarge (8 vCPU, 61 GiB, 1 x V100)\n"
             "    fix: cluster-autoscaler sizes a node group from one of its types, so every type needs the same vCPUs, memory and GPUs; "
             "the catalog has no type like p3.2xlarge; remove it"],
            id="alternative-of-another-shape",
        ),
        pytest.param(
            "    instanceType: c5.4xlarge\n", "    instanceType: c5.4xlarge\n    alternativeInstanceTypes: [c6i.4xlarge]\n",
            ["demo.yaml:19:5: nodePools[1].alternativeInstanceTypes: alternativeInstanceTypes needs capacityType: spot\n"
             "    fix: alternatives let EC2 draw on several spot pools; on demand, one type is priced and launched; set capacityType: spot or remove the list"],
            id="alternatives-on-demand",
        ),
        pytest.param(
            "    capacityType: spot\n", "    capacityType: preemptible\n",
            ["demo.yaml:12:19: nodePools[0].capacityType: must be one of 'onDemand' or 'spot', got the string 'preemptible'\n"
             "    fix: use one of the listed values, spelled exactly"],
            id="unknown-capacity-type",
        ),
    ],
)
def test_each_spot_mistake_has_its_message(tmp_path, old, new, expected):
    assert old in VALID
    assert errors_of(tmp_path, VALID.replace(old, new, 1)) == expected


def test_azure_system_pools_and_alternatives_elsewhere_are_refused():
    from pydantic import ValidationError

    system = {**AZURE["nodePools"][0], "capacityType": "spot"}
    with pytest.raises(ValidationError, match="the AKS system pool cannot be spot"):
        environment(**{**AZURE, "nodePools": [system, AZURE["nodePools"][1]]})
    gpu = {**AZURE["nodePools"][1], "alternativeInstanceTypes": ["Standard_NC4as_T4_v3"]}
    with pytest.raises(ValidationError, match="alternativeInstanceTypes applies to EKS only, not to azure"):
        environment(**{**AZURE, "nodePools": [AZURE["nodePools"][0], gpu]})
