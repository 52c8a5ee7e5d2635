"""`aiops flux check`: every Kustomization built as kustomize-controller builds it, from a real git
clone, with each way a reconciliation breaks tried on a copy of the reference tree.

Each broken case runs in a throwaway git repository made from a copy of the committed dist/ of
one environment, with the real git, the real flux-build (kustomize-controller's build code) and
the real `aiops` command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from aiops.flux import check_repository, flux_findings, prune_changes
from aiops.tree.flux import flux_kustomizations, owner_of
from aiops.tree.manifests import scan_manifests
from conftest import REPO, GitScratch, aiops, run



class FluxRepo(GitScratch):
    """A throwaway git repository holding a copy of the reference dist/ of some environments."""

    def __init__(self, root: Path, environments: tuple[str, ...] = ("aws-primary",)) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "--quiet")
        for environment in environments:
            shutil.copytree(REPO / "dist" / environment, root / "dist" / environment)
        self.commit("reference tree")

    def check(self, *args: str):
        return aiops("flux", "check", *args, cwd=self.root)

    # -- reading and editing the tree --------------------------------------------------------------
    def kustomization(self, name: str):
        """The Flux Kustomization of that name, read statically (file, index, body)."""
        found = [k for k in flux_kustomizations(scan_manifests([self.root / "dist"], root=self.root).manifests) if k.name == name]
        assert len(found) == 1, f"expected one Kustomization {name}, found {found}"
        return found[0]

    def edit_spec(self, name: str, **changes) -> str:
        """Set spec fields of a Kustomization (None deletes one); returns its file."""
        k = self.kustomization(name)
        path = self.root / k.manifest.file
        documents = list(yaml.safe_load_all(path.read_text()))
        spec = documents[k.manifest.index]["spec"]
        for key, value in changes.items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        return k.manifest.file

    def add_file(self, folder: str, name: str, text: str, *, listed: bool = True) -> str:
        """Write a file into a folder and list it in the folder's kustomization.yaml."""
        (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / folder / name).write_text(text)
        kustomization = self.root / folder / "kustomization.yaml"
        if listed:
            body = yaml.safe_load(kustomization.read_text()) if kustomization.exists() else {
                "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": []}
            body["resources"].append(name)
            kustomization.write_text(yaml.safe_dump(body, sort_keys=False))
        return f"{folder}/{name}"

    def spec_line(self, name: str, key: str) -> int:
        """The line of `key:` in the spec of the Kustomization of that name (as the file is now)."""
        k = self.kustomization(name)
        return self.line_of(k.manifest.file, rf"^\s+{key}:", after=k.manifest.line)

    def objects_under(self, folder: str) -> list:
        """The objects in the files under a folder, read statically, in file and document order."""
        return scan_manifests([self.root / folder], root=self.root).manifests

    def line_of(self, file: str, pattern: str, after: int = 0) -> int:
        lines = (self.root / file).read_text().splitlines()
        return next(n + 1 for n, text in enumerate(lines) if n + 1 > after and re.search(pattern, text))


def findings(result, rule: str) -> list[str]:
    """The rendered findings of one rule (location, message and fix) in a text report."""
    blocks = re.split(r"\n(?=\S)", result.stdout)
    return [block.rstrip("\n") for block in blocks if f"[{rule}]" in block]


@pytest.fixture
def repo(tmp_path) -> FluxRepo:
    return FluxRepo(tmp_path / "repo")


@pytest.fixture(scope="session")
def shared_upstream() -> Path:
    """../shared/upstream (the upstream samples), wherever the checkout sits under it."""
    for parent in REPO.parents:
        if (parent / "shared" / "upstream" / "samples").is_dir():
            return parent / "shared" / "upstream"
    pytest.skip("the shared upstream samples (../shared/upstream) are not next to this checkout")


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


def _ray_kustomizations(**workloads_spec) -> str:
    def kustomization(name, path, **spec):
        return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                         "path": path, "prune": True, **spec}}
    operator_spec = workloads_spec.pop("operator", {})
    return yaml.safe_dump_all([
        kustomization("test-ray-operator", "./dist/azure-dr/test/ray-operator", **operator_spec),
        kustomization("test-ray-workloads", "./dist/azure-dr/test/ray-workloads", **workloads_spec),
    ], sort_keys=False)


def test_a_custom_resource_before_its_crd(ray_repo):
    repo = ray_repo
    """The RayCluster's CRD comes with the kuberay-operator chart (HelmRelease in another Kustomization)."""
    repo.add_file("dist/azure-dr/test/ray-operator", "operator.yaml", RAY_OPERATOR)
    workload = repo.add_file("dist/azure-dr/test/ray-workloads", "cluster.yaml", RAY_CLUSTER)
    ray = repo.add_file("dist/azure-dr/cluster", "test-ray.yaml", _ray_kustomizations())
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

    (repo.root / ray).write_text(_ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}]))
    repo.commit("ordered, but the operator's Kustomization does not wait")
    result = repo.check("--no-prune")
    (finding,) = findings(result, "flux/crd-order")
    assert "but test-ray-operator has neither wait: true nor a health check on that HelmRelease" in finding
    assert finding.endswith(f"    fix: set wait: true on Kustomization test-ray-operator ({ray}:{operator_line}), or add "
                            "HelmRelease ray-system/kuberay-operator to its spec.healthChecks")
    assert findings(result, "flux/namespace-order") == []

    (repo.root / ray).write_text(_ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}], operator={"wait": True}))
    repo.commit("ordered and waiting")
    result = repo.check("--no-prune")
    assert findings(result, "flux/crd-order") == []
    assert "ray.io" not in result.stdout
    # ... and the same HelmRelease counts as a health check instead of wait: true
    (repo.root / ray).write_text(_ray_kustomizations(dependsOn=[{"name": "test-ray-operator"}], operator={"healthChecks": [
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "name": "kuberay-operator", "namespace": "ray-system"}]}))
    repo.commit("ordered, with a health check")
    assert findings(repo.check("--no-prune"), "flux/crd-order") == []


def test_a_custom_resource_next_to_the_helmrelease_that_installs_its_crd(ray_repo):
    repo = ray_repo
    repo.add_file("dist/azure-dr/test/ray-operator", "operator.yaml", RAY_OPERATOR)
    workload = repo.add_file("dist/azure-dr/test/ray-operator", "cluster.yaml", RAY_CLUSTER)
    repo.add_file("dist/azure-dr/test/ray-workloads", "empty.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n")
    repo.add_file("dist/azure-dr/cluster", "test-ray.yaml", _ray_kustomizations(operator={"wait": True}))
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


# -- how kustomize-controller builds ---------------------------------------------------------------

def test_spec_patches_images_and_target_namespace_are_applied(repo):
    """apps has no Namespace of its own, so targetNamespace can move all of it into one."""
    repo.add_file("dist/aws-primary/apps", "deployment.yaml", """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27.0
""")
    repo.add_file("dist/aws-primary/apps", "namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n")
    repo.edit_spec("apps", targetNamespace="web",
                   images=[{"name": "nginx", "newTag": "1.27.3"}],
                   patches=[{"target": {"kind": "Deployment", "name": "model-server"},
                             "patch": "- op: add\n  path: /metadata/labels/patched\n  value: \"yes\"\n"}])
    repo.commit("patches, images, targetNamespace")
    report = check_repository(repo.root, "HEAD")
    objects = {o.describe(): o for o in report.inventory()["aws-primary"]["flux-system/apps"]}
    assert objects["Deployment/web/web"].body["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.3"
    assert objects["Deployment/web/web"].file == "dist/aws-primary/apps/deployment.yaml"
    assert objects["Deployment/web/model-server"].body["metadata"]["labels"]["patched"] == "yes"
    assert "Namespace/web" in objects
    assert not [name for name in objects if name.startswith("Deployment/ml-serving/")]  # moved by targetNamespace


def test_substitute_from_reads_configmaps_the_cluster_applies_first(repo):
    repo.add_file("dist/aws-primary/cluster", "cluster-vars.yaml",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  REGION: us-east-1\n")
    repo.add_file("dist/aws-primary/infrastructure/configs", "settings.yaml",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: kube-system\ndata:\n  region: ${REGION}\n")
    repo.edit_spec("infra-configs", postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"}]})
    repo.commit("variables from a ConfigMap that flux-system applies")
    report = check_repository(repo.root, "HEAD")
    assert report.ok
    (settings,) = [o for o in report.inventory()["aws-primary"]["flux-system/infra-configs"] if o.name == "settings"]
    assert settings.body["data"] == {"region": "us-east-1"}

    repo.edit_spec("infra-configs", postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"},
                                                                  {"kind": "Secret", "name": "terraform-outputs"}]})
    repo.commit("and from a Secret that only the cluster has")
    report = check_repository(repo.root, "HEAD")
    assert report.ok
    assert [(f.severity, f.rule, f.kustomization) for f in report.findings if f.rule.startswith("flux/substitute")] == [
        ("unchecked", "flux/substitute-from-offline", "flux-system/infra-configs")]
    assert "reads variables from Secret/terraform-outputs, which no Kustomization of this cluster applies before it" in \
        next(f.message for f in report.findings if f.rule == "flux/substitute-from-offline")


def test_the_gitrepository_ignore_rules_shape_what_flux_sees(repo):
    """source-controller leaves out what spec.ignore excludes: then the kustomization.yaml lists a missing file."""
    sync = repo.root / "dist/aws-primary/cluster/flux-system/gotk-sync.yaml"
    documents = list(yaml.safe_load_all(sync.read_text()))
    documents[0]["spec"]["ignore"] = "/dist/aws-primary/infrastructure/configs/node-pools.yaml\n"
    sync.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    repo.commit("ignore a file that is needed")
    (finding,) = findings(repo.check("--no-prune"), "flux/build-failed")
    assert "accumulating resources from 'node-pools.yaml'" in finding and "no such file or directory" in finding


def test_a_folder_without_kustomization_yaml_is_built_from_every_manifest(repo):
    (repo.root / "dist/aws-primary/infrastructure/configs/kustomization.yaml").unlink()
    repo.commit("no kustomization.yaml")
    report = json.loads(repo.check("--no-prune", "--format", "json").stdout)
    (configs,) = [k for c in report["clusters"] for k in c["kustomizations"] if k["name"] == "flux-system/infra-configs"]
    assert configs["generatedKustomization"] is True
    # Generated from every manifest below the path: the same objects the listing named.
    assert sorted((o["kind"], o["name"]) for o in configs["objects"]) == sorted(
        (m.kind, m.name) for m in repo.objects_under("dist/aws-primary/infrastructure/configs"))


def test_a_kustomization_that_nothing_applies(repo):
    kustomizations = repo.root / "dist/aws-primary/cluster/forgotten.yaml"
    kustomizations.write_text(_ray_kustomizations().split("---\n")[0])
    repo.commit("a Kustomization file not listed in cluster/kustomization.yaml")
    (finding,) = findings(repo.check("--no-prune"), "flux/not-applied")
    assert finding == (
        "dist/aws-primary/cluster/forgotten.yaml:1: warning [flux/not-applied] Kustomization flux-system/test-ray-operator is "
        "defined here, but nothing applies it: flux-system/flux-system builds dist/aws-primary/cluster/ and its build does not "
        "include this file (dist/aws-primary/cluster/kustomization.yaml does not list it)\n"
        "    fix: list the file (or its folder) in dist/aws-primary/cluster/kustomization.yaml, or delete it")


def test_a_sops_secret_without_decryption(repo):
    secret = repo.add_file("dist/aws-primary/infrastructure/configs", "secret.yaml",
                           "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: kube-system\n"
                           "data:\n  token: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  version: 3.9.0\n")
    repo.commit("encrypted secret")
    (finding,) = findings(repo.check("--no-prune"), "flux/sops-without-decryption")
    assert finding.startswith(f"{secret}:1: error [flux/sops-without-decryption] Secret/kube-system/token is SOPS encrypted, "
                              "but Kustomization flux-system/infra-configs has no spec.decryption")


# -- what cannot be checked offline ----------------------------------------------------------------

def test_the_upstream_samples_with_external_artifacts_are_reported_as_unchecked(tmp_path, shared_upstream):
    """flux2-kustomize-helm-example's Kustomizations read ExternalArtifacts: said, not passed or failed.
    With nothing else in the tree, nothing was built, and a check that looked at nothing does not pass."""
    samples = FluxRepo(tmp_path / "samples", environments=())
    shutil.copytree(shared_upstream / "samples" / "flux", samples.root / "dist" / "flux-samples")
    samples.commit("upstream samples")
    result = samples.check("--no-prune")
    assert result.returncode == 1, result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Nothing was checked: no Kustomization could be built from this revision; 0 error(s), 0 warning(s), "
        "4 not checked offline; 0 of 2 Kustomization(s) built; 2 not built here (flux-system/infra-configs, "
        "flux-system/infra-controllers)")
    offline = findings(result, "flux/source-offline")
    assert [block.split(": unchecked")[0] for block in offline] == [
        "dist/flux-samples/clusters-staging-infrastructure.yaml:11",
        "dist/flux-samples/clusters-staging-infrastructure.yaml:29",
    ]
    assert offline[0].startswith(
        "dist/flux-samples/clusters-staging-infrastructure.yaml:11: unchecked [flux/source-offline] Kustomization "
        "flux-system/infra-controllers is not built here: its source is ExternalArtifact flux-system/infrastructure: "
        "an artifact that a controller in the cluster (such as source-watcher's ArtifactGenerator) assembles at run time; "
        "spec.path ./controllers is relative to that artifact, not to this repository")
    assert len(findings(result, "flux/no-bootstrap")) == 2
    assert "not checked offline" in result.stdout.splitlines()[-1]
    assert "0 error(s), 0 warning(s), 4 not checked offline" in result.stdout
    # The dependsOn between the two is still checked: it resolves, so there is no dependency finding.
    assert findings(result, "flux/dependency-unknown") == []


def test_a_remote_base_is_reported_as_unchecked(repo):
    kustomization_yaml = repo.root / "dist/aws-primary/infrastructure/configs/kustomization.yaml"
    kustomization_yaml.write_text(kustomization_yaml.read_text()
                                  + "  - https://github.com/kubernetes-sigs/kueue/config/default?ref=v0.19.2\n")
    repo.commit("remote base")
    result = repo.check("--no-prune")
    assert result.returncode == 0
    (finding,) = findings(result, "flux/remote-base")
    assert ("its kustomization.yaml uses a remote base (https://github.com/kubernetes-sigs/kueue/config/default?ref=v0.19.2), "
            "which kustomize-controller downloads at reconcile time") in finding


# -- the command -----------------------------------------------------------------------------------

def test_worktree_checks_uncommitted_files_and_leaves_the_repository_alone(repo):
    (repo.root / "dist/aws-primary/infrastructure/configs/kustomization.yaml").write_text("resources: [missing.yaml]\n")
    (repo.root / "dist/aws-primary/untracked.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    status, objects = repo.git("status", "--porcelain"), repo.git("count-objects", "-v")
    assert repo.check("--no-prune").returncode == 0  # HEAD is fine
    worktree = repo.check("--worktree", "--no-prune")
    assert worktree.returncode == 1
    assert "accumulating resources from 'missing.yaml'" in worktree.stdout
    assert worktree.stdout.startswith("aiops flux check: working tree (on ")
    assert (repo.git("status", "--porcelain"), repo.git("count-objects", "-v")) == (status, objects)


def test_bad_revisions_and_folders_exit_2(repo, tmp_path):
    result = repo.check("--rev", "no-such-branch")
    assert (result.returncode, result.stderr) == (2, f"aiops flux check: unknown revision 'no-such-branch' in {repo.root}\n")
    outside = tmp_path / "not-git"
    outside.mkdir()
    result = aiops("flux", "check", cwd=outside)
    assert result.returncode == 2 and result.stderr.startswith(f"aiops flux check: {outside} is not in a git repository")
    repo.git("rm", "-r", "--quiet", "dist")
    repo.commit("no dist")
    result = repo.check("--no-prune")
    assert (result.returncode, result.stderr) == (2, f"aiops flux check: dist/ does not exist at HEAD ({repo.git('rev-parse', 'HEAD')[:12]})\n")


def test_flux_build_is_built_from_the_pinned_fluxcd_modules():
    """The pins that make flux-build kustomize-controller v1.9.4's build code."""
    go_mod = (REPO / "tools/go/flux-build/go.mod").read_text()
    for module in ("github.com/fluxcd/pkg/kustomize v1.35.4", "github.com/fluxcd/kustomize-controller/api v1.9.4",
                   "sigs.k8s.io/kustomize/api v0.21.1", "sigs.k8s.io/kustomize/kyaml v0.21.1"):
        assert module in go_mod


def test_the_go_tests_of_flux_build_pass():
    """tools/go/flux-build/main_test.go: the artifact ignore rules and the strict substitution."""
    result = run(["go", "test", "./..."], REPO / "tools/go/flux-build",
                 env={"GOFLAGS": "-mod=readonly -trimpath", "GOTOOLCHAIN": "local", "GOPROXY": os.environ.get("GOPROXY", "off")})
    assert result.returncode == 0, result.stdout + result.stderr
