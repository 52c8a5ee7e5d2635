"""Checkov (the pinned 3.3.30) over dist/'s Terraform JSON and Kubernetes manifests: zero failed
checks, skips only in .checkov.yaml, each with its reason; and control cases, a stack and a
Deployment broken into findings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import yaml

from conftest import BIN, REPO

CONFIG = REPO / ".checkov.yaml"
# The skips a reviewer accepted, each explained in .checkov.yaml. A new skip changes this list
# and so shows in review next to its reason.
ACCEPTED_SKIPS = ["CKV_AWS_39", "CKV_AZURE_115", "CKV_AZURE_226", "CKV_AZURE_117", "CKV_AZURE_232", "CKV2_AZURE_32", "CKV_GCP_65", "CKV_AWS_339",
                  "CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"]


def checkov(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "checkov"), *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def summary(result: subprocess.CompletedProcess[str]) -> tuple[dict[str, dict], list[dict]]:
    """The summary of each framework that found something to check, and every failed check."""
    reports = json.loads(result.stdout)
    reports = [r for r in (reports if isinstance(reports, list) else [reports]) if "check_type" in r]
    return {r["check_type"]: r["summary"] for r in reports}, [f for r in reports for f in r["results"]["failed_checks"]]


def test_checkov_is_the_pinned_version():
    assert checkov("--version").stdout.strip() == "3.3.30"


def test_dist_passes_every_check_but_the_skips_of_the_config():
    result = checkov("--config-file", str(CONFIG), "--output", "json")
    counts, failed = summary(result)
    assert (result.returncode, failed) == (0, [])
    assert sorted(counts) == ["kubernetes", "terraform_json"]
    for framework in counts.values():
        assert (framework["failed"], framework["parsing_errors"]) == (0, 0)
    # The three stacks and every manifest were read: a parse failure would check nothing.
    assert counts["terraform_json"]["passed"] >= 200 and counts["kubernetes"]["passed"] >= 250


def test_each_skip_is_accepted_and_says_why():
    config = yaml.safe_load(CONFIG.read_text())
    assert config["skip-check"] == ACCEPTED_SKIPS
    assert (config["directory"], config["framework"], config["skip-download"]) == (["dist"], ["terraform_json", "kubernetes"], True)
    # Every skip sits under a comment that names it and gives a reason of more than a few words.
    comments = re.findall(r"((?:\s*#.*\n)+)((?:\s*- CKV\S+\n)+)", CONFIG.read_text().split("skip-check:", 1)[1])
    explained = {check: " ".join(line.strip("# ").strip() for line in text.splitlines()) for text, checks in comments for check in re.findall(r"CKV\S+", checks)}
    assert sorted(explained) == sorted(ACCEPTED_SKIPS)
    for check, reason in explained.items():
        assert check in reason and len(reason.split()) > 25, (check, reason)


def test_checkov_catches_an_api_server_open_to_everyone(tmp_path):
    """The control case: the EKS stack with its endpoint open to 0.0.0.0/0 fails CKV_AWS_38."""
    stack = tmp_path / "dist/aws-primary/terraform/eks"
    shutil.copytree(REPO / "dist/aws-primary/terraform/eks", stack)
    template = json.loads((stack / "cdk.tf.json").read_text())
    template["resource"]["aws_eks_cluster"]["cluster"]["vpc_config"]["public_access_cidrs"] = ["0.0.0.0/0"]
    template["resource"]["aws_eks_cluster"]["cluster"].pop("encryption_config")
    (stack / "cdk.tf.json").write_text(json.dumps(template, indent=2))
    result = checkov("--config-file", str(CONFIG), "--output", "json", cwd=tmp_path)
    counts, failed = summary(result)
    assert result.returncode == 1
    assert sorted((f["check_id"], f["resource"]) for f in failed) == [("CKV_AWS_38", "resource.cluster"), ("CKV_AWS_58", "resource.cluster")]


def test_checkov_catches_a_privileged_root_container(tmp_path):
    """The Kubernetes control case: the training workers with their security context taken
    off and the container made privileged fail the checks the platform's pods pass."""
    apps = tmp_path / "dist/aws-primary/apps"
    apps.mkdir(parents=True)
    documents = list(yaml.safe_load_all((REPO / "dist/aws-primary/apps/training-workers.yaml").read_text()))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    del pod["securityContext"], pod["automountServiceAccountToken"]
    pod["containers"][0]["securityContext"] = {"privileged": True}
    (apps / "training-workers.yaml").write_text(yaml.safe_dump(deployment))
    result = checkov("--config-file", str(CONFIG), "--output", "json", cwd=tmp_path)
    _, failed = summary(result)
    assert result.returncode == 1
    found = {f["check_id"] for f in failed}
    # privileged, privilege escalation, root, no seccomp profile, service-account token, and no
    # NetworkPolicy (the policies live in another folder, which this tree does not have)
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_31", "CKV_K8S_38", "CKV2_K8S_6"} <= found, sorted(found)
