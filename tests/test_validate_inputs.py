"""`aiops validate` on every form of input a user passes: Lists, standard input, pipes and other
special files, kustomize inputs, objects named by generateName, documents missing one of
apiVersion and kind. The real CLI, kubeconform and schema cache, on small files written here."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from conftest import BIN

GPU_POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: gpu
    spec:
      containers:
        - name: c
          image: busybox:1.36
          resources:
            requests: {nvidia.com/gpu: 1, cpu: "1", memory: 1Gi}
            limits: {cpu: "1", memory: 1Gi}
    """)
GPU_POD_LIST = "apiVersion: v1\nkind: PodList\nitems:\n" + textwrap.indent(GPU_POD, "    ").replace("    apiVersion", "  - apiVersion", 1)


def validate(*args: str, cwd: Path, stdin: str | None = None, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "aiops"), "validate", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=None if stdin is not None else subprocess.DEVNULL)


def test_items_of_a_list_get_every_rule(tmp_path):
    """A PodList's Pod requests a GPU without a limit: the same finding, at the item's line, as for the Pod alone."""
    (tmp_path / "pods.yaml").write_text(GPU_POD_LIST)
    result = validate("pods.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "pods.yaml:13: error [extended-resource-limit] Pod/gpu: Container 'c' requests nvidia.com/gpu: 1 without a limit; "
        "the API server rejects this, because extended resources cannot be overcommitted")
    (tmp_path / "pods.yaml").write_text(GPU_POD_LIST.replace("limits: {cpu", "limits: {nvidia.com/gpu: 1, cpu"))
    assert validate("pods.yaml", cwd=tmp_path).returncode == 0


def test_dash_and_dev_stdin_read_standard_input(tmp_path):
    for name in ("-", "/dev/stdin"):
        result = validate(name, cwd=tmp_path, stdin=GPU_POD)
        assert result.returncode == 1, result.stderr
        assert result.stdout.splitlines()[0].startswith("<stdin>:10: error [extended-resource-limit] Pod/gpu: ")
        assert result.stdout.splitlines()[-1] == "aiops validate: 1 error in 1 files (1 objects; Kubernetes 1.36 schemas)"
    clean = validate("-", cwd=tmp_path, stdin=GPU_POD.replace("limits: {cpu", "limits: {nvidia.com/gpu: 1, cpu"))
    assert clean.returncode == 0, clean.stdout
    twice = validate("-", "/dev/stdin", cwd=tmp_path, stdin=GPU_POD)
    assert (twice.returncode, twice.stderr) == (
        2, "aiops validate: standard input is named more than once (-, /dev/stdin): it can be read only once\n")


def test_a_fifo_given_as_a_path_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pods.yaml"
    os.mkfifo(fifo)
    result = validate("pods.yaml", cwd=tmp_path, timeout=30)
    assert (result.returncode, result.stderr) == (2, (
        "aiops validate: pods.yaml is a FIFO (a named pipe, or a `<(...)` process substitution), not a file or folder: "
        "reading it could wait forever or read it only once; pipe its content into `aiops validate -` instead\n"))


def test_a_fifo_inside_a_folder_is_reported_not_opened(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "pod.yaml").write_text(GPU_POD.replace("limits: {cpu", "limits: {nvidia.com/gpu: 1, cpu"))
    os.mkfifo(tmp_path / "tree" / "stuck.yaml")
    result = validate("tree", cwd=tmp_path, timeout=30)  # opening the FIFO would wait for a writer forever
    assert result.returncode == 2
    assert result.stdout.splitlines()[0] == (
        "tree/stuck.yaml: error [input-unreadable] tree/stuck.yaml is a FIFO (a named pipe, or a `<(...)` process "
        "substitution), not a regular file: not read (it could wait forever)")


def test_an_object_with_generate_name_and_no_schema_gets_schema_missing_with_its_line(tmp_path):
    (tmp_path / "job.yaml").write_text("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n"
                                       "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  generateName: thing-\n")
    result = validate("job.yaml", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (
        "job.yaml:7: warning [schema-missing] Thing/: no schema for example.com/v1 Thing in the schema cache "
        "(Kubernetes 1.36 and the pinned CRDs), so nothing checked its fields")


def test_a_document_says_which_of_apiversion_and_kind_it_lacks(tmp_path):
    (tmp_path / "rc.yaml").write_text("kind: ReplicationController\nmetadata:\n  name: rc\n---\nreplicas: 2\n")
    lines = validate("rc.yaml", cwd=tmp_path).stdout.splitlines()
    assert [line for line in lines if "[input-not-kubernetes]" in line] == [
        "rc.yaml:1: warning [input-not-kubernetes] document 1 has no apiVersion",
        "rc.yaml:5: warning [input-not-kubernetes] document 2 has no apiVersion and kind",
    ]


def test_kustomize_patches_are_build_inputs_not_objects(tmp_path):
    """A HelmRelease values patch lacks spec.interval and spec.chart on purpose; as a resource it is an object."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [release.yaml]\n"
        "patches:\n  - path: values.yaml\n    target: {kind: HelmRelease}\n")
    (tmp_path / "app" / "release.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: podinfo}\n"
        "spec:\n  interval: 1h\n  chart:\n    spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}\n")
    (tmp_path / "app" / "values.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: podinfo}\n"
        "spec:\n  values: {replicaCount: 2}\n")
    result = validate("app", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "aiops validate: no findings in 1 files (1 objects; Kubernetes 1.36 schemas)\n")
    # Listed as a resource too, the same file is an object, and its schema errors are real.
    kustomization = tmp_path / "app" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources: [release.yaml]", "resources: [release.yaml, values.yaml]"))
    result = validate("app", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "app/values.yaml:4: error [schema] HelmRelease/podinfo/podinfo: spec: missing property 'interval'"


def test_which_files_a_kustomization_reads_as_inputs():
    """Every field of a kustomization.yaml that names an input file, relative to its folder; a file
    that another kustomization.yaml lists as a resource stays an object."""
    from aiops.tree.kustomize import kustomize_inputs

    inputs = kustomize_inputs([
        ("apps/prod/kustomization.yaml", {
            "resources": ["../base", "extra.yaml"],
            "patches": [{"path": "values.yaml", "target": {"kind": "HelmRelease"}}, {"patch": "- op: remove\n  path: /x"}],
            "patchesStrategicMerge": ["replicas.yaml"],
            "patchesJson6902": [{"path": "json.patch.yaml", "target": {"kind": "Deployment", "name": "web"}}],
            "configMapGenerator": [{"name": "c", "files": ["dashboards/a.json", "key=conf/settings.yaml"], "envs": ["app.env"]}],
            "secretGenerator": [{"name": "s", "files": ["tls.crt"]}],
            "configurations": ["kustomizeconfig.yaml"],
            "replacements": [{"path": "replacements.yaml"}],
            "openapi": {"path": "schema.json"},
            "helmCharts": [{"name": "x", "valuesFile": "helm-values.yaml"}],
        }),
        ("apps/base/kustomization.yaml", {"resources": ["../prod/replicas.yaml"]}),
    ])
    assert inputs == {
        "apps/prod/app.env": "a configMapGenerator source in apps/prod/kustomization.yaml",
        "apps/prod/conf/settings.yaml": "a configMapGenerator source in apps/prod/kustomization.yaml",
        "apps/prod/dashboards/a.json": "a configMapGenerator source in apps/prod/kustomization.yaml",
        "apps/prod/helm-values.yaml": "Helm values (helmCharts valuesFile) in apps/prod/kustomization.yaml",
        "apps/prod/json.patch.yaml": "a patch (patchesJson6902) in apps/prod/kustomization.yaml",
        "apps/prod/kustomizeconfig.yaml": "a kustomize input (configurations) in apps/prod/kustomization.yaml",
        "apps/prod/replacements.yaml": "a kustomize input (replacements) in apps/prod/kustomization.yaml",
        "apps/prod/schema.json": "an OpenAPI schema (openapi) in apps/prod/kustomization.yaml",
        "apps/prod/tls.crt": "a secretGenerator source in apps/prod/kustomization.yaml",
        "apps/prod/values.yaml": "a patch (patches) in apps/prod/kustomization.yaml",
        # replicas.yaml is a patch here but a resource of apps/base: an object
    }
