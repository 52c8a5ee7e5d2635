"""`aiops flux check` and `aiops validate` on Flux repositories we did not write.

The five public repositories in ../shared/upstream/flux-repos (SOURCES.md there names each one's
commit) are each copied into a scratch git repository and checked as a user would: `aiops flux
check --dist .` and `aiops validate .` from its root. Every verdict and every finding is pinned,
each with the reason a Flux maintainer would give for it (the last item of each expected row,
not compared). The emulated Flux is v2.9.4: kustomize-controller v1.9.4, and the CRDs the schema
cache pins (Kustomization v1, GitRepository/HelmRepository/OCIRepository v1, HelmRelease v2).

Four of the five keep the `flux bootstrap` layout with placeholder gotk-sync.yaml files ("This
file will be generated automatically by flux bootstrap"): their clusters start at the
Kustomization `flux bootstrap --path=<that folder>` would write. test_flux_repo_changes.py changes
one thing in a copy (a real bootstrap, a deleted cluster folder, a chart source that does not
exist, an invalid ${...}) and pins what that changes; the repositories and their scratch copies
are in flux_repo_fixtures.py.
"""

from __future__ import annotations

import pytest

from flux_repo_fixtures import POD_SECURITY_RULES, REPOSITORIES, flux_repos, flux_rows, message, scratch, validate_rows, without_reasons  # noqa: F401 (flux_repos and scratch are fixtures)


def test_every_repository_is_pinned(flux_repos):
    """A repository added to flux-repos must get its pinned verdicts here."""
    assert sorted(p.name for p in flux_repos.iterdir() if p.is_dir()) == sorted(REPOSITORIES)


# -- the verdicts, repository by repository -------------------------------------------------------

def test_hub_spoke_example(scratch):
    """flux2-hub-spoke-example (2024-12): a hub cluster that applies to two spokes through spec.kubeConfig."""
    repo = scratch("flux2-hub-spoke-example")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert report["verdict"] == ("Flux cannot reconcile this revision: 6 error(s), 0 warning(s), 2 not checked offline; "
                                 "5 of 9 Kustomization(s) built")
    served = "HelmRepository and HelmRelease v1beta2/v2beta2: Flux v2.9.4 serves only source v1 and helm v2; the dry-run fails"
    assert flux_rows(report) == without_reasons([
        ("error", "flux/api-not-served", "deploy/apps/podinfo.yaml", 2, "production/apps", "hub", served),
        ("error", "flux/api-not-served", "deploy/apps/podinfo.yaml", 11, "production/apps", "hub", served),
        ("error", "flux/api-not-served", "deploy/infra-controllers/cert-manager.yaml", 2, "production/infra-controllers", "hub", served),
        ("error", "flux/api-not-served", "deploy/infra-controllers/cert-manager.yaml", 10, "production/infra-controllers", "hub", served),
        ("error", "flux/api-not-served", "deploy/infra-controllers/ingress-nginx.yaml", 2, "production/infra-controllers", "hub", served),
        ("error", "flux/api-not-served", "deploy/infra-controllers/ingress-nginx.yaml", 10, "production/infra-controllers", "hub", served),
        ("unchecked", "flux/crd-source-unknown", "deploy/infra-configs/cluster-issuers.yaml", 2, "production/infra-configs", "hub",
         "cert-manager's CRDs come from its chart, in infra-controllers (which infra-configs depends on), and that fails"),
        ("unchecked", "flux/crd-source-unknown", "deploy/infra-configs/cluster-issuers.yaml", 2, "staging/infra-configs", "hub",
         "the same for the staging spoke: a separate cluster, so a separate finding"),
    ])
    # One base, built by the Kustomizations of both spokes: one finding that names both.
    assert message(report, "flux/api-not-served", "deploy/apps/podinfo.yaml", 11) == (
        "HelmRelease podinfo has apiVersion helm.toolkit.fluxcd.io/v2beta2, which Flux helm-controller v1.6.3 (Flux v2.9.4) "
        "does not serve (it serves v2 of HelmRelease): kustomize-controller's dry-run of Kustomizations production/apps, "
        "staging/apps fail with 'no matches for kind \"HelmRelease\" in version \"helm.toolkit.fluxcd.io/v2beta2\"', and "
        "they apply nothing (nor anything they would create)")
    assert message(report, "flux/crd-source-unknown", "deploy/infra-configs/cluster-issuers.yaml", 2, "production/infra-configs") == (
        "Kustomization production/infra-configs applies ClusterIssuer/production/letsencrypt (cert-manager.io); nothing built "
        "here installs the cert-manager.io CRDs, but what could is not known offline: production/infra-controllers (fails); "
        "whether the CRDs exist before infra-configs is applied cannot be decided here")
    # The spokes are separate clusters: the same Namespace applied to each is not applied twice.
    tenants = {k["name"]: k for c in report["clusters"] for k in c["kustomizations"]}
    assert tenants["production/tenants"]["status"] == tenants["staging/tenants"]["status"] == "built"
    assert [(name, tenants[name]["appliesTo"]) for name in ("production/tenants", "staging/tenants", "production/infra-controllers")] == [
        ("production/tenants", "kubeConfig Secret production/cluster-kubeconfig"),
        ("staging/tenants", "kubeConfig Secret staging/cluster-kubeconfig"),
        ("production/infra-controllers", None),  # applies to the hub; its HelmReleases get kubeConfig from a patch
    ]
    assert not [f for f in report["findings"] if f["rule"] == "flux/applied-twice"]

    code, checked = repo.validate()
    assert code == 1
    assert validate_rows(checked) == without_reasons([
        ("error", "api-removed", "deploy/apps/podinfo.yaml", 2, served),
        ("error", "api-removed", "deploy/apps/podinfo.yaml", 11, served),
        ("warning", "schema-missing", "deploy/infra-configs/cluster-issuers.yaml", 2, "cert-manager's CRDs are not in the schema cache"),
        ("error", "api-removed", "deploy/infra-controllers/cert-manager.yaml", 2, served),
        ("error", "api-removed", "deploy/infra-controllers/cert-manager.yaml", 10, served),
        ("error", "api-removed", "deploy/infra-controllers/ingress-nginx.yaml", 2, served),
        ("error", "api-removed", "deploy/infra-controllers/ingress-nginx.yaml", 10, served),
        # clusters/*/apps/podinfo-values.yaml are patches (kustomization.yaml `patches`), not objects: not reported
    ])


def test_kustomize_helm_example(scratch):
    """flux2-kustomize-helm-example (2026-07): every Kustomization but the bootstrap takes an ExternalArtifact."""
    repo = scratch("flux2-kustomize-helm-example")
    code, report = repo.flux("--no-prune")
    assert code == 0
    assert report["verdict"] == (
        "Flux can reconcile what was checked: 0 error(s), 2 warning(s), 6 not checked offline; 2 of 8 Kustomization(s) "
        "built; 6 not built here (flux-system/apps, flux-system/infra-configs, flux-system/infra-controllers)")
    artifact = "source ExternalArtifact: assembled in the cluster by source-watcher, not in this revision"
    watcher = "ArtifactGenerator's CRD comes with source-watcher, which only --components-extra installs"
    assert flux_rows(report) == without_reasons([
        ("warning", "flux/crd-not-installed", "clusters/production/artifacts.yaml", 2, "flux-system/flux-system", "clusters/production", watcher),
        ("warning", "flux/crd-not-installed", "clusters/staging/artifacts.yaml", 2, "flux-system/flux-system", "clusters/staging", watcher),
        ("unchecked", "flux/source-offline", "clusters/production/apps.yaml", 13, "flux-system/apps", "clusters/production", artifact),
        ("unchecked", "flux/source-offline", "clusters/production/infrastructure.yaml", 11, "flux-system/infra-controllers", "clusters/production", artifact),
        ("unchecked", "flux/source-offline", "clusters/production/infrastructure.yaml", 29, "flux-system/infra-configs", "clusters/production", artifact),
        ("unchecked", "flux/source-offline", "clusters/staging/apps.yaml", 13, "flux-system/apps", "clusters/staging", artifact),
        ("unchecked", "flux/source-offline", "clusters/staging/infrastructure.yaml", 11, "flux-system/infra-controllers", "clusters/staging", artifact),
        ("unchecked", "flux/source-offline", "clusters/staging/infrastructure.yaml", 29, "flux-system/infra-configs", "clusters/staging", artifact),
    ])
    assert [(k["name"], k["status"]) for c in report["clusters"] for k in c["kustomizations"]] == [
        ("flux-system/apps", "unchecked"), ("flux-system/flux-system", "built"),
        ("flux-system/infra-configs", "unchecked"), ("flux-system/infra-controllers", "unchecked")] * 2
    (generator,) = [f for f in report["findings"] if f["file"] == "clusters/production/artifacts.yaml"]
    assert generator["fix"] == ("the source.extensions.fluxcd.io CRDs come with Flux's extra components: bootstrap with "
                                "`flux bootstrap --components-extra=source-watcher`")

    code, checked = repo.validate()
    assert code == 0
    missing = "no schema in the cache for this kind: a warning, not a pass"
    assert validate_rows(checked) == without_reasons([
        ("warning", "schema-missing", ".fluxschema.yml", 1, "the schema plugin's config is YAML with apiVersion and kind: " + missing),
        ("warning", "schema-missing", "clusters/production/artifacts.yaml", 2, missing),
        ("warning", "schema-missing", "clusters/staging/artifacts.yaml", 2, missing),
        ("warning", "schema-missing", "infrastructure/configs/cluster-issuers.yaml", 2, missing),
        ("warning", "schema-missing", "infrastructure/configs/gateway.yaml", 2, missing),
        ("warning", "schema-missing", "infrastructure/configs/gateway.yaml", 9, missing),
        # apps/*/podinfo-values.yaml are HelmRelease values patches: not judged as whole HelmReleases
    ])


def test_monitoring_example(scratch):
    """flux2-monitoring-example (2026-03): current APIs, kube-prometheus-stack's CRDs before the PodMonitor."""
    repo = scratch("flux2-monitoring-example")
    code, report = repo.flux("--no-prune")
    assert code == 0
    assert report["verdict"] == ("Flux can reconcile this revision: 0 error(s), 0 warning(s), 0 not checked offline; "
                                 "3 of 3 Kustomization(s) built")
    # monitoring-configs depends on monitoring-controllers (wait: true), whose kube-prometheus-stack installs the
    # monitoring.coreos.com CRDs; its namespace comes from the same Kustomization.
    assert flux_rows(report) == []
    (cluster,) = report["clusters"]
    # clusters/test/flux-system/gotk-sync.yaml is a placeholder: the bootstrap is the one `flux bootstrap` would write
    assert (cluster["name"], cluster["bootstrap"], cluster["bootstrapImplied"]) == ("clusters/test", "flux-system/flux-system", True)

    code, checked = repo.validate()
    assert code == 0
    assert validate_rows(checked) == without_reasons([
        ("warning", "schema-missing", "monitoring/configs/podmonitor.yaml", 1, "the prometheus-operator CRDs are not in the schema cache"),
        # kube-state-metrics-config.yaml is a configMapGenerator source, kustomizeconfig.yaml a transformer configuration
    ])


def test_multi_tenancy(scratch):
    """flux2-multi-tenancy (2025-06): a tenant synced from another branch, Kyverno from an OCI artifact."""
    repo = scratch("flux2-multi-tenancy")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert report["verdict"] == ("Flux cannot reconcile this revision: 1 error(s), 0 warning(s), 3 not checked offline; "
                                 "6 of 10 Kustomization(s) built; 2 not built here (apps/dev-team)")
    both = "clusters/production, clusters/staging"
    assert flux_rows(report) == without_reasons([
        ("error", "flux/api-not-served", "infrastructure/kyverno/source.yaml", 1, "flux-system/kyverno", both,
         "OCIRepository v1beta2: the pinned source-controller serves only v1, so kyverno's dry-run fails"),
        ("unchecked", "flux/not-reached", "infrastructure/kyverno/sync.yaml", 1, "flux-system/kyverno-controller", "clusters/production",
         "kyverno, which would create it, fails"),
        ("unchecked", "flux/crd-source-unknown", "infrastructure/kyverno-policies/verify-flux-images.yaml", 1, "flux-system/kyverno-policies", both,
         "the kyverno.io CRDs come from the OCI artifact behind kyverno, which fails"),
        ("unchecked", "flux/source-offline", "tenants/base/dev-team/sync.yaml", 20, "apps/dev-team", both,
         "GitRepository apps/dev-team is another branch: not built here, never taken for a bootstrap"),
    ])
    assert message(report, "flux/source-offline", "tenants/base/dev-team/sync.yaml", 20) == (
        "Kustomization apps/dev-team is not built here: its source GitRepository apps/dev-team fetches "
        "https://github.com/fluxcd/flux2-multi-tenancy at branch dev-team, not the repository being checked, so what it "
        "builds is not in this revision")
    # The tenant's base is patched per cluster (tenants/*/dev-team-patch.yaml sets its path): each cluster gets its own.
    paths = {(c["name"], k["name"]): k["path"] for c in report["clusters"] for k in c["kustomizations"]}
    assert paths[("clusters/production", "apps/dev-team")] == "./production"
    assert paths[("clusters/staging", "apps/dev-team")] == "./staging"

    code, checked = repo.validate()
    assert code == 1
    assert validate_rows(checked) == without_reasons([
        ("warning", "schema-missing", "infrastructure/kyverno-policies/verify-flux-images.yaml", 1, "Kyverno's CRDs are not in the cache"),
        ("warning", "schema-missing", "infrastructure/kyverno-policies/verify-git-repositories.yaml", 1, "Kyverno's CRDs are not in the cache"),
        ("error", "api-removed", "infrastructure/kyverno/source.yaml", 1, "OCIRepository v1beta2 is not served"),
    ])


def test_gitops_istio(scratch):
    """gitops-istio (2023-11): written for Flux v2.1 (Kustomization v1beta2, HelmRelease v2beta1)."""
    repo = scratch("gitops-istio")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert report["verdict"] == ("Flux cannot reconcile this revision: 3 error(s), 0 warning(s), 3 not checked offline; "
                                 "0 of 3 Kustomization(s) built")
    loose = "clusters/my-cluster (no bootstrap Kustomization)"
    refused = "kustomize.toolkit.fluxcd.io/v1beta2 is not served: the cluster refuses the Kustomization itself"
    entry = "no flux-system folder: how these reach a cluster is not in the repository"
    assert flux_rows(report) == without_reasons([
        ("error", "flux/api-not-served", "clusters/my-cluster/apps.yaml", 1, "flux-system/apps", loose, refused),
        ("error", "flux/api-not-served", "clusters/my-cluster/istio.yaml", 1, "flux-system/istio-system", loose, refused),
        ("error", "flux/api-not-served", "clusters/my-cluster/istio.yaml", 19, "flux-system/istio-gateway", loose, refused),
        ("unchecked", "flux/no-bootstrap", "clusters/my-cluster/apps.yaml", 1, "flux-system/apps", loose, entry),
        ("unchecked", "flux/no-bootstrap", "clusters/my-cluster/istio.yaml", 1, "flux-system/istio-system", loose, entry),
        ("unchecked", "flux/no-bootstrap", "clusters/my-cluster/istio.yaml", 19, "flux-system/istio-gateway", loose, entry),
    ])
    assert message(report, "flux/api-not-served", "clusters/my-cluster/apps.yaml", 1) == (
        "Kustomization flux-system/apps has apiVersion kustomize.toolkit.fluxcd.io/v1beta2, which Flux kustomize-controller "
        "v1.9.4 (Flux v2.9.4) does not serve (it serves v1 of Kustomization): the cluster refuses to create it (kubectl apply "
        "and kustomize-controller both get 'no matches for kind \"Kustomization\"'), so nothing of it is applied")

    code, checked = repo.validate()
    assert code == 1
    missing = "Flagger's and Istio's CRDs are not in the schema cache"
    removed = "an apiVersion the pinned Flux CRDs do not serve"
    assert validate_rows(checked) == without_reasons([
        ("warning", "schema-missing", "apps/backend/canary.yaml", 1, missing),
        ("warning", "schema-missing", "apps/frontend/canary.yaml", 1, missing),
        ("warning", "schema-missing", "apps/sidecar/default.yaml", 1, missing),
        ("error", "api-removed", "clusters/my-cluster/apps.yaml", 1, removed),
        ("error", "api-removed", "clusters/my-cluster/istio.yaml", 1, removed),
        ("error", "api-removed", "clusters/my-cluster/istio.yaml", 19, removed),
        ("warning", "schema-missing", "istio/gateway/flagger-metrics.yaml", 1, missing),
        ("warning", "schema-missing", "istio/gateway/flagger-metrics.yaml", 33, missing),
        ("warning", "schema-missing", "istio/gateway/public-gateway.yaml", 1, missing),
        ("error", "api-removed", "istio/system/flagger.yaml", 1, removed),
        ("error", "api-removed", "istio/system/flagger.yaml", 10, removed),
        ("error", "api-removed", "istio/system/flagger.yaml", 33, removed),
        ("error", "api-removed", "istio/system/istio.yaml", 1, removed),
        ("error", "api-removed", "istio/system/istio.yaml", 12, removed),
        ("error", "api-removed", "istio/system/istio.yaml", 34, removed),
        ("error", "api-removed", "istio/system/istio.yaml", 68, removed),
        # apps/*/deployment.patch.yaml are JSON 6902 patches (patchesJson6902), not objects
    ])


POD_SECURITY_EXPECTED: dict[str, list[tuple]] = {
    "flux2-hub-spoke-example": [
        ('warning', 'namespace-pod-security', 'deploy/tenants/cert-manager.yaml', 6),
        ('warning', 'namespace-pod-security', 'deploy/tenants/flux.yaml', 5),
        ('warning', 'namespace-pod-security', 'deploy/tenants/ingress-nginx.yaml', 6),
        ('warning', 'namespace-pod-security', 'deploy/tenants/podinfo.yaml', 5),
        ('warning', 'namespace-pod-security', 'hub/production.yaml', 3),
        ('warning', 'namespace-pod-security', 'hub/staging.yaml', 3),
    ],
    "flux2-kustomize-helm-example": [
        ('warning', 'namespace-pod-security', 'apps/base/podinfo/namespace.yaml', 5),
        ('warning', 'namespace-pod-security', 'infrastructure/controllers/cert-manager.yaml', 6),
        ('warning', 'namespace-pod-security', 'infrastructure/controllers/envoy-gateway.yaml', 6),
    ],
    "flux2-monitoring-example": [
    ],
    "flux2-multi-tenancy": [
        ('warning', 'namespace-pod-security', 'tenants/base/dev-team/rbac.yaml', 5),
    ],
    "gitops-istio": [
        ('warning', 'namespace-pod-security', 'apps/namespace.yaml', 4),
        ('warning', 'namespace-pod-security', 'istio/system/namespace.yaml', 3),
    ],
}


@pytest.mark.parametrize("name", ["flux2-hub-spoke-example", "flux2-kustomize-helm-example", "flux2-monitoring-example", "flux2-multi-tenancy", "gitops-istio"])
def test_pod_security_findings_on_each_repository(scratch, name):
    """Namespaces these examples create carry no Pod Security label (namespace-pod-security, a
    warning): true of every one of them, and what a security reviewer would ask to fix."""
    _, checked = scratch(name).validate()
    rows = [(f["severity"], f["rule"], f["file"], f["line"]) for f in checked["findings"] if f["rule"] in POD_SECURITY_RULES]
    assert rows == POD_SECURITY_EXPECTED[name]
