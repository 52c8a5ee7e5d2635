"""`aiops validate environments` runs every check `aiops synth` runs on the environment files,
with the same messages, at the environment file's line; and the Kubernetes support rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, aiops
from validate_helpers import run_validate, write

# (environment, text replaced, replacement): mistakes the JSON Schema alone lets through.
MISTAKES = {
    "unknown instance type": ("aws-primary", "instanceType: c5.4xlarge", "instanceType: c5.4xlarg"),
    "workload on a pool that does not exist": ("aws-primary", "    pool: gpu-inference\n", "    pool: gpu-inferense\n"),
    "min above desired": ("gcp-burst", "    min: 1\n    desired: 1\n", "    min: 2\n    desired: 1\n"),
    "retired instance type": ("azure-dr", "instanceType: Standard_NC8as_T4_v3", "instanceType: Standard_NC6s_v3"),
    # the failover checks that need both files (aiops.failover.checks)
    "standby pool smaller than the primary's max": ("azure-dr", "    max: 20 #", "    max: 6 #"),
    "unknown primary": ("azure-dr", "standbyFor: aws-primary", "standbyFor: aws-primry"),
}


def _project(tmp_path: Path, environment: str, old: str, new: str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(REPO / "environments", project / "environments")
    (project / "schemas").mkdir()
    shutil.copy2(REPO / "schemas" / "environment.schema.json", project / "schemas")
    (project / ".venv").symlink_to(REPO / ".venv")
    path = project / "environments" / f"{environment}.yaml"
    text = path.read_text()
    if old.startswith("kubernetesVersion: "):  # whatever minor the reference environment is at
        text = re.sub(r'kubernetesVersion: "[0-9.]+"', old, text, count=1)
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return project


def _synth_errors(stderr: str) -> list[tuple[str, str, str]]:
    """(file:line, message, fix) of each error synth printed (its column dropped)."""
    out, lines = [], stderr.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\S+?\.yaml):(\d+)(?::\d+)?: (.*)$", line)
        if match and index + 1 < len(lines) and lines[index + 1].startswith("    fix: "):
            out.append((f"{match[1]}:{match[2]}", match[3], lines[index + 1][len("    fix: "):]))
    return out


def _validate_errors(stdout: str) -> list[tuple[str, str, str]]:
    out, lines = [], stdout.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\S+?\.yaml:\d+): error \[[a-z-]+\] (?:environment [a-z0-9-]+: )?(.*)$", line)
        if match:
            out.append((match[1], match[2], lines[index + 1][len("    fix: "):]))
    return out


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_validate_environments_reports_what_synth_refuses(tmp_path, mistake):
    project = _project(tmp_path, *MISTAKES[mistake])
    synth = aiops("synth", "--check", "--full", cwd=project)
    validate = aiops("validate", "environments", cwd=project)
    assert synth.returncode == 2 and validate.returncode == 1, (synth.stderr, validate.stdout)
    refused = _synth_errors(synth.stderr)
    assert refused, synth.stderr
    assert _validate_errors(validate.stdout) == refused
    assert all(where.startswith("environments/") for where, _, _ in refused)  # never a dist/ file


def test_retired_instance_is_reported_at_the_environment_line(tmp_path):
    project = _project(tmp_path, *MISTAKES["retired instance type"])
    result = aiops("validate", "environments", "--as-of", "2026-11-28", cwd=project)
    lines = (project / "environments" / "azure-dr.yaml").read_text().splitlines()
    first = next(line for line in result.stdout.splitlines() if "[instance-retired]" in line)
    line = int(re.match(r"environments/azure-dr\.yaml:(\d+): error \[instance-retired\] environment azure-dr: node pool gpu uses Standard_NC6s_v3, which was retired by Azure on 2025-09-30 ", first)[1])
    assert lines[line - 1].strip().startswith("instanceType: Standard_NC6s_v3")
    # before the retirement date it is a warning of the coming retirement
    early = aiops("validate", "environments", "--as-of", "2025-09-01", cwd=project)
    assert "warning [instance-retiring]" in early.stdout and early.returncode == 0


def test_a_retired_instance_is_reported_once_when_dist_is_validated_with_its_environments(tmp_path):
    """`aiops validate dist environments` (make test's and the pre-commit hook's check): the pool's
    Terraform in dist/ was generated from the environment file, so the mistake is reported there
    alone, where it is fixed. dist/ validated alone still reports it at the Terraform."""
    project = _project(tmp_path, *MISTAKES["retired instance type"])
    shutil.copytree(REPO / "dist", project / "dist")
    aks = project / "dist/azure-dr/terraform/aks/cdk.tf.json"
    aks.write_text(aks.read_text().replace('"vm_size": "Standard_NC8as_T4_v3"', '"vm_size": "Standard_NC6s_v3"'))
    both = aiops("validate", "dist", "environments", "--as-of", "2026-11-28", cwd=project)
    assert [line.split(":")[0] for line in both.stdout.splitlines() if "[instance-retired]" in line] == ["environments/azure-dr.yaml"]
    alone = aiops("validate", "dist", "--as-of", "2026-11-28", cwd=project)
    assert [line.split(":")[0] for line in alone.stdout.splitlines() if "[instance-retired]" in line] == ["dist/azure-dr/terraform/aks/cdk.tf.json"]


def test_kubernetes_version_out_of_standard_support_warns(tmp_path):
    project = _project(tmp_path, "aws-primary", 'kubernetesVersion: "1.33"', 'kubernetesVersion: "1.33"')
    during = aiops("validate", "environments/aws-primary.yaml", "--as-of", "2026-07-29", cwd=project)
    assert "kubernetes-unsupported" not in during.stdout
    after = aiops("validate", "environments/aws-primary.yaml", "--as-of", "2026-07-30", cwd=project)
    assert after.returncode == 0  # a warning
    assert after.stdout.splitlines()[:2] == [
        "environments/aws-primary.yaml:8: warning [kubernetes-unsupported] environment aws-primary: kubernetesVersion 1.33 "
        "left Amazon EKS standard support on 2026-07-29 (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html); "
        "EKS bills extended support for the cluster from then",
        "    fix: move kubernetesVersion to one of 1.34, 1.35, 1.36 (in Amazon EKS standard support on 2026-07-30)",
    ]


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_kubernetes_136_is_in_standard_support_on_every_cloud(tmp_path, environment):
    project = _project(tmp_path, environment, 'kubernetesVersion: "1.36"', 'kubernetesVersion: "1.36"')
    result = aiops("validate", f"environments/{environment}.yaml", "--as-of", "2026-12-01", cwd=project)
    assert result.returncode == 0 and "kubernetes-" not in result.stdout, result.stdout


def test_unknown_kubernetes_version_names_the_known_ones(tmp_path):
    project = _project(tmp_path, "gcp-burst", 'kubernetesVersion: "1.33"', 'kubernetesVersion: "1.29"')
    result = aiops("validate", "environments/gcp-burst.yaml", "--as-of", "2026-12-01", cwd=project)
    assert result.stdout.splitlines()[:2] == [
        "environments/gcp-burst.yaml:8: warning [kubernetes-support-unknown] environment gcp-burst: kubernetesVersion 1.29 "
        "is not in the support table for GKE (it lists 1.31, 1.32, 1.33, 1.34, 1.35, 1.36; checked 2026-12-01)",
        "    fix: move kubernetesVersion to one of 1.35, 1.36 (in GKE standard support on 2026-12-01), or add 1.29 with its "
        "dates and source to src/aiops/data/kubernetes_support.yaml",
    ]


# --- the validator in-process ----------------------------------------------------------------

def test_environment_files_get_synths_messages(tmp_path, monkeypatch):
    """What `aiops synth` would say about the file (the model's checks), not jsonschema's wording."""
    from conftest import REPO

    monkeypatch.chdir(tmp_path)
    text = (REPO / "environments/aws-primary.yaml").read_text().replace("region: us-east-1\nzones", "regoin: us-east-1\nzones", 1)
    text = text.replace("../schemas/environment.schema.json", str(REPO / "schemas/environment.schema.json"))
    write(tmp_path / "environments/aws-primary.yaml", text)
    findings = [f for f in run_validate("environments").findings if f.level == "error"]
    assert [(f.rule.id, f.file, f.line) for f in findings] == [
        ("environment-invalid", "environments/aws-primary.yaml", 3),
        ("environment-invalid", "environments/aws-primary.yaml", 6),
    ]
    assert [f.message for f in findings] == ["region: required field 'region' is missing", "regoin: unknown field 'regoin'"]
    assert findings[0].hint == "add 'region' here"
    assert findings[1].hint.startswith("did you mean 'region'? allowed fields here: name, description, cloud, region, ")


def test_environment_files_against_a_stale_committed_schema(tmp_path, monkeypatch):
    """A file the model accepts but the committed schema (what editors see) rejects: the schema fell behind."""
    import json

    from conftest import REPO

    monkeypatch.chdir(tmp_path)
    schema = json.loads((REPO / "schemas/environment.schema.json").read_text())
    del schema["properties"]["description"]
    write(tmp_path / "schemas/environment.schema.json", json.dumps(schema))
    write(tmp_path / "environments/aws-primary.yaml", (REPO / "environments/aws-primary.yaml").read_text())
    findings = [f for f in run_validate("environments").findings if f.level == "error"]
    assert [(f.rule.id, f.line, f.message) for f in findings] == [
        ("environment-schema", 4, "description: Additional properties are not allowed ('description' was unexpected)"),
    ]
