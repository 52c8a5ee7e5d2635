"""The simulated nodes: each cloud's reservation formula, and pools as Kubernetes sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from aiops.model.allocatable import MIB, node_resources
from aiops.simulate.binaries import MissingBinary, control_plane_dir
from aiops.simulate.nodes import GPU, POOL_LABEL, ClusterError, node_objects, read_cluster


@pytest.mark.parametrize(
    ("cloud", "instance", "vcpu", "memory_gib", "cpu_reserved", "memory_reserved_mib", "pods"),
    [
        # EKS: 60 + 10 + 5 + 5 + 4 x 2.5 = 90m; 11 x 58 + 255 = 893 MiB; + 100 MiB eviction
        ("aws", "p3.2xlarge", 8, 61, 90, 893 + 100, 58),
        # 60 + 10 + 5 + 5 = 80m; 11 x 29 + 255 = 574 MiB
        ("aws", "g4dn.xlarge", 4, 16, 80, 574 + 100, 29),
        # 16 cores: 80 + 12 x 2.5 = 110m; 11 x 234 + 255 = 2829 MiB
        ("aws", "c5.4xlarge", 16, 32, 110, 2829 + 100, 234),
        # AKS: 4 cores 140m; min(20 x 250 + 50, 25 % of 16 GiB = 4096) MiB
        ("azure", "Standard_D4s_v5", 4, 16, 140, 4096 + 100, 250),
        # 8 cores 180m; min(5050, 25 % of 56 GiB = 14336) MiB
        ("azure", "Standard_NC8as_T4_v3", 8, 56, 180, 5050 + 100, 250),
        # GKE: 25 % of 4 GiB + 20 % of 4 GiB + 10 % of 8 GiB = 2662.4 MiB
        ("gcp", "e2-standard-4", 4, 16, 80, 2662 + 100, 110),
    ],
)
def test_each_clouds_documented_reservation(cloud, instance, vcpu, memory_gib, cpu_reserved, memory_reserved_mib, pods):
    resources = node_resources(cloud, instance, vcpu, memory_gib, 0)
    assert resources.reserved_cpu_millis == cpu_reserved
    assert resources.reserved_memory_bytes // MIB == memory_reserved_mib
    assert resources.max_pods == pods
    assert resources.allocatable_cpu_millis == vcpu * 1000 - cpu_reserved


def test_a_pools_own_max_pods_changes_the_reservation():
    assert node_resources("azure", "Standard_D4s_v5", 4, 16, 0, max_pods=30).reserved_memory_bytes // MIB == 20 * 30 + 50 + 100


def test_aws_primary_nodes_as_the_cluster_sees_them():
    cluster = read_cluster(REPO / "dist", "aws-primary")
    assert cluster.cloud == "aws"
    assert cluster.kubernetes_version == "1.36"
    training = cluster.pool("gpu-training")
    assert training.zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    nodes = node_objects(training, 4, "1.36.3")
    assert [n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes] == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"]
    node = nodes[0]
    labels = node["metadata"]["labels"]
    assert labels["eks.amazonaws.com/nodegroup"] == "gpu-training"
    assert labels["node.kubernetes.io/instance-type"] == "p3.2xlarge"
    assert labels["topology.kubernetes.io/region"] == "us-east-1"
    assert labels[POOL_LABEL] == "gpu-training"
    assert node["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert node["status"]["capacity"][GPU] == node["status"]["allocatable"][GPU] == "1"
    assert node["status"]["allocatable"]["cpu"] == "7910m"
    assert "nvidia.com/gpu" not in node_objects(cluster.pool("cpu-compute"), 1, "1.36.3")[0]["status"]["capacity"]


def test_gke_gpu_pools_carry_the_taint_gke_adds_and_aks_zones_are_region_numbered():
    gke = read_cluster(REPO / "dist", "gcp-burst").pool("gpu-t4")
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in gke.taints
    assert node_objects(gke, 1, "1.36.3")[0]["metadata"]["labels"]["cloud.google.com/gke-accelerator"] == "nvidia-tesla-t4"
    aks = read_cluster(REPO / "dist", "azure-dr").pool("gpu")
    assert aks.zones == ("eastus-1", "eastus-2", "eastus-3")
    assert node_objects(aks, 1, "1.36.3")[0]["metadata"]["labels"]["kubernetes.azure.com/mode"] == "user"


def test_a_tree_without_terraform_is_refused_with_where_it_looked(tmp_path: Path):
    (tmp_path / "demo").mkdir()
    with pytest.raises(ClusterError, match=r"demo/terraform does not exist: the simulation takes its node pools from the environment's Terraform"):
        read_cluster(tmp_path, "demo")


def test_a_minor_the_module_proxy_does_not_serve_names_the_ones_it_does():
    with pytest.raises(MissingBinary) as error:
        control_plane_dir("1.33")
    assert str(error.value).startswith("Kubernetes 1.33 cannot be simulated: the Go module proxy serves k8s.io/kubernetes 1.34, 1.35, 1.36, 1.37 only")
    assert "move the environment's kubernetesVersion to one of those" in str(error.value)


def test_a_served_minor_that_is_not_pinned_says_how_to_add_it():
    with pytest.raises(MissingBinary, match=r"Kubernetes 1.35 is not pinned for simulation \(tools/kubernetes/ pins 1.36, built: 1.36\); add tools/kubernetes/1.35 like tools/kubernetes/1.36"):
        control_plane_dir("1.35")
