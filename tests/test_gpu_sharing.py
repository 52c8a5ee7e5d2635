"""GPU sharing: time slices and MIG instances from the pool model, through the GPU operator's
chart values, the node labels that pick its config, the Kueue quotas, the workload requests,
the simulation's nodes and the cost per GPU-hour; and the model's refusals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from aiops.cost.pools import pool_costs
from aiops.model.errors import InvalidEnvironment
from aiops.model.loader import load_environment
from aiops.simulate.nodes import node_objects, read_cluster
from aiops.synth.kubernetes import synthesize_kubernetes
from aiops.tree.terraform import scan_terraform
from constructs_fixtures import environment
from test_spot import AZURE, synthesized

MIG_POOLS = [
    {"name": "a100", "instanceType": "p4d.24xlarge", "gpuSharing": {"mig": "1g.5gb"}, "min": 0, "desired": 1, "max": 2,
     "labels": {"workload-type": "ml-training"}},
    {"name": "cpu", "instanceType": "c5.4xlarge", "min": 1, "desired": 1, "max": 3, "labels": {"workload-type": "general-compute"}},
]
MIG_WORKLOADS = {
    "teams": [{"name": "team-a", "queues": ["gpu-jobs"]}],
    "queues": [{"name": "gpu-jobs", "pools": ["a100"]}],
    "training": {
        "name": "trainer", "namespace": "team-a", "pool": "a100", "image": "example.com/trainer:1.2.3",
        "resources": {"cpu": "4", "memory": "16Gi", "gpus": 1},
        "autoscaling": {"minReplicas": 1, "maxReplicas": 8, "cpuUtilization": 70},
    },
}
TIME_SLICED = {**AZURE, "nodePools": [AZURE["nodePools"][0], {**AZURE["nodePools"][1], "capacityType": "onDemand", "gpuSharing": {"timeSlicing": 4}}]}


def documents(files: dict, name: str) -> list[dict]:
    path = next(p for p in files if p.name == name)
    return [d for d in yaml.safe_load_all(files[path]) if d]


def test_mig_on_an_a100_pool_end_to_end(tmp_path):
    env = environment(nodePools=MIG_POOLS, workloads=MIG_WORKLOADS)
    capacity = __import__("aiops.model.capacity", fromlist=["node_capacity"]).node_capacity("aws", env.pool("a100"))
    # 8 A100s x 7 instances of 1g.5gb (the catalog's count for that profile) = 56 per node
    assert (capacity.gpus, capacity.gpu_resource, capacity.physical_gpus) == (56, "nvidia.com/mig-1g.5gb", 8)
    files = synthesize_kubernetes([env], tmp_path / "cdk8s.out")
    release = next(d for d in documents(files, "gpu-operator.yaml") if d["kind"] == "HelmRelease")
    values = release["spec"]["values"]
    assert values["mig"] == {"strategy": "mixed"}  # MIG instances advertised as nvidia.com/mig-<profile>
    mig = values["migManager"]["config"]
    assert (mig["create"], mig["name"], mig["default"]) == (True, "aiops-mig-parted-config", "all-disabled")
    assert yaml.safe_load(mig["data"]["config.yaml"]) == {"version": "v1", "mig-configs": {
        "all-disabled": [{"devices": "all", "mig-enabled": False}],
        "all-1g.5gb": [{"devices": "all", "mig-enabled": True, "mig-devices": {"1g.5gb": 7}}],
    }}
    assert yaml.safe_load(values["devicePlugin"]["config"]["data"]["default"]) == {"version": "v1", "flags": {"migStrategy": "mixed"}}
    trainer = next(d for d in documents(files, "training-workers.yaml") if d["kind"] == "Deployment")
    resources = trainer["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/mig-1g.5gb"] == resources["limits"]["nvidia.com/mig-1g.5gb"] == "1"
    assert "nvidia.com/gpu" not in resources["requests"]
    queue = next(d for d in documents(files, "queues.yaml") if d["kind"] == "ClusterQueue")
    group = queue["spec"]["resourceGroups"][0]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/mig-1g.5gb"]
    quota = {r["name"]: r["nominalQuota"] for r in group["flavors"][0]["resources"]}
    assert quota["nvidia.com/mig-1g.5gb"] == "112"  # 2 nodes x 56
    # The Terraform labels the nodes for the MIG manager; the simulation's nodes advertise the instances.
    template, dist = synthesized(tmp_path, env)
    group_tf = template["resource"]["aws_eks_node_group"]["node_group_a100"]
    assert group_tf["labels"]["nvidia.com/mig.config"] == "all-1g.5gb"
    node = node_objects(read_cluster(dist, "unit").pool("a100"), 1, "1.33.0")[0]
    assert node["status"]["allocatable"]["nvidia.com/mig-1g.5gb"] == node["status"]["capacity"]["nvidia.com/mig-1g.5gb"] == "56"
    assert "nvidia.com/gpu" not in node["status"]["allocatable"]
    # Cost per GPU-hour: one MIG instance is 21.957642 / 56 = 0.39210075 USD an hour (on demand, us-east-1).
    cost = next(c for c in pool_costs(scan_terraform([dist])) if c.pool == "a100")
    assert (cost.gpu_resource, cost.gpu_units_per_node) == ("nvidia.com/mig-1g.5gb", 56)
    assert cost.usd_per_gpu_hour == Decimal("21.957642") / 56 == Decimal("0.39210075")


def test_time_slicing_on_an_aks_inference_pool(tmp_path):
    env = environment(**TIME_SLICED)
    files = synthesize_kubernetes([env], tmp_path / "cdk8s.out")
    values = next(d for d in documents(files, "gpu-operator.yaml") if d["kind"] == "HelmRelease")["spec"]["values"]
    plugin = values["devicePlugin"]["config"]
    assert (plugin["create"], plugin["name"], plugin["default"]) == (True, "aiops-device-plugin-config", "default")
    assert yaml.safe_load(plugin["data"]["replicas-4"]) == {
        "version": "v1", "flags": {"migStrategy": "none"},
        "sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}},
    }
    assert "mig" not in values and "migManager" not in values
    template, dist = synthesized(tmp_path, env)
    pool = template["resource"]["azurerm_kubernetes_cluster_node_pool"]["node_pool_gpu"]
    assert pool["node_labels"]["nvidia.com/device-plugin.config"] == "replicas-4"
    node = node_objects(read_cluster(dist, "unit").pool("gpu"), 1, "1.33.0")[0]
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "4"  # 1 T4 x 4 slices
    # 0.752 USD an hour for the node, 4 slices: 0.188 per slice-hour
    cost = next(c for c in pool_costs(scan_terraform([dist])) if c.pool == "gpu")
    assert (cost.gpu_units_per_node, cost.usd_per_gpu_hour) == (4, Decimal("0.188"))


def test_gke_time_sharing_is_gkes_own(tmp_path):
    from test_spot import GCP

    pools = [GCP["nodePools"][0], {**GCP["nodePools"][1], "capacityType": "onDemand", "gpuSharing": {"timeSlicing": 2}}]
    template, dist = synthesized(tmp_path, environment(**{**GCP, "nodePools": pools}))
    accelerator = template["resource"]["google_container_node_pool"]["node_pool_gpu"]["node_config"]["guest_accelerator"][0]
    assert accelerator["gpu_sharing_config"] == {"gpu_sharing_strategy": "TIME_SHARING", "max_shared_clients_per_gpu": 2}
    node = node_objects(read_cluster(dist, "unit").pool("gpu"), 1, "1.33.0")[0]
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "2"
    labels = node["metadata"]["labels"]  # what GKE labels time-shared nodes with (aiops.model.gpu_sharing)
    assert (labels["cloud.google.com/gke-gpu-sharing-strategy"], labels["cloud.google.com/gke-max-shared-clients-per-gpu"]) == ("time-sharing", "2")


GKE_MIG_POOLS = [
    {"name": "cpu", "instanceType": "e2-standard-4", "min": 1, "desired": 1, "max": 2, "labels": {"workload-type": "general-compute"}},
    {"name": "a100", "instanceType": "a2-highgpu-1g", "gpu": {"type": "nvidia-tesla-a100", "count": 1}, "gpuSharing": {"mig": "1g.5gb"},
     "min": 0, "desired": 1, "max": 3, "labels": {"workload-type": "ml-training"}},
]


def test_mig_on_gke_is_gkes_own_partitioning(tmp_path):
    """GKE cuts the A100 itself (guest_accelerator.gpu_partition_size) and its device plugin offers
    each of the 7 partitions of 1g.5gb as one nvidia.com/gpu: no GPU operator, no MIG manager."""
    from cdktn_provider_google.container_node_pool import ContainerNodePoolNodeConfigGuestAccelerator
    from test_spot import GCP

    env = environment(**{**GCP, "nodePools": GKE_MIG_POOLS, "workloads": MIG_WORKLOADS})
    capacity = __import__("aiops.model.capacity", fromlist=["node_capacity"]).node_capacity("gcp", env.pool("a100"))
    assert (capacity.gpus, capacity.gpu_resource, capacity.physical_gpus) == (7, "nvidia.com/gpu", 1)
    template, dist = synthesized(tmp_path, env)
    assert "gpu_partition_size" in __import__("inspect").signature(ContainerNodePoolNodeConfigGuestAccelerator.__init__).parameters
    accelerator = template["resource"]["google_container_node_pool"]["node_pool_a100"]["node_config"]["guest_accelerator"][0]
    assert (accelerator["type"], accelerator["count"], accelerator["gpu_partition_size"]) == ("nvidia-tesla-a100", 1, "1g.5gb")
    assert "gpu_sharing_config" not in accelerator
    files = synthesize_kubernetes([env], tmp_path / "cdk8s.out")
    assert not [p for p in files if p.name == "gpu-operator.yaml"]  # GKE's own driver and device plugin
    trainer = next(d for d in documents(files, "training-workers.yaml") if d["kind"] == "Deployment")
    resources = trainer["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "1"  # one partition
    assert not [k for k in resources["requests"] if k.startswith("nvidia.com/mig-")]
    queue = next(d for d in documents(files, "queues.yaml") if d["kind"] == "ClusterQueue")
    group = queue["spec"]["resourceGroups"][0]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
    assert {r["name"]: r["nominalQuota"] for r in group["flavors"][0]["resources"]}["nvidia.com/gpu"] == "21"  # 3 nodes x 7
    # The simulation's nodes: labelled by GKE with the partition size, 7 nvidia.com/gpu each.
    node = node_objects(read_cluster(dist, "unit").pool("a100"), 1, "1.33.0")[0]
    assert node["metadata"]["labels"]["cloud.google.com/gke-gpu-partition-size"] == "1g.5gb"
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == node["status"]["capacity"]["nvidia.com/gpu"] == "7"
    # Cost per GPU-hour: the A2 price holds its A100 (no accelerator line): 3.673385 / 7 = 0.524769 USD
    # an hour per partition on demand, 1.102016 / 7 = 0.157431 spot (us-central1).
    cost = next(c for c in pool_costs(scan_terraform([dist])) if c.pool == "a100")
    assert [part.item for part in cost.prices] == ["a2-highgpu-1g"]
    assert (cost.gpu_resource, cost.gpu_units_per_node) == ("nvidia.com/gpu", 7)
    assert cost.usd_per_gpu_hour == Decimal("3.673385") / 7 and cost.usd_per_gpu_hour.quantize(Decimal("0.000001")) == Decimal("0.524769")
    assert (cost.hourly_for("spot") / 7).quantize(Decimal("0.000001")) == Decimal("0.157431")


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
    gpuSharing: {timeSlicing: 2}
    min: 0
    desired: 1
    max: 4
    labels: {workload-type: ml-training}
"""


def errors_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "demo.yaml").write_text(text)
    with pytest.raises(InvalidEnvironment) as caught:
        load_environment(tmp_path / "demo.yaml")
    return [str(e).replace(str(tmp_path) + "/", "") for e in caught.value.errors]


def test_time_slicing_is_accepted(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    assert load_environment(tmp_path / "demo.yaml").pool("gpu").advertised("aws").per_node(1) == 2


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            "gpuSharing: {mig: 1g.5gb}",
            ["demo.yaml:12:23: nodePools[0].gpuSharing.mig: the V100 GPUs of p3.2xlarge have no MIG profiles\n"
             "    fix: MIG partitions A100 and H100 GPUs (in the aws catalog: p4d.24xlarge); share this GPU with timeSlicing instead"],
            id="mig-on-a-v100",
        ),
        pytest.param(
            "gpuSharing: {timeSlicing: 2, mig: 1g.5gb}",
            ["demo.yaml:12:5: nodePools[0].gpuSharing: give either timeSlicing or mig\n"
             "    fix: timeSlicing: N shares each GPU N ways; mig: <profile> partitions it"],
            id="both",
        ),
        pytest.param(
            "gpuSharing: {timeSlicing: 1}",
            ["demo.yaml:12:31: nodePools[0].gpuSharing.timeSlicing: input should be greater than or equal to 2, got 1\n    fix: change the number"],
            id="one-slice",
        ),
    ],
)
def test_each_sharing_mistake_has_its_message(tmp_path, new, expected):
    assert errors_of(tmp_path, VALID.replace("gpuSharing: {timeSlicing: 2}", new)) == expected


def test_a_mig_profile_the_gpu_lacks_and_sharing_without_a_gpu(tmp_path):
    text = VALID.replace("instanceType: p3.2xlarge", "instanceType: p4d.24xlarge").replace("gpuSharing: {timeSlicing: 2}", "gpuSharing: {mig: 1g.10gb}")
    assert errors_of(tmp_path, text) == [
        "demo.yaml:12:23: nodePools[0].gpuSharing.mig: '1g.10gb' is not a MIG profile of the A100 of p4d.24xlarge\n"
        "    fix: its profiles: 1g.5gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb"]
    text = VALID.replace("instanceType: p3.2xlarge", "instanceType: c5.4xlarge")
    assert errors_of(tmp_path, text) == [
        "demo.yaml:12:5: nodePools[0].gpuSharing: c5.4xlarge has no GPU to share\n    fix: remove gpuSharing, or choose a GPU instance type"]


GKE_VALID = """\
name: demo
cloud: gcp
region: us-central1
zones: [us-central1-a, us-central1-b]
kubernetesVersion: "1.33"
costCentre: ml-platform
gcpProject: demo-project
git: {url: https://github.com/example-org/aiops-gitops.git}
terraformState: {bucket: state}
nodePools:
  - name: a100
    instanceType: a2-highgpu-1g
    gpu: {type: nvidia-tesla-a100, count: 1}
    gpuSharing: {mig: 1g.5gb}
    min: 0
    desired: 1
    max: 4
    labels: {workload-type: ml-training}
"""


def test_a_gke_mig_pool_is_accepted(tmp_path):
    (tmp_path / "demo.yaml").write_text(GKE_VALID)
    pool = load_environment(tmp_path / "demo.yaml").pool("a100")
    assert (pool.advertised("gcp").resource, pool.advertised("gcp").per_node(1)) == ("nvidia.com/gpu", 7)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "instanceType: a2-highgpu-1g\n    gpu: {type: nvidia-tesla-a100, count: 1}", "instanceType: n1-standard-4\n    gpu: {type: nvidia-tesla-t4, count: 1}",
            ["demo.yaml:14:23: nodePools[0].gpuSharing.mig: the T4 GPUs of n1-standard-4 have no MIG profiles\n"
             "    fix: MIG partitions A100 and H100 GPUs (in the gcp catalog: a2-highgpu-1g); share this GPU with timeSlicing instead"],
            id="mig-on-a-t4",
        ),
        pytest.param(
            "gpuSharing: {mig: 1g.5gb}", "gpuSharing: {mig: 4g.20gb}",
            ["demo.yaml:14:23: nodePools[0].gpuSharing.mig: '4g.20gb' is not a MIG profile of the A100 of a2-highgpu-1g\n"
             "    fix: its profiles: 1g.5gb, 2g.10gb, 3g.20gb, 7g.40gb"],
            id="a-profile-gke-does-not-make",
        ),
        pytest.param(
            "count: 1}", "count: 2}",
            ["demo.yaml:13:43: nodePools[0].gpu.count: a2-highgpu-1g comes with 1 x nvidia-tesla-a100, not 2\n"
             "    fix: set count to 1, or choose the a2 machine type with 2 GPU(s)"],
            id="an-a2-with-another-gpu-count",
        ),
    ],
)
def test_each_gke_mig_mistake_has_its_message(tmp_path, old, new, expected):
    assert old in GKE_VALID
    assert errors_of(tmp_path, GKE_VALID.replace(old, new)) == expected
