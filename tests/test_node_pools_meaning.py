"""What the reference node pools mean on each side: sizes, labels and taints in each API's spelling."""

from __future__ import annotations

import pytest


def _flavors(reference_documents, environment):
    return {o["metadata"]["name"]: o for _, o in reference_documents[environment] if o["kind"] == "ResourceFlavor"}


def test_aws_primary_pools_are_the_designs(reference_environments):
    pools = {p.name: p for p in reference_environments["aws-primary"].node_pools}
    assert {n: (p.instance_type, p.min, p.desired, p.max) for n, p in pools.items()} == {
        "gpu-training": ("p3.2xlarge", 0, 2, 20),
        # The design's 1/3/20; 11 at max since its T4s are time-sliced two ways (environments/aws-primary.yaml).
        "gpu-inference": ("g4dn.xlarge", 1, 3, 11),
        "cpu-compute": ("c5.4xlarge", 2, 5, 50),
    }
    assert pools["gpu-training"].labels == {"workload-type": "ml-training", "gpu-type": "v100"}
    assert [str(t) for t in pools["gpu-training"].taints] == ["nvidia.com/gpu=true:NoSchedule"]
    assert [p.gpu_model("aws") for p in pools.values()] == ["V100", "T4", None]


def test_gpu_training_flavor_carries_the_kubernetes_taint(reference_documents):
    flavor = _flavors(reference_documents, "aws-primary")["gpu-training"]
    assert flavor["spec"] == {
        "nodeLabels": {"workload-type": "ml-training", "gpu-type": "v100"},
        "nodeTaints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        # Kueue adds these to the pods it admits on the flavor: a queued job tolerates the pool's taint without typing it.
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
    }
    # gpu-inference names no taint; GPU pools get this one by default (see the README, gpuTaint).
    assert _flavors(reference_documents, "aws-primary")["gpu-inference"]["spec"]["nodeTaints"] == flavor["spec"]["nodeTaints"]
    assert "nodeTaints" not in _flavors(reference_documents, "aws-primary")["cpu-compute"]["spec"]


def test_eks_node_group_spells_the_taint_no_schedule(reference_terraform):
    groups = reference_terraform["aws-primary"]["resource"]["aws_eks_node_group"]
    training = groups["node_group_gpu_training"]
    assert training["taint"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert training["scaling_config"] == {"min_size": 0, "desired_size": 2, "max_size": 20}
    assert training["instance_types"] == ["p3.2xlarge"]
    assert training["ami_type"] == "AL2023_x86_64_NVIDIA"
    assert groups["node_group_cpu_compute"]["ami_type"] == "AL2023_x86_64_STANDARD"
    assert groups["node_group_gpu_inference_us_east_1a"]["taint"] == training["taint"]  # the default GPU taint
    assert "taint" not in groups["node_group_cpu_compute"]


def test_aks_and_gke_spell_taints_their_way(reference_terraform):
    aks = reference_terraform["azure-dr"]["resource"]["azurerm_kubernetes_cluster_node_pool"]["node_pool_gpu1"]
    assert aks["node_taints"] == ["nvidia.com/gpu=true:NoSchedule"]
    assert (aks["vm_size"], aks["min_count"], aks["node_count"], aks["max_count"]) == ("Standard_NC8as_T4_v3", 1, 1, 7)  # zone 1's share of 2 / 2 / 20
    gke = reference_terraform["gcp-burst"]["resource"]["google_container_node_pool"]["node_pool_gpu_t4"]
    assert gke["node_config"]["taint"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
                                           {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NO_SCHEDULE"}]  # a spot pool
    assert gke["node_config"]["spot"] is True
    assert gke["node_config"]["guest_accelerator"] == [{"type": "nvidia-tesla-t4", "count": 1, "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}]
    assert gke["autoscaling"] == {"total_min_node_count": 0, "total_max_node_count": 16}


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_stack_has_a_remote_backend(reference_terraform, environment):
    backend = reference_terraform[environment]["terraform"]["backend"]
    assert list(backend) == [{"aws-primary": "s3", "azure-dr": "azurerm", "gcp-burst": "gcs"}[environment]]
