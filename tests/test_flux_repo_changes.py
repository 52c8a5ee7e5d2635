"""`aiops flux check` and `aiops validate` on a copy of a public Flux repository with one thing
changed (a real bootstrap, a deleted cluster folder, a chart source that does not exist, an invalid
${...}): what that changes, pinned. The unchanged repositories' verdicts are in test_flux_repos.py."""

from __future__ import annotations

import json

from conftest import BIN, REPO, aiops, run
from flux_repo_fixtures import POD_SECURITY_RULES, Scratch, flux_repos, flux_rows, message, scratch, validate_rows  # noqa: F401 (flux_repos and scratch are fixtures)


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
