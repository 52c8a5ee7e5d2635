"""`aiops validate` checks each environment's tree at that environment's Kubernetes version: the
version its cluster's Terraform declares (aiops/validate/targets.py). Proven with APIs that one
version has and the other has not: FlowSchema flowcontrol.apiserver.k8s.io/v1beta3 (deprecated in
1.29, removed in 1.32) and MutatingAdmissionPolicy admissionregistration.k8s.io/v1 (served from
1.36), in azure-dr moved to 1.31 beside aws-primary and gcp-burst on 1.36."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import BIN, run
from validate_helpers import dist_copy, edit, run_validate, write

FLOW_SCHEMA = """\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: {name: ml-batch}
spec:
  priorityLevelConfiguration: {name: workload-low}
  matchingPrecedence: 1000
"""
MUTATING_POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: default-team}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  reinvocationPolicy: Never
  mutations:
    - patchType: ApplyConfiguration
      applyConfiguration: {expression: "Object{}"}
"""
AKS = "azure-dr/terraform/aks/cdk.tf.json"


def declared(dist: Path, stack: str, attribute: str) -> str:
    """file:line of the cluster's version attribute, as the validator names it."""
    text = (dist / stack).read_text()
    line = text[: text.index(f'"{attribute}": "1.3')].count("\n") + 1  # (not cdktf's own "version": "0.24.0")
    return f"dist/{stack}:{line}"


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """The reference dist/ with azure-dr's cluster on 1.31 and both policies in two environments."""
    monkeypatch.chdir(tmp_path)
    dist = dist_copy(tmp_path, git=True)
    edit(dist / AKS, '"kubernetes_version": "1.36"', '"kubernetes_version": "1.31"')
    for environment in ("aws-primary", "azure-dr"):
        write(dist / environment / "apps" / "policies.yaml", FLOW_SCHEMA + "---\n" + MUTATING_POLICY)
    return dist


def policy_findings(report) -> list[tuple[str, str, str, str]]:
    return [(f.file, f.object, f.rule.id, f.message) for f in report.findings if f.file.endswith("policies.yaml")]


def test_each_environment_is_checked_at_its_clusters_version(mixed):
    report = run_validate("dist")
    assert policy_findings(report) == [
        ("dist/aws-primary/apps/policies.yaml", "FlowSchema/ml-batch", "api-removed",
         "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema was removed in Kubernetes 1.32; a 1.36 cluster rejects it"),
        ("dist/azure-dr/apps/policies.yaml", "FlowSchema/ml-batch", "api-deprecated",
         "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated since Kubernetes 1.29 and removed in 1.32"),
        ("dist/azure-dr/apps/policies.yaml", "MutatingAdmissionPolicy/default-team", "schema-missing",
         "no schema for admissionregistration.k8s.io/v1 MutatingAdmissionPolicy in the schema cache (Kubernetes 1.31 and the pinned CRDs), "
         "so nothing checked its fields"),
    ]
    assert report.kubernetes_scopes == [
        ("dist/aws-primary", "1.36.0", declared(mixed, "aws-primary/terraform/eks/cdk.tf.json", "version")),
        ("dist/azure-dr", "1.31.0", declared(mixed, AKS, "kubernetes_version")),
        ("dist/gcp-burst", "1.36.0", declared(mixed, "gcp-burst/terraform/gke/cdk.tf.json", "min_master_version")),
    ]


def test_one_folder_of_an_environment_is_checked_at_its_environments_version(mixed):
    """The cluster's Terraform is found beside the folder validated, not only among the paths."""
    report = run_validate("dist/azure-dr/apps")
    assert [(f.object, f.rule.id) for f in report.findings] == [
        ("FlowSchema/ml-batch", "api-deprecated"), ("MutatingAdmissionPolicy/default-team", "schema-missing"),
    ]
    assert report.kubernetes_scopes == [("dist/azure-dr", "1.31.0", declared(mixed, AKS, "kubernetes_version"))]


def test_the_summary_says_which_environment_had_which_version(mixed):
    result = run([str(BIN / "aiops"), "validate", "dist"], mixed.parent)
    assert result.returncode == 1, result.stderr
    assert re.fullmatch(
        r"aiops validate: 1 error, 2 warnings in \d+ files \(\d+ objects; Kubernetes schemas 1\.31 for dist/azure-dr; "
        r"1\.36 for dist/aws-primary, dist/gcp-burst\)", result.stdout.splitlines()[-1]), result.stdout
    document = json.loads(run([str(BIN / "aiops"), "validate", "dist", "--format", "json"], mixed.parent).stdout)
    assert document["kubernetesVersion"] is None
    assert document["kubernetesVersions"] == [
        {"path": "dist/aws-primary", "version": "1.36", "from": declared(mixed, "aws-primary/terraform/eks/cdk.tf.json", "version")},
        {"path": "dist/azure-dr", "version": "1.31", "from": declared(mixed, AKS, "kubernetes_version")},
        {"path": "dist/gcp-burst", "version": "1.36", "from": declared(mixed, "gcp-burst/terraform/gke/cdk.tf.json", "min_master_version")},
    ]


def test_kubernetes_version_checks_every_environment_at_that_version(mixed):
    report = run_validate("dist", kubernetes_version="1.36")
    assert [(f.file, f.rule.id) for f in report.findings if f.file.endswith("policies.yaml")] == [
        ("dist/aws-primary/apps/policies.yaml", "api-removed"), ("dist/azure-dr/apps/policies.yaml", "api-removed"),
    ]
    assert report.kubernetes_scopes == [(None, "1.36.0", "--kubernetes-version")]


def test_an_environment_on_a_version_the_cache_lacks_is_a_clear_error(mixed):
    edit(mixed / AKS, '"kubernetes_version": "1.31"', '"kubernetes_version": "1.30"')
    cluster = next(iter(json.loads((mixed / AKS).read_text())["resource"]["azurerm_kubernetes_cluster"]))
    result = run([str(BIN / "aiops"), "validate", "dist"], mixed.parent)
    assert result.returncode == 2
    assert result.stderr == (
        f"aiops validate: {declared(mixed, AKS, 'kubernetes_version')}: azurerm_kubernetes_cluster.{cluster} runs Kubernetes 1.30, "
        "and the schema cache has no Kubernetes 1.30 schemas (it has 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37); "
        'add "1.30" to kubernetes.versions in schemas/sources.yaml and run `aiops schemas sync` (or `make setup`), '
        "or pass --kubernetes-version to check this tree at another version\n"
    )
    assert run([str(BIN / "aiops"), "validate", "dist", "--kubernetes-version", "1.36"], mixed.parent).returncode == 1


def test_a_foreign_tree_is_checked_at_the_default(tmp_path):
    """No environment folder (and one without cluster Terraform): the cache's default, 1.36."""
    write(tmp_path / "clusters/prod/apps/policies.yaml", FLOW_SCHEMA + "---\n" + MUTATING_POLICY)
    result = run([str(BIN / "aiops"), "validate", "clusters", "--format", "json"], tmp_path)
    document = json.loads(result.stdout)
    assert [(f["object"], f["rule"]) for f in document["findings"]] == [("FlowSchema/ml-batch", "api-removed")]
    assert (document["kubernetesVersion"], document["kubernetesVersions"]) == (
        "1.36", [{"path": None, "version": "1.36", "from": "the schema cache's default (schemas/sources.yaml)"}])


def test_synth_validates_each_environment_at_its_version(mixed):
    """What `aiops synth` validates before it writes (a tree in memory, checked in a scratch
    folder) names the folders as dist/..., versions included."""
    from aiops.synth.dist_tree import read_tree
    from aiops.validate.validator import validate_tree

    report = validate_tree(read_tree(mixed), Path("dist"), committed=True)
    assert [(f.file, f.rule.id) for f in report.findings if f.file.endswith("policies.yaml")] == [
        ("dist/aws-primary/apps/policies.yaml", "api-removed"),
        ("dist/azure-dr/apps/policies.yaml", "api-deprecated"),
        ("dist/azure-dr/apps/policies.yaml", "schema-missing"),
    ]
    assert report.kubernetes_scopes[1] == ("dist/azure-dr", "1.31.0", declared(mixed, AKS, "kubernetes_version"))
