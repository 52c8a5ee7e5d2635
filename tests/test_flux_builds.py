"""`aiops flux check`, continued: how kustomize-controller builds (patches, images, substitution,
ignore rules), what cannot be checked offline, and the command itself; each case in a throwaway git
repository (flux_fixtures) with the real git, flux-build and `aiops`."""

from __future__ import annotations

import json
import os
import shutil

import yaml

from aiops.flux import check_repository
from conftest import REPO, aiops, run
from flux_fixtures import FluxRepo, findings, ray_kustomizations, repo, shared_upstream  # noqa: F401 (fixtures)


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
    kustomizations.write_text(ray_kustomizations().split("---\n")[0])
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
