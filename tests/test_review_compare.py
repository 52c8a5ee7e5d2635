"""The meaning of `aiops diff`'s comparison, on small trees in memory and on the real dist/.

Each test builds a base and a head tree (repository paths -> bytes), compares them with the same
functions `aiops diff` uses, and asserts what a reviewer would be told.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aiops.review.compare import compare
from aiops.review.fields import field_changes
from aiops.review.snapshot import build_pair, build_snapshot
from aiops.synth.dist_tree import read_tree
from conftest import REPO

APPS_KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./dist/env/apps
  prune: %s
  sourceRef: {kind: GitRepository, name: flux-system}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team}
spec:
  replicas: %d
  template:
    spec:
      containers:
%s
"""


def container(name: str, image: str) -> str:
    return f"        - name: {name}\n          image: {image}\n"


def _bytes(files: dict[str, str | bytes]) -> dict[str, bytes]:
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def diff(base: dict[str, str | bytes], head: dict[str, str | bytes]):
    """What `aiops diff` reports, through the same pair of snapshots it builds."""
    return compare(*build_pair(_bytes(base), _bytes(head), "base", "head", "dist"))


def apps(prune: str = "true") -> dict[str, str]:
    return {"dist/env/cluster/apps.yaml": APPS_KUSTOMIZATION % prune}


def only(report):
    [environment] = report.changed
    return environment


def test_field_paths_match_list_items_by_name():
    old = {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}
    new = {"containers": [{"name": "new", "image": "n:1"}, {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]}
    assert [(c.path, c.change, c.old, c.new) for c in field_changes(old, new)] == [
        ("containers[name=new]", "added", None, {"name": "new", "image": "n:1"}),
        ("containers[name=b].image", "changed", "b:1", "b:2"),
    ]


def test_field_paths_match_kuberay_worker_groups_by_group_name_and_quote_odd_keys():
    old = {"workerGroupSpecs": [{"groupName": "gpu", "replicas": 1}], "labels": {"aiops.example/pool": "a"}}
    new = {"workerGroupSpecs": [{"groupName": "gpu", "replicas": 3}], "labels": {"aiops.example/pool": "b"}}
    assert [c.path for c in field_changes(old, new)] == ['labels["aiops.example/pool"]', "workerGroupSpecs[groupName=gpu].replicas"]


def test_lists_of_plain_values_are_one_change():
    assert [(c.path, c.old, c.new) for c in field_changes({"zones": ["1", "2"]}, {"zones": ["1", "2", "3"]})] == [
        ("zones", ["1", "2"], ["1", "2", "3"]),
    ]


def test_a_move_to_another_file_is_not_a_change():
    body = DEPLOYMENT % (2, container("web", "web:1"))
    report = diff({**apps(), "dist/env/apps/a.yaml": body}, {**apps(), "dist/env/apps/b.yaml": "# moved\n" + body})
    assert report.changed == []


def test_a_changed_field_is_named_with_its_path_and_values():
    base = {**apps(), "dist/env/apps/web.yaml": DEPLOYMENT % (2, container("web", "web:1") + container("log", "log:1"))}
    head = {**apps(), "dist/env/apps/web.yaml": DEPLOYMENT % (3, container("web", "web:2") + container("log", "log:1"))}
    [change] = only(diff(base, head)).objects
    assert (change.action, change.describe(), change.file, change.line) == ("changed", "Deployment team/web", "dist/env/apps/web.yaml", 1)
    assert [(f.path, f.old, f.new) for f in change.fields] == [
        ("spec.replicas", 2, 3),
        ("spec.template.spec.containers[name=web].image", "web:1", "web:2"),
    ]


def test_an_api_version_change_is_one_changed_object_and_an_alert():
    base = {**apps(), "dist/env/apps/ray.yaml": "apiVersion: ray.io/v1alpha1\nkind: RayCluster\nmetadata: {name: r}\nspec: {}\n"}
    head = {**apps(), "dist/env/apps/ray.yaml": "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec: {}\n"}
    environment = only(diff(base, head))
    [change] = environment.objects
    assert (change.action, change.old_api_version, change.api_version, change.fields) == ("changed", "ray.io/v1alpha1", "ray.io/v1", ())
    assert [(a.kind, a.message) for a in environment.alerts] == [("api-version", "RayCluster r: apiVersion ray.io/v1alpha1 -> ray.io/v1")]


@pytest.mark.parametrize(
    ("prune", "annotation", "fate", "alerts"),
    [
        ("true", "", "pruned", ["prune"]),
        ("true", "  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}\n", "prune-disabled", []),
        ("false", "", "orphaned", ["orphan"]),
    ],
)
def test_what_flux_does_with_a_removed_object(prune, annotation, fate, alerts):
    config = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team\n{annotation}data: {{a: b}}\n"
    keep = {"dist/env/apps/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n"}
    environment = only(diff({**apps(prune), **keep, "dist/env/apps/c.yaml": config}, {**apps(prune), **keep}))
    [change] = environment.objects
    assert (change.action, change.fate, change.owner) == ("removed", fate, "flux-system/apps")
    assert [a.kind for a in environment.alerts] == alerts
    assert len(diff({**apps(prune), **keep, "dist/env/apps/c.yaml": config}, {**apps(prune), **keep}).destructive) == (fate == "pruned")


def test_a_removed_object_that_no_kustomization_applies_is_only_removed_from_git():
    environment = only(diff({"dist/env/loose/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}, {"dist/env/x": ""}))
    assert [(o.fate, o.owner) for o in environment.objects] == [("not-applied", None)]
    assert [a.kind for a in environment.alerts] == []


def test_an_object_that_moves_to_another_kustomization_is_called_out():
    tools = "./dist/env/infrastructure/tools"
    other = APPS_KUSTOMIZATION.replace("name: apps", "name: tools").replace("./dist/env/apps", tools) % "true"
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n"
    base = {**apps(), "dist/env/cluster/tools.yaml": other, "dist/env/apps/c.yaml": config, f"{tools[2:]}/keep.txt": ""}
    head = {**apps(), "dist/env/cluster/tools.yaml": other, "dist/env/apps/keep.txt": "", f"{tools[2:]}/c.yaml": config}
    environment = only(diff(base, head))
    [change] = environment.objects
    assert (change.previous_owner, change.owner, change.previous_file) == (
        "flux-system/apps", "flux-system/tools", "dist/env/apps/c.yaml")
    assert [a.kind for a in environment.alerts] == ["owner-change"]


def test_a_repointed_kustomization_prunes_as_usual():
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n"
    moved = APPS_KUSTOMIZATION.replace("./dist/env/apps", "./dist/env/infrastructure/apps-v2") % "true"
    base = {**apps(), "dist/env/apps/c.yaml": config}
    head = {"dist/env/cluster/apps.yaml": moved, "dist/env/infrastructure/apps-v2/d.yaml": config.replace("name: c", "name: d")}
    environment = only(diff(base, head))
    assert {(o.action, o.name, o.fate) for o in environment.objects} == {("removed", "c", "pruned"), ("added", "d", None), ("changed", "apps", None)}
    assert "path-not-found" not in [a.kind for a in environment.alerts]


def test_a_new_kustomization_whose_path_does_not_exist():
    environment = only(diff({"dist/env/x": ""}, {"dist/env/x": "", **apps()}))
    assert [(a.kind, a.message) for a in environment.alerts] == [
        ("path-not-found", 'Kustomization flux-system/apps: its path ./dist/env/apps does not exist, so Flux stops with "kustomization path not found"'),
    ]


def test_duplicates_and_unreadable_files_are_reported_not_fatal():
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    changed = config + "data: {k: v}\n"
    report = diff({"dist/env/a.yaml": config},
                  {"dist/env/a.yaml": changed, "dist/env/b.yaml": config + "data: {}\n", "dist/env/bad.yaml": "a: [1\n"})
    assert [(side, p.file, p.line, p.kind) for side, p in report.problems] == [
        ("head", "dist/env/bad.yaml", 2, "unparsable"),
        ("head", "dist/env/b.yaml", 1, "duplicate"),
    ]


# --- Terraform, starting from the real dist/ ------------------------------------------------------

@pytest.fixture(scope="module")
def reference_files() -> dict[str, bytes]:
    return {f"dist/{path}": data for path, data in read_tree(REPO / "dist").items()}


def with_terraform(files: dict[str, bytes], path: str, change) -> dict[str, bytes]:
    document = json.loads(files[path])
    change(document)
    return {**files, path: json.dumps(document, indent=2).encode()}


def terraform_diff(files, path, change):
    return only(diff(files, with_terraform(files, path, change)))


EKS, AKS, GKE = ("dist/aws-primary/terraform/eks/cdk.tf.json", "dist/azure-dr/terraform/aks/cdk.tf.json",
                 "dist/gcp-burst/terraform/gke/cdk.tf.json")


def test_identical_trees_have_no_changes(reference_files):
    report = diff(reference_files, dict(reference_files))
    assert report.changed == []
    assert report.problems == []


def test_a_resized_pool_is_an_update_with_exact_cost_and_gpu_deltas(reference_files):
    def resize(d):
        d["resource"]["aws_eks_node_group"]["node_group_gpu_training"]["scaling_config"]["max_size"] = 22

    environment = terraform_diff(reference_files, EKS, resize)
    [resource] = environment.resources
    assert (resource.action, resource.address, [f.path for f in resource.fields], resource.hits) == (
        "update", "aws_eks_node_group.node_group_gpu_training", ["scaling_config.max_size"], ())
    [pool] = environment.pools
    assert (pool.pool, pool.delta("min"), pool.delta("desired"), pool.delta("max")) == ("gpu-training", 0, 0, Decimal("4467.60"))
    assert pool.delta("max") == 2 * Decimal("3.06") * 730
    assert (pool.gpus("before", "max"), pool.gpus("after", "max")) == (20, 22)
    assert environment.cost_delta("max") == Decimal("4467.60")
    assert [(a.kind, a.message) for a in environment.alerts] == [("capacity", "node pool gpu-training: GPUs at max 20 -> 22 (V100)")]


def test_gke_machine_type_recreates_nodes_and_accelerators_replace(reference_files):
    def machine(d):
        d["resource"]["google_container_node_pool"]["node_pool_gpu_t4"]["node_config"]["machine_type"] = "n1-standard-8"

    environment = terraform_diff(reference_files, GKE, machine)
    assert [(r.action, [h.attribute for h in r.hits]) for r in environment.resources] == [("update", ["node_config.machine_type"])]
    assert "nodes-recreated" in [a.kind for a in environment.alerts]

    def accelerators(d):
        d["resource"]["google_container_node_pool"]["node_pool_gpu_t4"]["node_config"]["guest_accelerator"][0]["count"] = 2

    environment = terraform_diff(reference_files, GKE, accelerators)
    [resource] = environment.resources
    assert (resource.action, [h.attribute for h in resource.hits]) == ("replace", ["node_config.guest_accelerator"])
    [pool] = environment.pools
    assert (pool.gpus("before", "max"), pool.gpus("after", "max")) == (16, 32)
    # one more T4 per node, 16 nodes at max, at the spot price the pool is billed at (gpu-t4 is spot): 0.11 x 730 x 16
    assert pool.delta("max") == Decimal("0.11") * 730 * 16 == Decimal("1284.80")


def test_aks_vm_size_cycles_the_pool_and_fails_without_a_rotation_name(reference_files):
    """The reference pools carry temporary_name_for_rotation; without it a vm_size change fails at apply."""
    def resize(d):
        d["resource"]["azurerm_kubernetes_cluster_node_pool"]["node_pool_gpu1"]["vm_size"] = "Standard_NC4as_T4_v3"

    def without_rotation(d):
        resize(d)
        del d["resource"]["azurerm_kubernetes_cluster_node_pool"]["node_pool_gpu1"]["temporary_name_for_rotation"]

    environment = terraform_diff(reference_files, AKS, without_rotation)
    [resource] = environment.resources
    assert (resource.action, [(h.attribute, h.rule.effect, h.missing_requirement) for h in resource.hits]) == (
        "update", [("vm_size", "recreates-nodes", True)])
    # T4 to T4: the GPUs stay the same, so no capacity note (a V100 pool would add one).
    assert [a.kind for a in environment.alerts] == ["apply-fails", "nodes-recreated"]
    assert environment.alerts[0].message == (
        "azurerm_kubernetes_cluster_node_pool.node_pool_gpu1: changing vm_size needs temporary_name_for_rotation to be set;"
        " without it terraform apply fails")

    environment = terraform_diff(reference_files, AKS, resize)
    assert [a.kind for a in environment.alerts] == ["nodes-recreated"]


def test_renaming_the_aks_system_pool_replaces_the_whole_cluster(reference_files):
    def rename(d):
        d["resource"]["azurerm_kubernetes_cluster"]["cluster"]["default_node_pool"]["name"] = "sys"

    environment = terraform_diff(reference_files, AKS, rename)
    replaced = environment.resources_with("replace")
    assert [(r.address, [h.attribute for h in r.hits]) for r in replaced] == [("azurerm_kubernetes_cluster.cluster", ["default_node_pool.name"])]


def test_destroying_a_protected_gke_cluster_fails_at_apply(reference_files):
    def drop(d):
        del d["resource"]["google_container_cluster"]

    environment = terraform_diff(reference_files, GKE, drop)
    assert [(r.action, r.address) for r in environment.resources] == [("destroy", "google_container_cluster.cluster")]
    assert [(a.kind, a.message) for a in environment.alerts] == [
        ("apply-fails", "google_container_cluster.cluster: deletion_protection is true, so terraform apply fails instead of"
                        " deleting it; set it to false first, in its own change"),
        ("destroy", "Terraform destroys google_container_cluster.cluster"),
    ]


def test_a_moved_block_is_not_a_destroy(reference_files):
    def rename(d):
        groups = d["resource"]["aws_eks_node_group"]
        groups["gpu_training"] = groups.pop("node_group_gpu_training")
        d["moved"] = [{"from": "aws_eks_node_group.node_group_gpu_training", "to": "aws_eks_node_group.gpu_training"}]

    environment = terraform_diff(reference_files, EKS, rename)
    assert [(r.action, r.address, r.moved_from, r.fields) for r in environment.resources] == [
        ("update", "aws_eks_node_group.gpu_training", "aws_eks_node_group.node_group_gpu_training", ())]
    assert environment.alerts == []


def test_a_renamed_resource_without_moved_is_destroyed_and_created(reference_files):
    def rename(d):
        groups = d["resource"]["aws_eks_node_group"]
        groups["gpu_training"] = groups.pop("node_group_gpu_training")

    environment = terraform_diff(reference_files, EKS, rename)
    assert sorted((r.action, r.address) for r in environment.resources) == [
        ("create", "aws_eks_node_group.gpu_training"), ("destroy", "aws_eks_node_group.node_group_gpu_training")]
    assert environment.pools == []  # the same pool, the same cost


def test_a_new_state_backend_key_is_called_out(reference_files):
    def move(d):
        d["terraform"]["backend"]["s3"]["key"] = "aws-primary/eks-v2.tfstate"

    environment = terraform_diff(reference_files, EKS, move)
    [setting] = environment.settings
    assert (setting.address, [(f.path, f.old, f.new) for f in setting.fields]) == (
        "terraform", [("backend.s3.key", "aws-primary/eks.tfstate", "aws-primary/eks-v2.tfstate")])
    assert [a.kind for a in environment.alerts] == ["state-backend"]


def test_unchanged_files_are_not_read_but_their_kustomizations_are():
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"
    files = _bytes({**apps(), "dist/env/apps/a.yaml": config % "a", "dist/env/apps/b.yaml": config % "b"})
    head = {**files, "dist/env/apps/b.yaml": (config % "b").replace("{name: b}", "{name: b, labels: {x: y}}").encode()}
    base_snapshot, head_snapshot = build_pair(files, head, "base", "head", "dist")
    assert sorted(m.name for m in base_snapshot.objects.values()) == ["apps", "b"]  # a.yaml is the same on both sides
    assert [k.name for k in head_snapshot.kustomizations] == ["apps"]
    full = build_snapshot(files, "base", "dist")
    assert sorted(m.name for m in full.objects.values()) == ["a", "apps", "b"]


def test_only_documents_that_can_have_changed_are_parsed():
    """A changed file is read document by document; identical documents stay unparsed unless they
    change environment or Kustomization, and line numbers stay those of the whole file."""
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: team}\ndata: {v: '%s'}\n"
    base_file = "# header\n" + "---\n".join(config % (n, 1) for n in "abc")
    head_file = "# header\n" + "---\n".join(config % (n, 2 if n == "b" else 1) for n in "abc")
    base, head = _bytes({**apps(), "dist/env/apps/x.yaml": base_file}), _bytes({**apps(), "dist/env/apps/x.yaml": head_file})
    base_snapshot, head_snapshot = build_pair(base, head, "base", "head", "dist")
    assert sorted((m.name, m.line, m.index) for m in head_snapshot.objects.values()) == [("apps", 1, 0), ("b", 7, 1)]
    full = build_snapshot(head, "head", "dist")
    assert [(m.name, m.line) for m in full.objects.values() if m.name == "b"] == [("b", 7)]
    # the same document moved to another environment is parsed, and is a removal plus an addition
    report = diff({"dist/one/apps/c.yaml": config % ("c", 1)}, {"dist/two/apps/c.yaml": config % ("c", 1)})
    assert sorted((e.name, o.action) for e in report.changed for o in e.objects) == [("one", "removed"), ("two", "added")]


def test_a_file_with_a_directive_or_a_piece_that_does_not_parse_alone_is_read_whole():
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"
    directive = "%YAML 1.1\n---\n" + config % "a"
    report = diff({"dist/env/apps/a.yaml": config % "a"}, {"dist/env/apps/a.yaml": directive + "data: {k: v}\n"})
    [change] = only(report).objects
    assert (change.action, change.line) == ("changed", 3)
    broken = config % "a" + "---\nkind: [\n"
    report = diff({"dist/env/apps/a.yaml": config % "a"}, {"dist/env/apps/a.yaml": broken})
    assert [(p.file, p.line, p.kind) for _, p in report.problems] == [("dist/env/apps/a.yaml", 6, "unparsable")]


def test_a_huge_report_still_fits_a_pull_request_comment():
    from aiops.review.render_diff import MARKDOWN_LIMIT, render_markdown

    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, namespace: team}\ndata: {v: '%s'}\n"
    base = {f"dist/env/apps/c{i}.yaml": config % (i, "old") for i in range(3000)}
    head = {f"dist/env/apps/c{i}.yaml": config % (i, "new") for i in range(3000)}
    report = diff(base, head)
    assert only(report).count("changed") == 3000
    text = render_markdown(report)
    assert len(text) <= MARKDOWN_LIMIT
    assert "| **env** | 0 / 3000 / 0 | 0 | 0 / 0 | 0 | 0.00 / 0.00 / 0.00 |" in text
    assert ("_Field-by-field tables and the list of objects are left out to fit a comment;"
            " run `aiops diff --format text` to see them._") in text
    assert "- changed 3000 × ConfigMap" in text


def test_an_update_of_a_type_the_table_does_not_cover_says_so(reference_files):
    from aiops.review.render_diff import render_markdown, render_text

    def widen(d):
        subnet = next(iter(d["resource"]["aws_subnet"].values()))
        subnet["tags"] = {**subnet.get("tags", {}), "tier": "private"}

    report = diff(reference_files, with_terraform(reference_files, EKS, widen))
    [resource] = only(report).resources
    assert (resource.action, resource.type, resource.replacement_known) == ("update", "aws_subnet", False)
    assert "aiops diff does not know which aws_subnet attributes force a replacement: check `terraform plan`" in render_markdown(report)
    assert "replacement unknown for aws_subnet, check terraform plan" in render_text(report)


@pytest.mark.parametrize(("policy", "fate"), [("", "pruned"), ("Orphan", "orphaned"), ("Delete", "pruned")])
def test_objects_of_a_removed_kustomization_follow_its_deletion_policy(policy, fate):
    kustomization = APPS_KUSTOMIZATION % ("false" if policy == "Delete" else "true")
    if policy:
        kustomization += f"  deletionPolicy: {policy}\n"
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n"
    environment = only(diff({"dist/env/cluster/apps.yaml": kustomization, "dist/env/apps/c.yaml": config},
                            {"dist/env/cluster/other.txt": ""}))
    [change] = [o for o in environment.objects if o.kind == "ConfigMap"]
    assert (change.fate, change.owner) == (fate, "flux-system/apps")
    alert = next(a for a in environment.alerts if "ConfigMap" in a.message)
    assert f"its deletionPolicy ({policy or 'MirrorPrune'})" in alert.message


def test_attributes_terraform_ignores_are_no_change(reference_files):
    """GKE counts initial_node_count per zone and replaces a pool when it changes; the stacks list it
    in lifecycle.ignore_changes (the autoscaler owns the size), so a new `desired` changes nothing."""
    def start_bigger(d):
        d["resource"]["google_container_node_pool"]["node_pool_gpu_t4"]["initial_node_count"] = 2

    environment = terraform_diff(reference_files, GKE, start_bigger)
    assert environment.resources == [] and [a.kind for a in environment.alerts if a.kind in ("replace", "nodes-recreated")] == []

    def unprotected(d):
        start_bigger(d)
        del d["resource"]["google_container_node_pool"]["node_pool_gpu_t4"]["lifecycle"]

    [resource] = terraform_diff(reference_files, GKE, unprotected).resources
    assert (resource.action, [h.attribute for h in resource.hits]) == ("replace", ["initial_node_count"])


def test_nested_ignored_attributes_are_no_change_either(reference_files):
    """EKS ignores scaling_config[0].desired_size (cdktn writes the block as an object)."""
    def desired(d):
        d["resource"]["aws_eks_node_group"]["node_group_gpu_training"]["scaling_config"]["desired_size"] = 4

    assert terraform_diff(reference_files, EKS, desired).resources == []

    def maximum(d):
        d["resource"]["aws_eks_node_group"]["node_group_gpu_training"]["scaling_config"]["max_size"] = 22

    [resource] = terraform_diff(reference_files, EKS, maximum).resources
    assert [(f.path, f.old, f.new) for f in resource.fields] == [("scaling_config.max_size", 20, 22)]
