"""The rules about manifests themselves (API versions removed or deprecated, image pins, requests
and limits, Flux dependencies, paths and CRD order), each fired by a real sample or the reference
dist/ broken, and silent once fixed."""

from __future__ import annotations

import pytest
import yaml

from validate_helpers import SAMPLES, design_block, dump, edit, of_rule, ray_sample, rules_of, run_validate, sample, tree, write  # noqa: F401 (tree is a fixture)


# --- api-removed, api-deprecated ------------------------------------------------------------------

def test_the_designs_ray_v1alpha1_is_deprecated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ray-cluster.yaml", design_block("ray/ray-cluster.yaml"))
    [finding] = of_rule(run_validate("ray-cluster.yaml"), "api-deprecated")
    assert finding.level == "warning"
    assert finding.message.startswith("ray.io/v1alpha1 RayCluster is deprecated in KubeRay v1.7.0: ")
    assert finding.hint == "change apiVersion to ray.io/v1"


def test_versions_the_pinned_crds_no_longer_serve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    release = sample("flux/apps-base-podinfo-release.yaml")[0]
    release["apiVersion"] = "helm.toolkit.fluxcd.io/v2beta1"
    write(tmp_path / "release.yaml", dump(release))
    report = run_validate("release.yaml")
    assert rules_of(report) == ["api-removed"]  # and no schema-missing beside it
    [finding] = report.findings
    assert finding.message == (
        "helm.toolkit.fluxcd.io/v2beta1 HelmRelease is not served by the HelmRelease CRD of Flux helm-controller v1.6.3 "
        "(it serves v2); the API server rejects the object"
    )
    assert finding.hint.startswith("change apiVersion to helm.toolkit.fluxcd.io/v2")


def test_removed_kubernetes_versions_and_deprecated_kueue(tree):
    hpa = yaml.safe_load(design_block("k8s/hpa-gpu.yaml"))
    hpa["apiVersion"] = "autoscaling/v2beta2"
    write(tree / "aws-primary/apps/hpa.yaml", dump(hpa))
    edit(tree / "aws-primary/infrastructure/configs/node-pools.yaml", "kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1")
    report = run_validate("dist", skip=frozenset({"hpa-resource-metric"}))
    assert [(f.rule.id, f.object) for f in report.findings] == [
        ("api-removed", "HorizontalPodAutoscaler/ml-training-hpa"),
        ("api-deprecated", "ResourceFlavor/gpu-training"),
    ]
    removed, deprecated = report.findings
    assert removed.message == "autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26; a 1.36 cluster rejects it"  # aws-primary's version
    assert removed.hint == "change apiVersion to autoscaling/v2"
    assert deprecated.hint == "change apiVersion to kueue.x-k8s.io/v1beta2"


# --- image-unpinned, container-resources ----------------------------------------------------------

@pytest.mark.parametrize("image, problem", [
    ("rayproject/ray", "has no tag, so it runs whatever `latest` is when the node pulls it"),
    ("rayproject/ray:latest", "is tagged `latest`, which moves: two nodes can run different code"),
    ("localhost:5000/ray", "has no tag, so it runs whatever `latest` is when the node pulls it"),
])
def test_unpinned_images(tmp_path, monkeypatch, image, problem):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample()
    cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"] = image
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "image-unpinned")
    assert finding.message == f"Container 'ray-head' of the head: image {image} {problem}"


def test_pinned_images_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample()
    cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"] = "localhost:5000/ray@sha256:" + "a" * 64
    write(tmp_path / "ray.yaml", dump(cluster))
    assert run_validate("ray.yaml").findings == []


def test_containers_need_requests_and_limits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cluster = ray_sample("ray-cluster.autoscaler.yaml")
    worker = cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    del worker["resources"]["limits"]
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "container-resources")
    assert finding.message.startswith("Container 'ray-worker' of the worker group small-group has no limits.cpu, limits.memory: ")
    del worker["resources"]
    write(tmp_path / "ray.yaml", dump(cluster))
    [finding] = of_rule(run_validate("ray.yaml"), "container-resources")
    assert finding.hint == "set resources.requests.cpu and resources.requests.memory and resources.limits.cpu and resources.limits.memory"


# --- Flux -------------------------------------------------------------------------------------------

def _line(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_depends_on_a_missing_kustomization(tree):
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "    - name: infra-controllers\n", "    - name: infra-controlers\n")
    [finding] = of_rule(run_validate("dist"), "flux-depends-on-missing")
    assert (finding.file, finding.line) == ("dist/aws-primary/cluster/infrastructure.yaml", _line(infrastructure, "- name: infra-controlers"))
    assert finding.message == (
        "Kustomization flux-system/infra-configs depends on flux-system/infra-controlers, which is not a Kustomization of "
        "aws-primary (there are: flux-system/apps, flux-system/flux-system, flux-system/infra-configs, "
        "flux-system/infra-controllers); Flux waits for it forever"
    )


def test_the_flux_sample_dependencies_resolve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_validate(SAMPLES / "flux").findings == []


def test_dependency_cycles(tree):
    edit(tree / "aws-primary/cluster/infrastructure.yaml", "spec:\n", "spec:\n  dependsOn:\n    - name: flux-system\n")
    edit(tree / "aws-primary/cluster/flux-system/gotk-sync.yaml", "  interval: 10m\n", "  interval: 10m\n  dependsOn:\n    - name: infra-configs\n")
    [finding] = of_rule(run_validate("dist"), "flux-dependency-cycle")
    assert finding.message == (
        "Kustomizations depend on each other in a cycle: flux-system/flux-system -> flux-system/infra-configs -> "
        "flux-system/infra-controllers -> flux-system/flux-system; none of them ever becomes ready"
    )


def test_paths_that_do_not_exist(tree):
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "./dist/aws-primary/infrastructure/configs", "./dist/aws-primary/infrastructure/config")
    [finding] = of_rule(run_validate("dist"), "flux-path-missing")
    assert (finding.file, finding.line) == ("dist/aws-primary/cluster/infrastructure.yaml", _line(infrastructure, "path: ./dist/aws-primary/infrastructure/config"))
    assert finding.message.startswith(
        "Kustomization flux-system/infra-configs applies ./dist/aws-primary/infrastructure/config, which does not exist in this repository"
    )


def test_paths_of_other_sources_are_not_judged(tmp_path, monkeypatch):
    """The flux sample's paths (./controllers, ./configs) live in an ExternalArtifact, not here."""
    monkeypatch.chdir(tmp_path)
    report = run_validate(SAMPLES / "flux", repo_root=tmp_path)
    assert of_rule(report, "flux-path-missing") == []


def _kueue_objects(tree) -> list[str]:
    from aiops.tree.manifests import scan_manifests

    return [m.describe() for m in scan_manifests([tree / "aws-primary/infrastructure/configs"]).manifests if m.group == "kueue.x-k8s.io"]


def test_custom_resources_must_wait_for_their_crds(tree):
    """infra-configs' Kueue objects need the CRDs that infra-controllers' kueue HelmRelease installs."""
    infrastructure = tree / "aws-primary/cluster/infrastructure.yaml"
    edit(infrastructure, "  dependsOn:\n    - name: infra-controllers\n", "")
    findings = [f for f in of_rule(run_validate("dist"), "flux-crd-order") if "/infrastructure/configs/" in f.file]
    assert [f.object for f in findings] == _kueue_objects(tree) and len(findings) >= 3
    assert findings[0].message == (
        "applied by Kustomization infra-configs, which does not depend on infra-controllers, where HelmRelease/kueue-system/kueue "
        "(applied by Kustomization infra-controllers) installs the kueue.x-k8s.io CRDs: it may be applied before the CRD exists and fail"
    )
    assert findings[0].hint == "add dependsOn: [{name: infra-controllers}] to Kustomization infra-configs (and wait: true on infra-controllers)"
    edit(infrastructure, "  timeout: 5m\n", "  timeout: 5m\n  dependsOn:\n    - name: infra-controllers\n")
    assert of_rule(run_validate("dist"), "flux-crd-order") == []


def test_custom_resources_beside_the_helm_release_that_installs_their_crd(tree):
    """The kueue HelmRelease moved into infra-configs, next to the Kueue objects it should precede."""
    release = tree / "aws-primary/infrastructure/controllers/kueue.yaml"
    (tree / "aws-primary/infrastructure/configs/kueue.yaml").write_text(release.read_text())
    release.unlink()
    for folder in ("controllers", "configs"):
        listing = tree / f"aws-primary/infrastructure/{folder}/kustomization.yaml"
        text = listing.read_text().replace("  - kueue.yaml\n", "")
        listing.write_text(text + ("  - kueue.yaml\n" if folder == "configs" else ""))
    findings = of_rule(run_validate("dist"), "flux-crd-order")
    assert [f.object for f in findings] == _kueue_objects(tree)
    assert "the same one that applies HelmRelease/kueue-system/kueue" in findings[0].message
