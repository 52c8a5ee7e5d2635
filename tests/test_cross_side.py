"""The cloud side and the Kubernetes side describe the same node pools.

Both come from the same model objects; this test reads only the synthesized files, the way
`aiops validate` would, and proves for every environment and pool that the labels and taints
the cloud puts on the nodes (Terraform, in each API's spelling) are the ones the Kubernetes
side targets (today the Kueue ResourceFlavors, in Kubernetes spelling).

The one allowed difference is a label the cloud side adds for its own machinery and that no
workload selects on: EKS GPU nodes carry cluster-autoscaler's `k8s.amazonaws.com/accelerator`.
"""

from __future__ import annotations

import pytest

from aiops.tree.manifests import scan_manifests
from aiops.tree.pools import pools_of
from aiops.tree.terraform import scan_terraform
from conftest import REFERENCE_ENVIRONMENTS

# What the cloud side adds: the accelerator label cluster-autoscaler reads on EKS, and the pool's
# name on the per-zone groups of a zonal pool (aiops.model.zonal).
# Labels only the nodes carry: cluster-autoscaler's GPU label, the per-zone groups' pool name, and
# the label that picks the GPU operator's sharing config for a pool with shared GPUs (a node
# setting, not something Kueue matches flavors on).
SHARING_LABELS = {"nvidia.com/device-plugin.config", "nvidia.com/mig.config"}
CLOUD_ADDED_LABELS = {"aws": {"k8s.amazonaws.com/accelerator", "aiops.example/node-pool", *SHARING_LABELS}, "azure": {"aiops.example/node-pool", *SHARING_LABELS}, "gcp": set()}
TEMPLATE = "k8s.io/cluster-autoscaler/node-template/"


@pytest.fixture(scope="module")
def synthesized_tree(reference_synthesis, tmp_path_factory):
    """The reference synthesis as files, for the tree readers."""
    root = tmp_path_factory.mktemp("cross-side")
    for path, data in reference_synthesis.files.items():
        target = root.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def kubernetes_side(root, environment: str) -> dict[str, tuple[dict, set]]:
    """pool name -> (node labels, taints as 'key=value:Effect') of each ResourceFlavor."""
    out = {}
    for manifest in scan_manifests([root / environment]).manifests:
        if manifest.kind == "ResourceFlavor":
            spec = manifest.body["spec"]
            taints = {f"{t['key']}={t.get('value', '')}:{t['effect']}" if t.get("value") else f"{t['key']}:{t['effect']}" for t in spec.get("nodeTaints", [])}
            out[manifest.body["metadata"]["labels"]["aiops.example/node-pool"]] = (spec["nodeLabels"], taints)
    return out


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_each_pool_has_the_same_labels_and_taints_on_both_sides(synthesized_tree, reference_environments, environment):
    model = reference_environments[environment]
    cloud_side = {p.name: p for p in pools_of(scan_terraform([synthesized_tree / environment]))}
    kube_side = kubernetes_side(synthesized_tree, environment)
    assert sorted(cloud_side) == sorted(kube_side) == sorted(p.name for p in model.node_pools)
    for name, pool in cloud_side.items():
        flavor_labels, flavor_taints = kube_side[name]
        added = {k: v for k, v in pool.labels.items() if k not in flavor_labels}
        assert set(added) <= CLOUD_ADDED_LABELS[model.cloud], f"{environment}/{name}: labels only the cloud side has: {added}"
        assert {k: pool.labels[k] for k in flavor_labels} == flavor_labels, f"{environment}/{name}: label values differ"
        assert {str(t) for t in pool.taints} == flavor_taints, f"{environment}/{name}: taints differ"
        # The model is where both came from.
        assert flavor_labels == model.pool(name).labels


@pytest.mark.parametrize("environment", [e for e in REFERENCE_ENVIRONMENTS if e.startswith("aws")])
def test_scale_from_zero_tags_promise_the_same_labels_and_taints(synthesized_tree, environment):
    """On EKS a third copy matters: what cluster-autoscaler is told an empty pool's nodes carry."""
    for pool in pools_of(scan_terraform([synthesized_tree / environment])):
        if pool.min > 0:
            continue
        tags = pool.autoscaler_tags
        labels = {k.removeprefix(f"{TEMPLATE}label/"): v for k, v in tags.items() if k.startswith(f"{TEMPLATE}label/")}
        taints = {f"{k.removeprefix(f'{TEMPLATE}taint/')}={v}".replace("=:", ":") for k, v in tags.items() if k.startswith(f"{TEMPLATE}taint/")}
        assert labels == pool.labels
        assert taints == {str(t) for t in pool.taints}
        assert tags.get(f"{TEMPLATE}resources/nvidia.com/gpu") == (str(pool.gpus_per_node) if pool.gpus_per_node else None)


def _pod_templates(body: dict):
    """Every pod template in an object: Deployments, RayCluster head and worker groups, Dask."""
    spec = body.get("spec") or {}
    if "template" in spec:
        yield spec["template"]
    if "headGroupSpec" in spec:
        yield spec["headGroupSpec"]["template"]
        for group in spec.get("workerGroupSpecs", []):
            yield group["template"]
    for part in ("scheduler", "worker"):
        if part in spec and "spec" in spec[part]:
            yield spec[part]


def _tolerates(tolerations: list[dict], taint) -> bool:
    for toleration in tolerations:
        if toleration.get("key") != taint.key or toleration.get("effect", taint.effect) != taint.effect:
            continue
        if toleration.get("operator") == "Exists" or toleration.get("value", "") == taint.value:
            return True
    return False


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_workload_lands_on_a_pool_the_cloud_creates(synthesized_tree, environment):
    """Each pod's node selector matches the Terraform labels of exactly one pool, whose taints it tolerates."""
    pools = pools_of(scan_terraform([synthesized_tree / environment]))
    placed = 0
    for manifest in scan_manifests([synthesized_tree / environment / "apps"]).manifests:
        for template in _pod_templates(manifest.body):
            pod = template.get("spec") or {}
            selector = pod.get("nodeSelector") or {}
            matches = [p for p in pools if selector and all(p.labels.get(k) == v for k, v in selector.items())]
            assert len(matches) == 1, f"{manifest.describe()}: node selector {selector} matches {[p.name for p in matches]}"
            for taint in matches[0].taints:
                assert _tolerates(pod.get("tolerations") or [], taint), f"{manifest.describe()} does not tolerate {taint} of {matches[0].name}"
            placed += 1
    assert placed > 0


def test_cluster_autoscaler_runs_as_the_service_account_its_role_is_bound_to(synthesized_tree, reference_terraform):
    release = next(
        m for m in scan_manifests([synthesized_tree / "aws-primary" / "infrastructure" / "controllers"]).manifests
        if m.kind == "HelmRelease" and m.name == "cluster-autoscaler"
    )
    association = reference_terraform["aws-primary"]["resource"]["aws_eks_pod_identity_association"]["cluster_autoscaler_pod_identity"]
    assert release.namespace == association["namespace"]
    assert release.body["spec"]["values"]["rbac"]["serviceAccount"]["name"] == association["service_account"]
