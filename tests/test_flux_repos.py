"""`aiops flux check` and `aiops validate` on Flux repositories we did not write.

The five public repositories in ../shared/upstream/flux-repos (SOURCES.md there names each one's
commit) are each copied into a scratch git repository and checked as a user would: `aiops flux
check --dist .` and `aiops validate .` from its root. Every verdict and every finding is pinned,
each with the reason a Flux maintainer would give for it (the last item of each expected row,
not compared). The emulated Flux is v2.9.4: kustomize-controller v1.9.4, and the CRDs the schema
cache pins (Kustomization v1, GitRepository/HelmRepository/OCIRepository v1, HelmRelease v2).

Four of the five keep the `flux bootstrap` layout with placeholder gotk-sync.yaml files ("This
file will be generated automatically by flux bootstrap"): their clusters start at the
Kustomization `flux bootstrap --path=<that folder>` would write. The cases after the pinned
verdicts change one thing in a copy (a real bootstrap, a deleted cluster folder, a chart source
that does not exist, an invalid ${...}) and pin what that changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import BIN, REPO, GitScratch, aiops, run

REPOSITORIES = ("flux2-hub-spoke-example", "flux2-kustomize-helm-example", "flux2-monitoring-example",
                "flux2-multi-tenancy", "gitops-istio")


@pytest.fixture(scope="session")
def flux_repos() -> Path:
    for parent in REPO.parents:
        folder = parent / "shared" / "upstream" / "flux-repos"
        if folder.is_dir():
            return folder
    pytest.skip("the public Flux repositories (../shared/upstream/flux-repos) are not next to this checkout")


class Scratch(GitScratch):
    """A scratch git repository holding a copy of one upstream repository."""

    def __init__(self, root: Path, source: Path) -> None:
        self.root = root
        shutil.copytree(source, root)
        self.git("init", "--quiet")
        self.commit("upstream")

    def flux(self, *args: str) -> tuple[int, dict]:
        result = aiops("flux", "check", "--dist", ".", "--format", "json", *args, cwd=self.root)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)

    def validate(self, *args: str) -> tuple[int, dict]:
        result = aiops("validate", ".", "--format", "json", *args, cwd=self.root)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)


@pytest.fixture
def scratch(tmp_path, flux_repos):
    def make(name: str) -> Scratch:
        return Scratch(tmp_path / name, flux_repos / name)
    return make


def flux_rows(report: dict) -> list[tuple]:
    return [(f["severity"], f["rule"], f["file"], f["line"], f["kustomization"], f["cluster"]) for f in report["findings"]]


# The pod-security rules (privileged, root, hostPath, unlabelled namespaces) judge workloads, not
# Flux: their findings on these repositories are pinned on their own, in
# test_pod_security_findings_on_each_repository.
POD_SECURITY_RULES = {"namespace-pod-security", "pod-privileged", "pod-runs-as-root", "pod-host-path", "pod-security-restricted"}


def validate_rows(report: dict) -> list[tuple]:
    return [(f["severity"], f["rule"], f["file"], f["line"]) for f in report["findings"] if f["rule"] not in POD_SECURITY_RULES]


def without_reasons(rows: list[tuple]) -> list[tuple]:
    return [row[:-1] for row in rows]


def message(report: dict, rule: str, file: str, line: int | None, kustomization: str | None = None) -> str:
    (found,) = [f for f in report["findings"] if (f["rule"], f["file"], f["line"]) == (rule, file, line)
                and kustomization in (None, f["kustomization"])]
    return found["message"]


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


# -- one change at a time ----------------------------------------------------------------------------

def _bootstrap(repo: Scratch, folder: str, url: str) -> None:
    """What `flux bootstrap --path=<folder>` commits: gotk-components.yaml (here: the pinned Flux CRDs
    from ../shared/upstream/crds/flux, where bootstrap also writes the controllers) and gotk-sync.yaml."""
    crds = sorted((REPO.parent / "shared" / "upstream" / "crds" / "flux").glob("*.yaml"))
    if not crds:
        for parent in REPO.parents:
            crds = sorted((parent / "shared" / "upstream" / "crds" / "flux").glob("*.yaml"))
            if crds:
                break
    texts = [p.read_text().removeprefix("---\n").strip() for p in crds]
    (repo.root / folder / "flux-system" / "gotk-components.yaml").write_text("---\n" + "\n---\n".join(texts) + "\n")
    (repo.root / folder / "flux-system" / "gotk-sync.yaml").write_text(
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n"
        f"  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: main\n  secretRef:\n    name: flux-system\n"
        f"  url: {url}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n"
        f"  namespace: flux-system\nspec:\n  interval: 10m0s\n  path: ./{folder}\n  prune: true\n  sourceRef:\n"
        "    kind: GitRepository\n    name: flux-system\n")


def test_a_bootstrapped_repository_passes_both_commands(scratch):
    """flux2-monitoring-example after `flux bootstrap --path=clusters/test`: Flux's CRDs in gotk-components.yaml.
    validate used to ask every Flux object for a dependsOn on flux-system (once per CRD); Flux's own APIs
    exist before the first Kustomization, and what flux-system applies is created after its CRDs anyway."""
    repo = scratch("flux2-monitoring-example")
    _bootstrap(repo, "clusters/test", "ssh://git@github.com/fluxcd/flux2-monitoring-example")
    repo.commit("flux bootstrap")
    code, report = repo.flux("--no-prune")
    assert (code, flux_rows(report)) == (0, [])
    (cluster,) = report["clusters"]
    assert (cluster["bootstrap"], cluster["bootstrapImplied"]) == ("flux-system/flux-system", False)
    assert report["verdict"] == ("Flux can reconcile this revision: 0 error(s), 0 warning(s), 0 not checked offline; "
                                 "3 of 3 Kustomization(s) built")
    code, checked = repo.validate()
    assert (code, validate_rows(checked)) == (0, [("warning", "schema-missing", "monitoring/configs/podmonitor.yaml", 1)])


def test_deleting_a_clusters_bootstrap_folder_is_an_error(scratch):
    """The cluster keeps its flux-system Kustomization: without its path it stops for good."""
    repo = scratch("flux2-monitoring-example")
    base = repo.git("rev-parse", "HEAD")[:12]
    repo.git("rm", "-r", "--quiet", "clusters/test")
    head = repo.commit("retire the test cluster")[:12]
    code, report = repo.flux()
    assert code == 1
    assert flux_rows(report) == [
        ("error", "flux/bootstrap-path-removed", "clusters/test/flux-system/gotk-sync.yaml", None, "flux-system/flux-system", "clusters/test"),
    ]
    (finding,) = report["findings"]
    assert finding["message"] == (
        f"HEAD ({head}) removes clusters/test/, the path of cluster clusters/test's bootstrap Kustomization "
        "flux-system/flux-system (as `flux bootstrap` wrote it); that Kustomization stays in the cluster and reconciles "
        "./clusters/test from this repository: kustomize-controller stops with \"kustomization path not found\" and "
        "applies nothing from this repository again (nor prunes) until the folder is back")
    assert report["prune"]["base"] == f"HEAD^ ({base})"


def test_a_chart_source_that_does_not_exist_is_an_error(scratch):
    repo = scratch("flux2-monitoring-example")
    release = repo.root / "monitoring/controllers/loki-stack/release.yaml"
    release.write_text(release.read_text().replace("name: grafana-charts", "name: grafana"))
    repo.commit("typo in sourceRef")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert flux_rows(report) == [
        ("error", "flux/helm-source-not-found", "monitoring/controllers/loki-stack/release.yaml", 1,
         "flux-system/monitoring-controllers", "clusters/test"),
    ]
    assert report["findings"][0]["message"] == (
        "HelmRelease monitoring/loki (applied by Kustomization flux-system/monitoring-controllers) takes its chart from "
        "HelmRepository monitoring/grafana (spec.chart.spec.sourceRef), which no Kustomization of cluster clusters/test "
        "applies: helm-controller cannot fetch the chart, and the release never installs (Ready=False, the source is not found)")
    code, checked = repo.validate()
    assert code == 1
    assert validate_rows(checked) == [
        ("warning", "schema-missing", "monitoring/configs/podmonitor.yaml", 1),
        ("error", "flux-source-missing", "monitoring/controllers/loki-stack/release.yaml", 15),  # the sourceRef's name
    ]
    (missing,) = [f for f in checked["findings"] if f["rule"] == "flux-source-missing"]
    assert (missing["object"], missing["message"]) == ("HelmRelease/loki", "takes its chart from HelmRepository grafana, which no file of "
                                  "the validated tree defines: helm-controller cannot fetch the chart and the release never installs")


def test_a_substitution_failure_is_a_finding_at_the_object(scratch):
    """`${1}` is no variable name: the whole Kustomization fails, and what waits for it is unknown."""
    repo = scratch("flux2-monitoring-example")
    sync = repo.root / "clusters/test/monitoring.yaml"
    sync.write_text(sync.read_text().replace("  path: ./monitoring/controllers\n",
                                             "  path: ./monitoring/controllers\n  postBuild:\n    substitute:\n      REGION: eu\n", 1))
    namespace = repo.root / "monitoring/controllers/kube-prometheus-stack/namespace.yaml"
    namespace.write_text(namespace.read_text().replace("  name: monitoring\n", "  name: monitoring\n  annotations:\n    x: \"${1}\"\n", 1))
    repo.commit("an invalid variable")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert flux_rows(report) == [
        ("error", "flux/substitution-failed", "monitoring/controllers/kube-prometheus-stack/namespace.yaml", 1,
         "flux-system/monitoring-controllers", "clusters/test"),
        # monitoring-configs needs the CRDs and the namespace of the Kustomization that fails: not judged on an unknown
        ("unchecked", "flux/crd-source-unknown", "monitoring/configs/podmonitor.yaml", 1, "flux-system/monitoring-configs", "clusters/test"),
        ("unchecked", "flux/namespace-source-unknown", "monitoring/configs/podmonitor.yaml", 1, "flux-system/monitoring-configs", "clusters/test"),
    ]
    assert report["findings"][0]["message"] == (
        "the postBuild substitution of Kustomization flux-system/monitoring-controllers (clusters/test/monitoring.yaml:17) "
        "fails: post build failed for 'Namespace.v1.[noGrp]/monitoring': envsubst error: '1' var name is invalid, must "
        "match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'; kustomize-controller applies nothing of it")


def test_validate_flux_builds_the_folder_it_validates_and_reports_each_problem_once(scratch):
    """`aiops validate . --flux` builds the Kustomizations under `.` (flux check's --dist); the unserved
    OCIRepository is api-removed once, not also a flux-build finding."""
    repo = scratch("flux2-multi-tenancy")
    code, checked = repo.validate("--flux")
    assert code == 1
    assert [(f["severity"], f["rule"], f["file"], f["line"], f["message"].split("]")[0] + "]" if f["rule"] == "flux-build" else "")
            for f in checked["findings"] if f["rule"] not in POD_SECURITY_RULES] == [
        ("info", "flux-build", "infrastructure/kyverno-policies/verify-flux-images.yaml", 1, "[flux/crd-source-unknown]"),
        ("warning", "schema-missing", "infrastructure/kyverno-policies/verify-flux-images.yaml", 1, ""),
        ("warning", "schema-missing", "infrastructure/kyverno-policies/verify-git-repositories.yaml", 1, ""),
        ("error", "api-removed", "infrastructure/kyverno/source.yaml", 1, ""),
        ("info", "flux-build", "infrastructure/kyverno/sync.yaml", 1, "[flux/not-reached]"),
        ("info", "flux-build", "tenants/base/dev-team/sync.yaml", 20, "[flux/source-offline]"),
    ]
    result = aiops("validate", ".", "--dist", "clusters", cwd=repo.root)
    assert (result.returncode, result.stderr) == (2, "aiops validate: --dist chooses what --flux builds; add --flux\n")
    head = repo.git("rev-parse", "HEAD")[:12]
    for args, error in ((("--rev", "nope"), f"unknown revision 'nope' in {repo.root}"),
                        (("--dist", "nosuch"), f"nosuch/ does not exist at working tree (on {head})")):
        result = aiops("validate", ".", "--flux", *args, cwd=repo.root)
        assert (result.returncode, result.stderr) == (2, f"aiops validate: {error}\n")
    result = aiops("validate", ".", "--flux", "--rev", "HEAD", "--format", "json", cwd=repo.root)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == [f["rule"] for f in checked["findings"]]


def test_both_clusters_of_multi_tenancy_bootstrapped(scratch):
    """Two bootstrapped clusters in one repository, each with its own flux-system/flux-system: validate
    used to ask one to depend on the other, that is on itself. The verdict is the placeholder layout's."""
    repo = scratch("flux2-multi-tenancy")
    for cluster in ("production", "staging"):
        _bootstrap(repo, f"clusters/{cluster}", "https://github.com/fluxcd/flux2-multi-tenancy")
    repo.commit("flux bootstrap, twice")
    code, report = repo.flux("--no-prune")
    assert code == 1
    assert [c["bootstrap"] for c in report["clusters"]] == ["flux-system/flux-system"] * 2
    assert [(f["rule"], f["file"]) for f in report["findings"]] == [
        ("flux/api-not-served", "infrastructure/kyverno/source.yaml"),
        ("flux/not-reached", "infrastructure/kyverno/sync.yaml"),
        ("flux/crd-source-unknown", "infrastructure/kyverno-policies/verify-flux-images.yaml"),
        # the same URL as the bootstrap, another branch: still not this repository's revision
        ("flux/source-offline", "tenants/base/dev-team/sync.yaml"),
    ]
    code, checked = repo.validate()
    assert [f["rule"] for f in checked["findings"] if f["rule"] not in POD_SECURITY_RULES] == ["schema-missing", "schema-missing", "api-removed"]


def test_an_external_artifact_no_generator_produces_is_an_error(scratch):
    """Kustomization apps reads ExternalArtifact apps; the production ArtifactGenerator renamed it. The
    staging generator still produces one of that name, but in another cluster."""
    repo = scratch("flux2-kustomize-helm-example")
    generator = repo.root / "clusters/production/artifacts.yaml"
    generator.write_text(generator.read_text().replace("    - name: apps\n", "    - name: applications\n"))
    repo.commit("rename an artifact")
    code, report = repo.flux("--no-prune")
    assert code == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["file"], f["line"], f["cluster"]) for f in errors] == [
        ("flux/source-not-found", "clusters/production/apps.yaml", 13, "clusters/production")]
    assert errors[0]["message"] == (
        "Kustomization flux-system/apps takes its files from ExternalArtifact flux-system/apps, which no Kustomization of "
        "cluster clusters/production applies (nor an ArtifactGenerator artifact of that name): kustomize-controller reports "
        "\"Source 'ExternalArtifact/flux-system/apps' not found\" and applies nothing")


def test_validate_flux_checks_what_a_patch_makes_of_an_object(scratch):
    """A patch is not judged alone (it is partial on purpose), but with --flux the object the build makes
    of it is: `prune: "yes"` in the production patch of the tenant's Kustomization is a string."""
    repo = scratch("flux2-multi-tenancy")
    patch = repo.root / "tenants/production/dev-team-patch.yaml"
    patch.write_text(patch.read_text().rstrip("\n") + "\n  prune: \"yes\"\n")
    repo.commit("a string where a boolean goes")
    code, checked = repo.validate()
    assert "schema" not in [f["rule"] for f in checked["findings"]]  # the patch alone is not an object
    code, checked = repo.validate("--flux")
    assert code == 1
    schema = [f for f in checked["findings"] if f["rule"] == "schema"]
    assert [(f["file"], f["line"], f["object"], f["message"]) for f in schema] == [
        ("tenants/base/dev-team/sync.yaml", 12, "Kustomization/apps/dev-team",
         "as built by Kustomization flux-system/tenants (tenants/production/kustomization.yaml and its patches): "
         "spec.prune: got string, want boolean"),
    ]


def test_without_the_schema_cache_the_served_versions_are_unchecked(scratch, tmp_path):
    """Which apiVersions Flux serves comes from the pinned Flux CRDs of the schema cache: without it,
    gitops-istio's v1beta2 Kustomizations are built, and the check says what it could not judge."""
    repo = scratch("gitops-istio")
    result = run([str(BIN / "aiops"), "flux", "check", "--dist", ".", "--no-prune", "--format", "json"], repo.root,
                 env={"AIOPS_SCHEMA_CACHE": str(tmp_path / "no-cache")})
    report = json.loads(result.stdout)
    (finding,) = [f for f in report["findings"] if f["rule"] == "flux/api-versions-unchecked"]
    assert (finding["severity"], finding["file"], finding["message"]) == (
        "unchecked", None,
        "the schema cache (which pins the Flux CRDs, schemas/sources.yaml) is missing, so which apiVersions the emulated "
        "Flux serves is not known: objects of versions it no longer serves are not reported")
    assert not [f for f in report["findings"] if f["rule"] == "flux/api-not-served"]


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
