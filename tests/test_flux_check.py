"""`aiops flux check`: every Kustomization built as kustomize-controller builds it, from a real git
clone, with each way a reconciliation breaks tried on a copy of the reference tree.

Each broken case runs in a throwaway git repository made from a copy of the committed dist/ of
one environment, with the real git, the real flux-build (kustomize-controller's build code) and
the real `aiops` command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from aiops.flux import check_repository, flux_findings, prune_changes
from aiops.tree.flux import flux_kustomizations, owner_of
from aiops.tree.manifests import scan_manifests
from conftest import REPO, aiops, needs_the_chart_cache
from flux_fixtures import FluxRepo, findings, ray_kustomizations, repo  # noqa: F401 (repo is a fixture)


# -- the committed tree ---------------------------------------------------------------------------

def test_the_committed_tree_reconciles_and_builds_what_its_files_say():
    """HEAD of this repository: no errors, every Kustomization under dist/ built, and each one's
    build (kustomize-controller's code) applies exactly the objects of the files under its path."""
    result = aiops("flux", "check", "--rev", "HEAD", "--no-prune", "--format", "json", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    static = scan_manifests([REPO / "dist"], root=REPO)
    kustomizations = flux_kustomizations(static.manifests)
    checked = {(c["name"], k["name"]): k for c in report["clusters"] for k in c["kustomizations"]}
    assert {(k.manifest.environment, k.describe()) for k in kustomizations} == set(checked)
    for k in kustomizations:
        built = checked[(k.manifest.environment, k.describe())]
        assert built["status"] == "built"
        # The build (kustomize-controller's code) yields exactly the objects of the files that the
        # static reading says this Kustomization applies: the dist/ layout and Flux agree.
        expected = sorted((m.kind, m.namespace, m.name, m.file) for m in static.manifests if owner_of(m.file, kustomizations) is k)
        assert sorted((o["kind"], o["namespace"], o["name"], o["file"]) for o in built["objects"]) == expected


def test_a_check_limited_to_one_cluster_builds_only_that_cluster_and_builds_it_alike():
    """What `aiops simulate --env` asks for: the named environment's Kustomizations, each built to
    the same objects as in a check of the whole tree, and no other cluster's."""
    from aiops.flux import check_checkout
    from aiops.flux.source import checkout

    def built(report, cluster_name):
        (cluster,) = [c for c in report.clusters if c.name == cluster_name]
        return {key: sorted((o.kind, o.namespace, o.name, o.file) for o in state.objects)
                for key, state in cluster.kustomizations.items()}

    with checkout(REPO, "HEAD") as source:
        whole = check_checkout(source, "dist")
        limited = check_checkout(source, "dist", only=frozenset({"azure-dr"}))
    assert [c.name for c in limited.clusters] == ["azure-dr"]
    assert {c.name for c in whole.clusters} == {"aws-primary", "azure-dr", "gcp-burst"}
    assert built(limited, "azure-dr") == built(whole, "azure-dr")
    assert len(built(limited, "azure-dr")) >= 4


def test_inventory_and_findings_are_python_functions_for_validate_and_diff(repo):
    needs_the_chart_cache()  # the chart CRDs come from the chart cache
    report = check_repository(repo.root, "HEAD")
    inventory = report.inventory()
    assert list(inventory) == ["aws-primary"]
    configs = inventory["aws-primary"]["flux-system/infra-configs"]
    # flux-build's inventory and the static reading agree on every object, file and line.
    assert [(o.kind, o.name, o.file, o.line) for o in configs] == [
        (m.kind, m.name, m.file, m.line) for m in repo.objects_under("dist/aws-primary/infrastructure/configs")
    ]
    flavors = [o for o in configs if o.kind == "ResourceFlavor"]
    assert [o.name for o in flavors] == ["gpu-training", "gpu-inference", "cpu-compute"]
    assert flavors[0].key == ("kueue.x-k8s.io", "ResourceFlavor", "", "gpu-training")
    assert flavors[0].body["spec"]["nodeTaints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert flux_findings(repo.root) == []  # the working tree, as `aiops validate` sees it


# -- each way a reconciliation breaks -------------------------------------------------------------

def test_a_missing_path_names_the_kustomization_its_file_and_the_fix(repo):
    file = repo.edit_spec("infra-configs", path="./dist/aws-primary/infrastructure/config")
    commit = repo.commit("typo in spec.path")
    result = repo.check("--no-prune")
    assert result.returncode == 1
    line = repo.spec_line("infra-configs", "path")
    assert findings(result, "flux/path-not-found") == [
        f"{file}:{line}: error [flux/path-not-found] Kustomization flux-system/infra-configs (cluster aws-primary) has spec.path "
        f"./dist/aws-primary/infrastructure/config, which does not exist at HEAD ({commit[:12]}): kustomize-controller stops "
        "with \"kustomization path not found\" and applies and prunes nothing\n"
        "    fix: create dist/aws-primary/infrastructure/config/ (in dist/: run `aiops synth` and commit the result) or correct "
        "spec.path; to retire the folder, delete Kustomization infra-configs in the same commit, so that Flux prunes what it applied"
    ]
    assert "Flux cannot reconcile this revision: 1 error(s)" in result.stdout


def test_a_broken_kustomization_yaml_names_its_line_and_the_fix(repo):
    kustomization_yaml = "dist/aws-primary/infrastructure/configs/kustomization.yaml"
    path = repo.root / kustomization_yaml
    path.write_text(path.read_text().replace("resources:\n", "resources:\n  - node-pools.yaml\n  oops: [\n", 1))
    repo.commit("break kustomization.yaml")
    result = repo.check("--no-prune")
    assert result.returncode == 1
    (finding,) = findings(result, "flux/build-failed")
    k = repo.kustomization("infra-configs")
    path_line = repo.line_of(k.manifest.file, r"^\s+path:", after=k.manifest.line)
    assert finding.startswith(
        f"{kustomization_yaml}:5: error [flux/build-failed] Kustomization flux-system/infra-configs "
        f"({k.manifest.file}:{path_line}) does not build at HEAD")
    assert "error converting YAML to JSON: yaml: line 5: did not find expected '-' indicator" in finding
    assert finding.endswith(
        "    fix: the YAML does not parse: fix the syntax at the line the error names; reproduce with "
        "`kustomize build dist/aws-primary/infrastructure/configs`")


def test_a_file_the_kustomization_yaml_lists_but_git_lacks(repo):
    kustomization_yaml = "dist/aws-primary/infrastructure/configs/kustomization.yaml"
    path = repo.root / kustomization_yaml
    path.write_text(path.read_text() + "  - missing-file.yaml\n")
    repo.commit("list a file that is not committed")
    (finding,) = findings(repo.check("--no-prune"), "flux/build-failed")
    assert finding.startswith(f"{kustomization_yaml}:{repo.line_of(kustomization_yaml, 'missing-file.yaml')}: error [flux/build-failed]")
    assert "accumulating resources from 'missing-file.yaml'" in finding
    assert "fix: a file or folder that the kustomization.yaml lists does not exist: add it, or remove the entry" in finding


def test_an_undefined_variable_names_the_object_file_and_the_fix(repo):
    file = repo.edit_spec("infra-configs", postBuild={"substitute": {"CLUSTER": "aws-primary"}})
    settings = repo.add_file("dist/aws-primary/infrastructure/configs", "settings.yaml",
                             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: kube-system\n"
                             "data:\n  cluster: ${CLUSTER}\n  region: ${REGION}\n  zone: ${ZONE:=us-east-1a}\n")
    repo.commit("use an undefined variable")
    result = repo.check("--no-prune")
    assert result.returncode == 1
    post_build = repo.line_of(file, r"^\s+postBuild:")
    assert findings(result, "flux/undefined-variable") == [
        f"{settings}:1: error [flux/undefined-variable] ${{REGION}} in ConfigMap/kube-system/cluster-settings has no value: "
        f"Kustomization flux-system/infra-configs ({file}:{post_build}) defines no such variable in spec.postBuild and the "
        "reference gives no default; kustomize-controller fails the build with strict substitution, and without it silently "
        "writes an empty string\n"
        f"    fix: add REGION to spec.postBuild.substitute of Kustomization infra-configs ({file}:{post_build}), or give a "
        "default as ${REGION:=value}; write $${...} for a literal ${...}"
    ]

    repo.edit_spec("infra-configs", postBuild={"substitute": {"CLUSTER": "aws-primary", "REGION": "us-east-1"}})
    repo.commit("define it")
    report = check_repository(repo.root, "HEAD")
    assert report.ok
    (built,) = [o for o in report.inventory()["aws-primary"]["flux-system/infra-configs"] if o.kind == "ConfigMap"]
    assert built.body["data"] == {"cluster": "aws-primary", "region": "us-east-1", "zone": "us-east-1a"}


def test_a_dependency_cycle_and_an_unknown_dependency(repo):
    sync = repo.edit_spec("flux-system", dependsOn=[{"name": "infra-configs"}])
    infrastructure = repo.edit_spec("infra-configs", dependsOn=[{"name": "flux-system"}, {"name": "infra-controlers"}])
    repo.commit("cycle")
    result = repo.check("--no-prune")
    assert result.returncode == 1
    sync_line = repo.line_of(sync, r"^\s+dependsOn:", after=repo.line_of(sync, "^kind: Kustomization"))
    infrastructure_line = repo.spec_line("infra-configs", "dependsOn")
    assert findings(result, "flux/dependency-cycle") == [
        f"{sync}:{sync_line}: error [flux/dependency-cycle] Kustomizations of cluster aws-primary depend on each other in a "
        f"cycle: flux-system/flux-system ({sync}:{sync_line}) -> flux-system/infra-configs ({infrastructure}:{infrastructure_line}) "
        f"-> flux-system/flux-system ({sync}:{sync_line}); each waits for the next to be Ready, so Flux applies none of them "
        "(nor anything that depends on them)\n"
        "    fix: remove one dependsOn entry of the cycle: dependencies point from workloads to configs to controllers, never back"
    ]
    assert findings(result, "flux/dependency-unknown") == [
        f"{infrastructure}:{infrastructure_line}: error [flux/dependency-unknown] Kustomization flux-system/infra-configs "
        "depends on flux-system/infra-controlers, which no Kustomization of cluster aws-primary defines: Flux keeps it waiting "
        "(\"dependency 'flux-system/infra-controlers' not found\") and never applies it\n"
        "    fix: correct spec.dependsOn (Kustomizations in this cluster: flux-system/apps, flux-system/flux-system, "
        "flux-system/infra-configs, flux-system/infra-controllers), "
        "or add Kustomization infra-controlers"
    ]
    # flux-system also waits for a Kustomization that only its own apply creates: a deadlock of its own.
    (own_child,) = findings(result, "flux/depends-on-own-child")
    assert own_child.startswith(
        f"{sync}:{sync_line}: error [flux/depends-on-own-child] Kustomization flux-system/flux-system depends on "
        f"flux-system/infra-configs, which exists only once flux-system has applied it")
    assert "   -  flux-system/infra-configs" in result.stdout  # in no wave: never applied


RAY_OPERATOR = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ray-system
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: kuberay
  namespace: ray-system
spec:
  interval: 1h
  url: https://ray-project.github.io/kuberay-helm/
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kuberay-operator
  namespace: ray-system
spec:
  interval: 1h
  chart:
    spec:
      chart: kuberay-operator
      version: 1.7.0
      sourceRef:
        kind: HelmRepository
        name: kuberay
"""

RAY_CLUSTER = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: test-ray
  namespace: ray-system
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.52.0
"""


@pytest.fixture
def ray_repo(tmp_path) -> FluxRepo:
    """azure-dr: the reference environment that does not run KubeRay, so the test's operator is the only one."""
    return FluxRepo(tmp_path / "repo", environments=("azure-dr",))


def test_a_custom_resource_before_its_crd(ray_repo):
    needs_the_chart_cache()  # the chart CRDs come from the chart cache
    repo = ray_repo
    """The RayCluster's CRD comes with the kuberay-operator chart (HelmRelease in another Kustomization)."""
    repo.add_file("dist/azure-dr/test/ray-operator", "operator.yaml", RAY_OPERATOR)
    workload = repo.add_file("dist/azure-dr/test/ray-workloads", "cluster.yaml", RAY_CLUSTER)
    ray = repo.add_file("dist/azure-dr/cluster", "test-ray.yaml", ray_kustomizations())
    repo.commit("RayCluster with no ordering")
    result = repo.check("--no-prune")
    assert result.returncode == 1
    operator_line = repo.kustomization("test-ray-operator").manifest.line
    workloads_line = repo.kustomization("test-ray-workloads").manifest.line
    assert findings(result, "flux/crd-order") == [
        f"{workload}:1: error [flux/crd-order] Kustomization flux-system/test-ray-workloads applies RayCluster/ray-system/test-ray "
        "(ray.io) but depends on no Kustomization that installs the ray.io CRDs: flux-system/test-ray-operator (HelmRelease "
        f"ray-system/kuberay-operator of chart kuberay-operator, {ray}:{operator_line}); Flux may apply it first, and the dry-run "
        "fails with 'no matches for kind \"RayCluster\"'\n"
        f"    fix: add dependsOn: [{{name: test-ray-operator}}] to Kustomization test-ray-workloads ({ray}:{workloads_line}), "
        "and wait: true to test-ray-operator"
    ]
    # The namespace comes from the operator's Kustomization too, which the workloads do not wait for.
    (namespace,) = findings(result, "flux/namespace-order")
    assert namespace.startswith(f"{workload}:1: error [flux/namespace-order] Kustomization flux-system/test-ray-workloads "
                                "applies RayCluster/ray-system/test-ray in namespace ray-system, which only "
                                f"flux-system/test-ray-operator ({ray}:{operator_line}) creates")

    (repo.root / ray).write_text(ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}]))
    repo.commit("ordered, but the operator's Kustomization does not wait")
    result = repo.check("--no-prune")
    (finding,) = findings(result, "flux/crd-order")
    assert "but test-ray-operator has neither wait: true nor a health check on that HelmRelease" in finding
    assert finding.endswith(f"    fix: set wait: true on Kustomization test-ray-operator ({ray}:{operator_line}), or add "
                            "HelmRelease ray-system/kuberay-operator to its spec.healthChecks")
    assert findings(result, "flux/namespace-order") == []

    (repo.root / ray).write_text(ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}], operator={"wait": True}))
    repo.commit("ordered and waiting")
    result = repo.check("--no-prune")
    assert findings(result, "flux/crd-order") == []
    assert "ray.io" not in result.stdout
    # ... and the same HelmRelease counts as a health check instead of wait: true
    (repo.root / ray).write_text(ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}], operator={"healthChecks": [
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "name": "kuberay-operator", "namespace": "ray-system"}]}))
    repo.commit("ordered, with a health check")
    assert findings(repo.check("--no-prune"), "flux/crd-order") == []


def test_a_custom_resource_next_to_the_helmrelease_that_installs_its_crd(ray_repo):
    needs_the_chart_cache()  # the chart CRDs come from the chart cache
    repo = ray_repo
    repo.add_file("dist/azure-dr/test/ray-operator", "operator.yaml", RAY_OPERATOR)
    workload = repo.add_file("dist/azure-dr/test/ray-operator", "cluster.yaml", RAY_CLUSTER)
    repo.add_file("dist/azure-dr/test/ray-workloads", "empty.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n")
    repo.add_file("dist/azure-dr/cluster", "test-ray.yaml", ray_kustomizations(operator={"wait": True}))
    repo.commit("RayCluster in the operator's own Kustomization")
    (finding,) = findings(repo.check("--no-prune"), "flux/crd-order")
    assert finding == (
        f"{workload}:1: error [flux/crd-order] Kustomization flux-system/test-ray-operator applies RayCluster/ray-system/test-ray "
        "(ray.io) together with HelmRelease ray-system/kuberay-operator of chart kuberay-operator, which installs the ray.io "
        "CRDs: kustomize-controller applies both in one go, before helm-controller has installed the chart, and the dry-run "
        "fails with 'no matches for kind \"RayCluster\"'\n"
        "    fix: move the ray.io objects into a Kustomization with dependsOn: [{name: test-ray-operator}], and give "
        "test-ray-operator wait: true (or a health check on HelmRelease ray-system/kuberay-operator)")


def test_a_crd_manifest_in_the_same_kustomization_is_applied_first(repo):
    """kustomize-controller applies CustomResourceDefinitions in a first stage: no finding."""
    repo.add_file("dist/aws-primary/infrastructure/configs", "crd.yaml", """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Cluster
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: one
""")
    repo.commit("CRD and CR together")
    report = check_repository(repo.root, "HEAD")
    assert [f.rule for f in report.findings if "example.com" in f.message] == []


def test_a_deleted_folder_under_a_pruned_kustomization(repo):
    """Deleting the folder of a Kustomization that still exists stops Flux ("path not found"):
    nothing is pruned (fluxcd/flux2#2627). Deleting both prunes everything it applied."""
    applied = repo.objects_under("dist/aws-primary/infrastructure/configs")
    repo.git("rm", "-r", "--quiet", "dist/aws-primary/infrastructure/configs")
    repo.commit("delete the folder only")
    result = repo.check()
    assert result.returncode == 1
    (finding,) = findings(result, "flux/path-not-found")
    assert "Kustomization flux-system/infra-configs (cluster aws-primary) has spec.path ./dist/aws-primary/infrastructure/configs" in finding
    assert "fix: create dist/aws-primary/infrastructure/configs/" in finding
    assert "to retire the folder, delete Kustomization infra-configs in the same commit" in finding
    prune = result.stdout.split("\nprune, from HEAD^")[1]
    assert ("stop   aws-primary flux-system/infra-configs: Flux stops on flux-system/infra-configs at HEAD "
            f"({repo.git('rev-parse', 'HEAD')[:12]}) (kustomization path not found): none of its {len(applied)} objects is updated or pruned "
            "until it builds again") in prune

    repo.git("reset", "--quiet", "--hard", "HEAD^")
    # Retiring a leaf (nothing depends on apps): its folder and its Kustomization in one commit.
    applied = repo.objects_under("dist/aws-primary/apps")
    kustomization = repo.kustomization("apps").manifest
    repo.git("rm", "-r", "--quiet", "dist/aws-primary/apps", kustomization.file)
    listing = repo.root / "dist/aws-primary/cluster/kustomization.yaml"
    listing.write_text(listing.read_text().replace(f"  - {Path(kustomization.file).name}\n", ""))
    repo.commit("retire apps: the folder and its Kustomization")
    result = repo.check()
    assert result.returncode == 0, result.stdout
    prune = result.stdout.split("\nprune, from HEAD^")[1].split("\n\n")[0].splitlines()[1:]
    assert sorted(prune) == sorted([
        f"  delete aws-primary flux-system/flux-system Kustomization/flux-system/apps ({kustomization.file}:{kustomization.line}): pruned by flux-system/flux-system",
        *[
            f"  delete aws-primary flux-system/apps {m.describe()} ({m.file}:{m.line}): "
            "flux-system/flux-system prunes the removed Kustomization flux-system/apps, whose finalizer deletes what it "
            "applied (prune: true, deletionPolicy MirrorPrune)"
            for m in applied
        ],
    ])


def test_prune_lists_an_object_removed_from_a_pruned_kustomization(repo):
    base = check_repository(repo.root, "HEAD")
    pools = repo.root / "dist/aws-primary/infrastructure/configs/node-pools.yaml"
    documents = [d for d in yaml.safe_load_all(pools.read_text()) if d["metadata"]["name"] != "cpu-compute"]
    pools.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    head = check_repository(repo.root, worktree=True)
    assert [(c.action, c.kustomization, c.object.describe()) for c in prune_changes(base, head)] == [
        ("delete", "flux-system/infra-configs", "ResourceFlavor/cpu-compute"),
    ]
    repo.edit_spec("infra-configs", prune=False)
    head = check_repository(repo.root, worktree=True)
    assert [(c.action, c.message) for c in prune_changes(base, head)] == [
        ("orphan", "flux-system/infra-configs has prune: false: left in the cluster, no longer managed"),
    ]
