"""The schema cache: conversion of CRDs and Kubernetes schemas, `aiops schemas sync` from a
mirror, checksums, and CRDs of the user's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import BIN, REPO, run
from validate_helpers import SAMPLES, UPSTREAM, of_rule, run_validate, write

CACHE = Path(run([str(BIN / "python"), "-c", "from aiops.schema_cache import default_cache_dir; print(default_cache_dir())"], REPO, check=True).stdout.strip())

QUEUE_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: queues.scheduling.run.ai}
spec:
  group: scheduling.run.ai
  names: {kind: Queue, plural: queues, singular: queue}
  scope: Cluster
  versions:
    - name: v2
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                parentQueue: {type: string}
                priority: {type: integer}
                resources:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
"""


# --- conversion ---------------------------------------------------------------------------------

def test_crd_conversion_follows_openapi2jsonschema():
    from aiops.schema_cache.convert import crd_json_schema

    schema = crd_json_schema({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "port": {"format": "int-or-string", "x-kubernetes-int-or-string": True},
                "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {"type": "string"}}},
                "properties": {"type": "object", "properties": {"x": {"type": "string"}}},  # a field *named* properties
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "free": {"type": "object", "additionalProperties": {"type": "string"}},
            }},
        },
    })
    spec = schema["properties"]["spec"]
    assert schema["additionalProperties"] is False  # the root too (openapi2jsonschema's DENY_ROOT mode)
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec"}  # the API server always allows these
    assert spec["additionalProperties"] is False
    assert spec["properties"]["port"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert "additionalProperties" not in spec["properties"]["values"]  # kept open: the API server keeps unknown fields
    assert spec["properties"]["properties"]["additionalProperties"] is False
    assert set(spec["properties"]["properties"]["properties"]) == {"x"}  # the field named properties is not rewritten
    assert spec["properties"]["items"]["items"]["additionalProperties"] is False
    assert spec["properties"]["free"]["additionalProperties"] == {"type": "string"}


def test_kubernetes_schemas_are_standalone_with_local_references():
    folder = CACHE / "kubernetes" / "v1.36.0-standalone-strict"
    deployment = json.loads((folder / "deployment-apps-v1.json").read_text())
    references = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.add(node["$ref"])
            assert "$id" not in node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(deployment)
    assert references and all(r.startswith("#/$defs/") for r in references)
    assert {r.removeprefix("#/$defs/") for r in references} <= set(deployment["$defs"])
    assert "io.k8s.api.core.v1.PodSpec" in deployment["$defs"]
    assert deployment["additionalProperties"] is False  # the strict variant


def test_the_cache_holds_every_pinned_kind():
    index = json.loads((CACHE / "index.json").read_text())
    kinds = {(group, kind): [v["name"] for v in entry["versions"] if v["served"]] for group, entries in index["crds"].items() for kind, entry in entries.items()}
    assert kinds == {
        ("ray.io", "RayCluster"): ["v1", "v1alpha1"],
        ("ray.io", "RayJob"): ["v1", "v1alpha1"],
        ("ray.io", "RayService"): ["v1", "v1alpha1"],
        ("kustomize.toolkit.fluxcd.io", "Kustomization"): ["v1"],
        ("source.toolkit.fluxcd.io", "GitRepository"): ["v1"],
        ("source.toolkit.fluxcd.io", "HelmRepository"): ["v1"],
        ("source.toolkit.fluxcd.io", "OCIRepository"): ["v1"],
        ("helm.toolkit.fluxcd.io", "HelmRelease"): ["v2"],
        ("kueue.x-k8s.io", "ClusterQueue"): ["v1beta1", "v1beta2"],
        ("kueue.x-k8s.io", "LocalQueue"): ["v1beta1", "v1beta2"],
        ("kueue.x-k8s.io", "ResourceFlavor"): ["v1beta1", "v1beta2"],
        ("kubernetes.dask.org", "DaskCluster"): ["v1"],
        ("kubernetes.dask.org", "DaskWorkerGroup"): ["v1"],
        ("kubernetes.dask.org", "DaskJob"): ["v1"],
        ("kubernetes.dask.org", "DaskAutoscaler"): ["v1"],
    }
    assert index["kubernetes"] == {"package": "kubernetes-validate 1.37.0", "default": "1.36.0",
                                   "versions": ["1.31.0", "1.32.0", "1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0"]}


def test_the_default_version_is_the_newest_every_cloud_has():
    """The default (for trees that name no cluster) is the newest minor that EKS, AKS and GKE all
    have generally available on the support table's `checked` day: moving the table on without
    the default (or the default without the table) fails here."""
    from aiops.model.kubernetes_support import load_support_table

    table = load_support_table()
    everywhere = set.intersection(*(set(table.supported(cloud, table.checked)) for cloud in ("aws", "azure", "gcp")))
    newest = max(everywhere, key=lambda v: tuple(map(int, v.split("."))))
    pins = yaml.safe_load((REPO / "schemas/sources.yaml").read_text())["kubernetes"]
    assert (pins["default"], newest) == ("1.36", "1.36")


def test_the_cache_holds_every_environments_kubernetes_version():
    """Each environment's tree is checked at its own version (aiops/validate/targets.py)."""
    pins = yaml.safe_load((REPO / "schemas/sources.yaml").read_text())["kubernetes"]
    wanted = {yaml.safe_load(p.read_text())["kubernetesVersion"] for p in (REPO / "environments").glob("*.yaml")}
    assert wanted == {"1.36"}
    assert wanted <= set(pins["versions"])
    assert {f"{v}.0" for v in wanted} <= set(json.loads((CACHE / "index.json").read_text())["kubernetes"]["versions"])


# --- aiops schemas sync -------------------------------------------------------------------------------

@pytest.fixture
def small_sources(tmp_path) -> Path:
    """The real pins with one Kubernetes version (conversion of seven takes a while)."""
    sources = yaml.safe_load((REPO / "schemas/sources.yaml").read_text())
    sources["kubernetes"]["versions"] = ["1.36"]
    return write(tmp_path / "sources.yaml", yaml.safe_dump(sources))


@pytest.fixture
def mirror(tmp_path) -> Path:
    """A mirror folder: the upstream CRDs, and the wheels an earlier sync verified (so no network)."""
    folder = tmp_path / "mirror"
    shutil.copytree(UPSTREAM / "crds", folder)
    for wheel in (CACHE / "downloads").glob("*.whl"):
        shutil.copy2(wheel, folder / wheel.name)
    return folder


def sync(*args: str, cwd: Path):
    return run([str(BIN / "aiops"), "schemas", "sync", *args], cwd)


def test_sync_builds_a_cache_kubeconform_can_use(tmp_path, small_sources, mirror, monkeypatch):
    cache = tmp_path / "cache"
    result = sync("--mirror", str(mirror), "--sources", str(small_sources), "--cache", str(cache), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Kubernetes 1.36.0: 193 kinds from kubernetes-validate 1.37.0"
    assert "downloading" not in result.stdout  # everything came from the mirror
    monkeypatch.chdir(tmp_path)
    report = run_validate(SAMPLES, cache_dir=cache)
    assert sorted(f.rule.id for f in report.findings) == ["schema-defaulted", "schema-missing", "schema-missing"]


def test_sync_refuses_a_file_whose_checksum_differs(tmp_path, small_sources, mirror):
    cache = tmp_path / "cache"
    assert sync("--mirror", str(mirror), "--sources", str(small_sources), "--cache", str(cache), cwd=tmp_path).returncode == 0
    before = (cache / "index.json").read_text()
    crd = mirror / "kueue/kueue.x-k8s.io_localqueues.yaml"
    crd.write_text(crd.read_text().replace("LocalQueue is the Schema", "LocalQueue is a Schema"))
    result = sync("--mirror", str(mirror), "--sources", str(small_sources), "--cache", str(cache), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"aiops schemas sync: {crd}: sha256 is ")
    assert result.stderr.rstrip().endswith(
        "but schemas/sources.yaml pins dd10ef8d3578e7212fa52763549e7b6be0949793a5b924495fcd293330109fed; refusing to use it; "
        "the previous cache (if any) is unchanged"
    )
    assert (cache / "index.json").read_text() == before


def test_sync_says_where_a_missing_file_was_looked_for(tmp_path, small_sources, mirror):
    sources = yaml.safe_load(small_sources.read_text())
    sources["crds"][0]["files"][0]["url"] = "http://127.0.0.1:9/ray.io_rayclusters.yaml"
    write(small_sources, yaml.safe_dump(sources))
    (mirror / "kuberay/ray.io_rayclusters.yaml").unlink()
    result = sync("--mirror", str(mirror), "--sources", str(small_sources), "--cache", str(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"aiops schemas sync: kuberay/ray.io_rayclusters.yaml: not in the mirror {mirror} (kuberay/ray.io_rayclusters.yaml) "
        "and could not download http://127.0.0.1:9/ray.io_rayclusters.yaml: "
    )


def test_your_own_crds_join_the_cache(tmp_path, small_sources, mirror, monkeypatch):
    write(tmp_path / "crds/queue.yaml", QUEUE_CRD)
    cache = tmp_path / "cache"
    result = sync("--mirror", str(mirror), "--sources", str(small_sources), "--crds", str(tmp_path / "crds"), "--cache", str(cache), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    report = run_validate(SAMPLES / "kuberay/ray-cluster.kai-gpu-sharing.yaml", cache_dir=cache)
    assert [f.rule.id for f in report.findings] == ["schema-defaulted"]  # the Queues are now validated
    # ... and really checked: a misspelt field of a Queue is an error.
    text = (SAMPLES / "kuberay/ray-cluster.kai-gpu-sharing.yaml").read_text().replace("parentQueue:", "parentQeue:")
    write(tmp_path / "kai.yaml", text)
    [error] = of_rule(run_validate("kai.yaml", cache_dir=cache), "schema")
    assert error.message == "spec: additional properties 'parentQeue' not allowed"
    assert error.hint == "remove 'parentQeue' or correct its spelling: the scheduling.run.ai/v2 Queue schema has no such field at spec"


def test_a_crd_given_to_validate_for_one_run(tmp_path):
    write(tmp_path / "queue-crd.yaml", QUEUE_CRD)
    kai = str(SAMPLES / "kuberay/ray-cluster.kai-gpu-sharing.yaml")
    result = run([str(BIN / "aiops"), "validate", kai, "--crd", "queue-crd.yaml", "--format", "json"], tmp_path)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["schema-defaulted"]
    write(tmp_path / "not-a-crd.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    bad = run([str(BIN / "aiops"), "validate", kai, "--crd", "not-a-crd.yaml"], tmp_path)
    assert (bad.returncode, bad.stderr) == (2, "aiops validate: --crd not-a-crd.yaml: not-a-crd.yaml: holds no CustomResourceDefinition\n")

