"""The project's own instance catalog (catalog/instance_types.yaml): added and overridden types,
prices by region, and `aiops diff` / `aiops cost --rev` pricing each revision by its own catalog."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from aiops.model.catalog import CatalogError, load_catalog, packaged_catalog, parse_catalog, using_catalog
from conftest import REPO, aiops

NEW_TYPE = """# the project's own instance types
clouds:
  azure:
    instanceTypes:
      Standard_NC16as_T4_v3:
        vcpu: 16
        memoryGiB: 110
        gpu: {model: T4, count: 1, memoryGiB: 16}
        prices:
          eastus: {hourlyUSD: 1.204, source: Azure retail prices API, date: "2026-11"}
          westeurope: {hourlyUSD: 1.316, source: Azure retail prices API, date: "2026-11"}
"""


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=project, check=True, capture_output=True)


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for folder in ("environments", "dist", "schemas"):
        shutil.copytree(REPO / folder, project / folder)
    (project / ".venv").symlink_to(REPO / ".venv")
    return project


def test_prices_by_region_and_no_other_regions_price():
    catalog = parse_catalog({"hoursPerMonth": 730, "clouds": {"azure": {"instanceTypes": {"X": {
        "vcpu": 4, "memoryGiB": 16,
        "prices": {"eastus": {"hourlyUSD": 1.0, "source": "s", "date": "2026-11"}, "westeurope": {"hourlyUSD": 1.2, "source": "t", "date": "2026-10"}},
    }}}}})
    machine = catalog.instance_type("azure", "X")
    assert (machine.price.region, machine.price.hourly_usd) == ("eastus", 1.0)  # the first is the default
    assert machine.price_in("westeurope").hourly_usd == 1.2 and machine.price_in("westeurope").date == "2026-10"
    assert machine.price_in("northeurope") is None
    assert packaged_catalog().instance_type("aws", "p3.2xlarge").price_in("us-east-1").hourly_usd == 3.06
    with pytest.raises(CatalogError, match=r"give either price or prices \(by region\), not both"):
        parse_catalog({"hoursPerMonth": 730, "clouds": {"aws": {"instanceTypes": {"Y": {
            "vcpu": 1, "memoryGiB": 1, "price": {"hourlyUSD": 1, "region": "r", "source": "s", "date": "d"}, "prices": {}}}}}})


def test_project_catalog_adds_and_overrides_types():
    override = 'clouds:\n  aws:\n    instanceTypes:\n      c5.4xlarge:\n        vcpu: 16\n        memoryGiB: 32\n        price: {hourlyUSD: 0.7, region: us-east-1, source: negotiated rate card, date: "2026-12"}\n'
    with using_catalog(NEW_TYPE):
        assert load_catalog().instance_type("azure", "Standard_NC16as_T4_v3").vcpu == 16
        assert load_catalog().instance_type("azure", "Standard_NC8as_T4_v3") is not None  # the packaged ones stay
    with using_catalog(override):
        assert load_catalog().instance_type("aws", "c5.4xlarge").price.hourly_usd == 0.7
    assert load_catalog().instance_type("aws", "c5.4xlarge").price.hourly_usd == 0.68  # back to the packaged one
    assert load_catalog().instance_type("azure", "Standard_NC16as_T4_v3") is None


def test_environment_may_use_a_type_of_the_project_catalog(tmp_path):
    project = _project(tmp_path)
    env = project / "environments" / "azure-dr.yaml"
    env.write_text(env.read_text().replace("instanceType: Standard_NC8as_T4_v3", "instanceType: Standard_NC16as_T4_v3"))
    refused = aiops("validate", "environments/azure-dr.yaml", cwd=project)
    assert refused.returncode == 1 and "'Standard_NC16as_T4_v3' is not an instance type the catalog knows for azure" in refused.stdout
    (project / "catalog").mkdir()
    (project / "catalog" / "instance_types.yaml").write_text(NEW_TYPE)
    accepted = aiops("validate", "environments/azure-dr.yaml", cwd=project)
    assert "environment-invalid" not in accepted.stdout, accepted.stdout


def test_a_malformed_project_catalog_is_named(tmp_path):
    project = _project(tmp_path)
    (project / "catalog").mkdir()
    (project / "catalog" / "instance_types.yaml").write_text("clouds:\n  aws:\n    instanceTypes:\n      x: {vcpu: 2}\n")
    result = aiops("validate", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "aiops: catalog/instance_types.yaml: clouds.aws.instanceTypes.x: missing key memoryGiB\n"


def _gpu_pool_cost(output: str) -> dict:
    [pool] = [p for p in json.loads(output)["pools"] if p["environment"] == "azure-dr" and p["pool"] == "gpu"]
    return pool


def test_diff_and_cost_price_each_revision_with_its_own_catalog(tmp_path):
    project = _project(tmp_path)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A", "environments", "dist", "schemas")
    _git(project, "commit", "-qm", "base")
    # a branch that adds an instance type to the project catalog and moves the GPU pool to it
    (project / "catalog").mkdir()
    (project / "catalog" / "instance_types.yaml").write_text(NEW_TYPE)
    stack = project / "dist" / "azure-dr" / "terraform" / "aks" / "cdk.tf.json"
    stack.write_text(stack.read_text().replace('"vm_size": "Standard_NC8as_T4_v3"', '"vm_size": "Standard_NC16as_T4_v3"'))
    _git(project, "add", "-A", "catalog", "dist")
    _git(project, "commit", "-qm", "head")
    # the working tree no longer has the catalog: the revisions must bring their own
    shutil.rmtree(project / "catalog")
    head = _gpu_pool_cost(aiops("cost", "--rev", "HEAD", "--format", "json", cwd=project, check=True).stdout)
    assert (head["instanceType"], head["hourlyUSD"]) == ("Standard_NC16as_T4_v3", 1.204)
    base = _gpu_pool_cost(aiops("cost", "--rev", "HEAD~1", "--format", "json", cwd=project, check=True).stdout)
    assert (base["instanceType"], base["hourlyUSD"]) == ("Standard_NC8as_T4_v3", 0.752)
    unpriced = _gpu_pool_cost(aiops("cost", "--format", "json", cwd=project, check=True).stdout)  # the working tree's catalog
    assert unpriced["hourlyUSD"] is None
    diff = aiops("diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json", cwd=project, check=True)
    [environment] = [e for e in json.loads(diff.stdout)["environments"] if e["name"] == "azure-dr"]
    [pool] = environment["pools"]
    assert (pool["before"]["hourlyUSD"], pool["after"]["hourlyUSD"]) == (0.752, 1.204)  # not reviewed at zero cost
    assert pool["monthlyDeltaUSD"]["desired"] == 659.92  # 2 nodes x (1.204 - 0.752) x 730 h


def test_cost_and_diff_price_a_pool_in_its_own_region_not_the_first_listed(tmp_path):
    """Standard_NC16as_T4_v3 lists eastus (1.204) first and westeurope (1.316) second: a pool in
    westeurope is priced at 1.316 by `aiops cost` and by `aiops diff`, never at the first price."""
    project = _project(tmp_path)
    (project / "catalog").mkdir()
    (project / "catalog" / "instance_types.yaml").write_text(NEW_TYPE)
    stack = project / "dist" / "azure-dr" / "terraform" / "aks" / "cdk.tf.json"
    stack.write_text(stack.read_text().replace('"vm_size": "Standard_NC8as_T4_v3"', '"vm_size": "Standard_NC16as_T4_v3"')
                     .replace('"location": "eastus"', '"location": "westeurope"'))
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    pool = _gpu_pool_cost(aiops("cost", "--format", "json", cwd=project, check=True).stdout)
    assert (pool["region"], pool["hourlyUSD"]) == ("westeurope", 1.316)
    document = json.loads(stack.read_text())  # the GPU pool grows by one node at max
    pools = document["resource"]["azurerm_kubernetes_cluster_node_pool"]
    name = next(n for n, body in pools.items() if body.get("vm_size") == "Standard_NC16as_T4_v3")
    pools[name]["max_count"] += 1
    stack.write_text(json.dumps(document, indent=2) + "\n")
    diff = aiops("diff", "--base", "HEAD", "--format", "json", cwd=project, check=True)
    [environment] = [e for e in json.loads(diff.stdout)["environments"] if e["name"] == "azure-dr"]
    [changed] = environment["pools"]
    assert changed["after"]["hourlyUSD"] == 1.316
