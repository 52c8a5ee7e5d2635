"""The rules about the cloud side (scale-from-zero tags, retired and unknown instance types,
secrets in git, GPU pools left untainted), each fired by the reference dist/ broken, and silent
once fixed."""

from __future__ import annotations

import json
from datetime import date

import yaml

from validate_helpers import edit, of_rule, run_validate, tree, untaint_gpu_inference, write  # noqa: F401 (tree is a fixture)


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
    untaint_gpu_inference(tree)
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
