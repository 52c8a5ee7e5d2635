"""Every custom resource in dist/ against the openAPIV3Schema of its real, upstream CRD.

Oracles: the KubeRay, Kueue and Flux CRDs in the shared upstream mirror (shared/upstream/crds,
see its SOURCES.md; never copied into this repository) and the Dask CRDs inside the pinned
dask-kubernetes wheel that the schema cache's sync downloaded and checked (schemas/sources.yaml).
jsonschema checks the
structural schema: types, required fields, enums, patterns, unknown fields where the CRD
forbids them. CEL rules (x-kubernetes-validations) need an API server and are not checked here.
Core kinds (Deployment, HPA, ...) are `aiops validate`'s job, with kubeconform.
"""

from __future__ import annotations

import copy
import os
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REFERENCE_ENVIRONMENTS, REPO

# The API groups whose objects must each meet a CRD (an object of these groups without a CRD
# here is an error: a kind or version that does not exist upstream).
CRD_GROUPS = {
    "ray.io",
    "kueue.x-k8s.io",
    "kubernetes.dask.org",
    "kustomize.toolkit.fluxcd.io",
    "source.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
}
# The CRDs are 3.7 MB of YAML: libyaml reads them in about a second, pure Python in half a minute.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _upstream_crds() -> Path | None:
    """shared/upstream/crds: $AIOPS_UPSTREAM_DIR, or beside the checkout (main or a worktree)."""
    candidates = [os.environ.get("AIOPS_UPSTREAM_DIR"), REPO.parent / "shared" / "upstream", REPO.parent.parent / "shared" / "upstream"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "crds").is_dir():
            return Path(candidate) / "crds"
    return None


def _schemas(texts: list[str]) -> dict[tuple[str, str, str], dict]:
    found = {}
    for text in texts:
        for crd in yaml.load_all(text, Loader=_LOADER):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    found[(crd["spec"]["group"], version["name"], crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return found


@pytest.fixture(scope="module")
def crd_schemas() -> dict[tuple[str, str, str], dict]:
    upstream = _upstream_crds()
    if upstream is None:
        pytest.skip("the upstream CRD mirror (shared/upstream/crds) is not here; set AIOPS_UPSTREAM_DIR to its folder")
    return _schemas([path.read_text() for path in sorted(upstream.rglob("*.yaml"))] + _dask_crds())


def _dask_crds() -> list[str]:
    """The Dask CRDs, read from the wheel the schema cache keeps (checked against its sha256)."""
    from aiops.schema_cache import default_cache_dir
    from aiops.schema_cache.sync import DOWNLOADS, SOURCES_FILE, load_sources

    sources, _ = load_sources(REPO / SOURCES_FILE)
    (bundle,) = [b for b in sources.crds if b.wheel and b.wheel.package == "dask-kubernetes"]
    with zipfile.ZipFile(default_cache_dir() / DOWNLOADS / bundle.wheel.file) as wheel:
        return [wheel.read(member).decode() for member in bundle.wheel.members]


def _problems(document: dict, schemas: dict) -> list[str]:
    group, _, version = document["apiVersion"].rpartition("/")
    schema = schemas.get((group, version, document["kind"]))
    if schema is None:
        return [f"no served CRD version for {document['apiVersion']} {document['kind']}"]
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in validator.iter_errors(document)]


def _custom_resources(documents: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(path, doc) for path, doc in documents if doc["apiVersion"].rpartition("/")[0] in CRD_GROUPS]


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_custom_resource_meets_its_crd(crd_schemas, reference_documents, environment):
    resources = _custom_resources(reference_documents[environment])
    failures = [
        f"{path}: {doc['kind']}/{doc['metadata']['name']}: {problem}"
        for path, doc in resources
        for problem in _problems(doc, crd_schemas)
    ]
    assert failures == []


def test_the_reference_environments_exercise_every_crd_kind_they_use(crd_schemas, reference_documents):
    """The schema test above saw the kinds this issue is about (it cannot pass by seeing none)."""
    kinds = {doc["kind"] for env in REFERENCE_ENVIRONMENTS for _, doc in _custom_resources(reference_documents[env])}
    assert kinds == {
        "RayCluster", "DaskCluster", "DaskAutoscaler", "ResourceFlavor", "ClusterQueue", "LocalQueue",
        "GitRepository", "Kustomization", "HelmRepository", "OCIRepository", "HelmRelease",
    }


@pytest.mark.parametrize(
    ("kind", "break_it", "expected"),
    [
        pytest.param(
            "RayCluster",
            lambda o: o["spec"]["workerGroupSpecs"][0]["rayStartParams"].update({"num-gpus": 1}),
            "spec.workerGroupSpecs.0.rayStartParams.num-gpus: 1 is not of type 'string'",
            id="ray-start-param-not-a-string",
        ),
        pytest.param(
            "RayCluster",
            lambda o: o["spec"]["workerGroupSpecs"][0].pop("groupName"),
            "spec.workerGroupSpecs.0: 'groupName' is a required property",
            id="ray-worker-group-without-name",
        ),
        pytest.param(
            "ClusterQueue",
            lambda o: o["spec"].update({"queueingStrategy": "FIFO"}),
            "spec.queueingStrategy: 'FIFO' is not one of ['StrictFIFO', 'BestEffortFIFO']",
            id="kueue-unknown-strategy",
        ),
        pytest.param(
            "DaskAutoscaler",
            lambda o: o["spec"].pop("maximum"),
            "spec: 'maximum' is a required property",
            id="dask-autoscaler-without-maximum",
        ),
        pytest.param(
            "HelmRelease",
            lambda o: o["spec"]["install"].update({"crds": "Replace"}),
            "spec.install.crds: 'Replace' is not one of ['Skip', 'Create', 'CreateReplace']",
            id="flux-helm-crd-policy",
        ),
        pytest.param(
            "RayCluster",
            lambda o: o.update({"apiVersion": "ray.io/v1beta1"}),
            "no served CRD version for ray.io/v1beta1 RayCluster",
            id="ray-version-that-does-not-exist",
        ),
    ],
)
def test_a_broken_object_fails_against_its_crd(crd_schemas, reference_documents, kind, break_it, expected):
    """Control: the same check reports a mistake in each kind of object, with its path."""
    original = next(doc for _, doc in reference_documents["aws-primary"] if doc["kind"] == kind)
    broken = copy.deepcopy(original)
    break_it(broken)
    assert _problems(original, crd_schemas) == []
    assert expected in _problems(broken, crd_schemas)
