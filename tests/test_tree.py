"""Reading trees of files: manifests with their lines, Terraform resources, node pools."""

from __future__ import annotations

import math
from pathlib import Path

from aiops.model.gpu_sharing import node_labels as sharing_labels
from aiops.model.zonal import POOL_LABEL, zonal_pools
from aiops.tree.manifests import scan_manifests
from aiops.tree.pools import PoolTaint, pools_of
from aiops.tree.terraform import scan_terraform
from conftest import REPO


def test_pools_read_from_terraform_match_the_model(reference_environments, monkeypatch):
    monkeypatch.chdir(REPO)
    pools = {(p.environment, p.name): p for p in pools_of(scan_terraform([Path("dist")]))}
    expected = {(e.name, p.name) for e in reference_environments.values() for p in e.node_pools}
    assert set(pools) == expected
    for environment in reference_environments.values():
        for pool in environment.node_pools:
            facts = pools[(environment.name, pool.name)]
            # GKE starts the same number of nodes in every zone: enough for `desired`, rounded up.
            zones = len(environment.zones)
            desired = math.ceil(pool.desired / zones) * zones if environment.cloud == "gcp" else pool.desired
            assert (facts.instance_type, facts.min, facts.desired, facts.max) == (pool.instance_type, pool.min, desired, pool.max)
            # EKS GPU nodes also carry cluster-autoscaler's GPU label.
            model = pool.gpu_model("aws") if environment.cloud == "aws" else None
            accelerator = {"k8s.amazonaws.com/accelerator": f"nvidia-tesla-{model.lower()}"} if model else {}
            # A pool built as one group per zone carries the pool's name on every group (aiops.model.zonal).
            zonal = {POOL_LABEL: pool.name} if pool.name in zonal_pools(environment) else {}
            # A pool with shared GPUs carries the node label that picks the GPU operator's config (aiops.model.gpu_sharing).
            sharing = sharing_labels(*pool.sharing()) if environment.cloud != "gcp" else {}
            assert facts.labels == pool.labels | accelerator | zonal | sharing
            assert len(facts.zone_groups) == (len(environment.zones) if zonal else 0)
            assert facts.taints == tuple(PoolTaint(t.key, t.value, t.effect) for t in pool.taints)
            assert facts.gpus_per_node == pool.gpu_count(environment.cloud)
    assert pools[("gcp-burst", "gpu-t4")].hourly_price("onDemand") == 0.19 + 0.35
    assert pools[("gcp-burst", "gpu-t4")].hourly_price() == 0.04 + 0.11  # the pool is spot: its own price is the spot one
    assert pools[("gcp-burst", "cpu-system")].desired == 3  # one per zone in us-central1-a, -b, -c
    assert pools[("aws-primary", "gpu-inference")].zone_groups == tuple(
        f"aws_eks_node_group.node_group_gpu_inference_us_east_1{zone}" for zone in "abc"
    )
    assert pools[("azure-dr", "gpu")].zone_groups == tuple(f"azurerm_kubernetes_cluster_node_pool.node_pool_gpu{n}" for n in (1, 2, 3))


def test_autoscaler_tags_are_read_from_the_autoscaling_group_and_cost_tags_are_not(monkeypatch):
    monkeypatch.chdir(REPO)
    pools = {p.name: p for p in pools_of(scan_terraform([Path("dist/aws-primary")]))}
    # Node-template tags only: the discovery tags are EKS's own, not in the stack.
    assert pools["gpu-training"].autoscaler_tags == {
        "k8s.io/cluster-autoscaler/node-template/label/workload-type": "ml-training",
        "k8s.io/cluster-autoscaler/node-template/label/gpu-type": "v100",
        "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": "nvidia-tesla-v100",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
    }
    # Pools that never scale to zero get only the cost tags on their group, which are not autoscaler tags.
    assert pools["cpu-compute"].autoscaler_tags == {}
    # A pool of per-zone groups has the tags of the groups that may be empty (min 1 over 3 zones: two).
    assert pools["gpu-inference"].autoscaler_tags["k8s.io/cluster-autoscaler/node-template/label/aiops.example/node-pool"] == "gpu-inference"


def test_manifests_carry_file_line_and_environment(monkeypatch):
    monkeypatch.chdir(REPO)
    tree = scan_manifests([Path("dist/aws-primary")])
    assert tree.problems == []
    flavor = next(m for m in tree.manifests if m.kind == "ResourceFlavor" and m.name == "gpu-training")
    assert (flavor.file, flavor.line, flavor.environment) == ("dist/aws-primary/infrastructure/configs/node-pools.yaml", 2, "aws-primary")
    assert flavor.key == ("kueue.x-k8s.io", "ResourceFlavor", "", "gpu-training")
    assert {path for path, _ in tree.kustomize_files} >= {"dist/aws-primary/cluster/kustomization.yaml"}


def test_what_is_not_a_manifest_becomes_a_problem(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("binary.yaml").write_bytes(b"\x00\x01\x02")
    Path("broken.yaml").write_text("a: [1\n")
    Path("values.yaml").write_text("replicas: 3\n")
    Path("empty.yaml").write_text("--- ~\n")
    Path("ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    tree = scan_manifests([tmp_path])
    assert [(p.file, p.line, p.kind) for p in tree.problems] == [
        ("binary.yaml", None, "binary"),
        ("broken.yaml", 2, "unparsable"),
        ("empty.yaml", 1, "empty-document"),
        ("values.yaml", 1, "not-kubernetes"),
    ]
    assert [m.describe() for m in tree.manifests] == ["ConfigMap/x"]


def test_flux_kustomizations_and_the_files_they_apply(monkeypatch):
    from aiops.tree.flux import flux_kustomizations, owner_of

    monkeypatch.chdir(REPO)
    kustomizations = flux_kustomizations(scan_manifests([Path("dist/aws-primary")]).manifests)
    by_name = {k.name: k for k in kustomizations}
    assert str(by_name["flux-system"].folder) == "dist/aws-primary/cluster"
    assert owner_of("dist/aws-primary/infrastructure/configs/node-pools.yaml", kustomizations).name == "infra-configs"
    assert owner_of("dist/aws-primary/cluster/flux-system/gotk-sync.yaml", kustomizations).name == "flux-system"
    assert owner_of("environments/aws-primary.yaml", kustomizations) is None


def _kustomization(name: str, *depends: str, **spec):
    from aiops.tree.flux import flux_kustomization
    from aiops.tree.manifests import Manifest

    body = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"path": f"./{name}", "prune": True, "dependsOn": [{"name": d} for d in depends], **spec}}
    return flux_kustomization(Manifest(f"{name}.yaml", 0, 1, body))


def test_flux_kustomization_reads_what_ordering_and_pruning_need():
    k = _kustomization("apps", "infra-configs", wait=False, targetNamespace="ml",
                       postBuild={"substitute": {"A": "1"}}, deletionPolicy="Orphan",
                       healthChecks=[{"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "name": "kueue", "namespace": "kueue-system"}])
    assert k.depends_on == (("flux-system", "infra-configs"),)
    assert (k.target_namespace, k.post_build, k.deletion_policy) == ("ml", {"substitute": {"A": "1"}}, "Orphan")
    assert k.checks_health_of("helm.toolkit.fluxcd.io", "HelmRelease", "kueue-system", "kueue")
    assert not k.checks_health_of("helm.toolkit.fluxcd.io", "HelmRelease", "ray-system", "kuberay-operator")
    assert not k.deletes_on_removal  # Orphan wins over prune: true
    assert _kustomization("configs").deletes_on_removal  # MirrorPrune follows prune: true
    assert _kustomization("configs").post_build is None  # no postBuild: Flux runs no substitution


def test_dependency_order_waves_unknown_names_and_cycles():
    from aiops.tree.flux import dependency_order

    controllers, configs, apps = _kustomization("controllers"), _kustomization("configs", "controllers"), _kustomization("apps", "configs")
    waves, problems = dependency_order([apps, configs, controllers])
    assert [[k.name for k in wave] for wave in waves] == [["controllers"], ["configs"], ["apps"]]
    assert problems == []

    a, b, c = _kustomization("a", "b"), _kustomization("b", "c"), _kustomization("c", "a")
    typo = _kustomization("d", "controlers")
    waves, problems = dependency_order([a, b, c, typo, _kustomization("after-cycle", "a")])
    assert waves == []  # all of them wait forever
    assert [(p.kind, p.kustomization.name, [n for _, n in p.names]) for p in problems] == [
        ("unknown", "d", ["controlers"]),
        ("cycle", "a", ["a", "b", "c"]),
    ]


def test_the_catalog_reader_refuses_a_malformed_entry():
    """The catalog is read without pydantic (cheap for validate and diff), but just as strictly."""
    import pytest

    from aiops.model.catalog import CatalogError, parse_catalog

    good = {"hoursPerMonth": 730, "clouds": {"aws": {"instanceTypes": {"x.large": {
        "vcpu": 2, "memoryGiB": 8, "price": {"hourlyUSD": 0.1, "region": "us-east-1", "source": "s", "date": "2026-11"}}}}}}
    assert parse_catalog(good).instance_type("aws", "x.large").price.hourly_usd == 0.1
    entry = good["clouds"]["aws"]["instanceTypes"]["x.large"]
    for change, message in (
        ({"vcpus": 2}, "clouds.aws.instanceTypes.x.large: unknown key(s) vcpus; allowed: vcpu, memoryGiB, price, gpu, retirement"),
        ({"vcpu": "2"}, "clouds.aws.instanceTypes.x.large.vcpu: expected a positive whole number, got '2'"),
        ({"gpu": {"model": "T4", "count": 1}}, "clouds.aws.instanceTypes.x.large.gpu: missing key memoryGiB"),
    ):
        broken = {**good, "clouds": {"aws": {"instanceTypes": {"x.large": {**entry, **change}}}}}
        with pytest.raises(CatalogError) as caught:
            parse_catalog(broken)
        assert str(caught.value) == f"instance_types.yaml: {message}"


def test_files_in_memory_read_like_files_on_disk(tmp_path, monkeypatch):
    """Revisions are read into memory; the in-memory readers must see exactly what the disk readers see."""
    import shutil

    from aiops.synth.dist_tree import read_tree
    from aiops.tree.manifests import scan_manifest_files
    from aiops.tree.terraform import scan_terraform_files

    shutil.copytree(REPO / "dist", tmp_path / "dist")
    (tmp_path / "dist/aws-primary/apps/broken.yaml").write_bytes(b"a: [1\n")
    monkeypatch.chdir(tmp_path)
    files = {f"dist/{path}": data for path, data in read_tree(Path("dist")).items()}
    on_disk = scan_manifests([Path("dist")])
    on_disk_terraform = scan_terraform([Path("dist")])
    in_memory = scan_manifest_files(files, parsed := {})
    def objects(tree):
        return sorted(((m.file, m.index, m.line, m.key, m.body) for m in tree.manifests), key=lambda o: o[:2])

    assert objects(in_memory) == objects(on_disk)
    assert len(in_memory.manifests) > 100  # the whole reference dist/
    assert in_memory.problems == on_disk.problems == [on_disk.problems[0]]
    assert sorted(in_memory.kustomize_files) == sorted(on_disk.kustomize_files)
    # a second tree sharing the files is parsed from the cache: the very same objects
    again = scan_manifest_files(dict(files), parsed)
    assert all(a.body is b.body for a, b in zip(again.manifests, in_memory.manifests))
    terraform = scan_terraform_files(files)
    assert [(r.file, r.address, r.line) for r in terraform.resources] == [(r.file, r.address, r.line) for r in on_disk_terraform.resources]


def test_terraform_resources_carry_the_line_of_their_block(monkeypatch):
    monkeypatch.chdir(REPO)
    tree = scan_terraform([Path("dist/aws-primary")])  # the eks stack and the traffic stack
    assert {r.file for r in tree.resources} == {"dist/aws-primary/terraform/eks/cdk.tf.json", "dist/aws-primary/terraform/traffic/cdk.tf.json"}
    for resource in tree.resources:
        lines = Path(resource.file).read_text().splitlines()
        assert lines[resource.line - 1].strip() == f'"{resource.name}": {{', resource.address


def test_node_prices_come_part_by_part_from_the_catalog(monkeypatch):
    monkeypatch.chdir(REPO)
    pools = {(p.environment, p.name): p for p in pools_of(scan_terraform([Path("dist")]))}
    gke = pools[("gcp-burst", "gpu-t4")]
    assert [(part.item, part.count, part.price.hourly_usd, part.price.region) for part in gke.price_parts("onDemand")] == [
        ("n1-standard-4", 1, 0.19, "us-central1"), ("nvidia-tesla-t4", 1, 0.35, "us-central1")]
    # gpu-t4 is spot: its own prices are the preemptible ones, each with its source.
    assert [(part.item, part.price.hourly_usd, part.price.source.rsplit("(", 1)[1]) for part in gke.price_parts()] == [
        ("n1-standard-4", 0.04, "preemptiblePrices)"), ("nvidia-tesla-t4", 0.11, "preemptibleGpuPrices)")]
    assert [part.item for part in pools[("aws-primary", "gpu-training")].price_parts()] == ["p3.2xlarge"]
    assert pools[("aws-primary", "gpu-training")].price_parts("spot") is None  # the catalog has no EC2 spot price: never another's


def test_a_revision_reads_the_committed_blobs_of_regular_files_only(tmp_path):
    """Real git: what was committed, byte for byte (not what `git archive` would export), and no
    symlink or file outside the folder."""
    import subprocess

    from aiops.tree.git import files_at_revision, files_at_revisions

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "--quiet")
    (tmp_path / "dist" / "a b").mkdir(parents=True)
    (tmp_path / "dist" / "a b" / "x.yaml").write_bytes(b"kind: A\n# $Format:%H$\n")
    (tmp_path / "dist" / "empty.yaml").write_bytes(b"")
    (tmp_path / "dist" / "link.yaml").symlink_to("empty.yaml")
    (tmp_path / "dist-other.yaml").write_bytes(b"kind: B\n")
    (tmp_path / ".gitattributes").write_text("*.yaml export-subst\ndist/empty.yaml export-ignore\n")
    git("add", "-A")
    git("commit", "--quiet", "-m", "c")
    assert files_at_revision(tmp_path, git("rev-parse", "HEAD"), "dist") == {
        "dist/a b/x.yaml": b"kind: A\n# $Format:%H$\n",
        "dist/empty.yaml": b"",
    }
    assert files_at_revision(tmp_path, "HEAD", "dist/") == files_at_revision(tmp_path, "HEAD", "dist")
    git("rm", "--quiet", "dist/empty.yaml")
    git("commit", "--quiet", "-m", "d")
    both = files_at_revisions(tmp_path, [git("rev-parse", "HEAD~1"), git("rev-parse", "HEAD")], "dist")
    assert both == [files_at_revision(tmp_path, "HEAD~1", "dist"), {"dist/a b/x.yaml": b"kind: A\n# $Format:%H$\n"}]
