"""The failover switch in git: one line of azure-dr.yaml, synthesized, and what `aiops diff`
shows a reviewer of that commit, in a real git repository; then the failback commit.

Two real syntheses (`aiops synth` after each flip), about half a minute each."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import GitScratch, aiops, copy_project


@pytest.fixture(scope="module")
def switched(tmp_path_factory):
    repo = GitScratch(copy_project(tmp_path_factory.mktemp("failover") / "repo"))
    repo.git("init", "--quiet", "--initial-branch", "main")
    base = repo.commit("the reference environments and their dist/")
    standby = repo.root / "environments" / "azure-dr.yaml"
    text = standby.read_text()
    assert text.count("  state: standby\n") == 1
    standby.write_text(text.replace("  state: standby\n", "  state: active\n"))
    synth = aiops("synth", cwd=repo.root)
    assert synth.returncode == 0, synth.stderr
    failover = repo.commit("Fail model-server over to azure-dr")
    standby.write_text(text)
    synth = aiops("synth", cwd=repo.root)
    assert synth.returncode == 0, synth.stderr
    failback = repo.commit("Fail back to aws-primary")
    return repo, base, failover, failback


def _diff(repo, base: str, head: str, fmt: str = "json") -> str:
    result = aiops("diff", "--base", base, "--head", head, "--format", fmt, cwd=repo.root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_switch_is_one_line_of_the_standbys_file(switched):
    repo, base, failover, _ = switched
    changed = repo.git("diff", "--numstat", base, failover, "--", "environments").splitlines()
    assert changed == ["1\t1\tenvironments/azure-dr.yaml"]
    assert "-  state: standby\n+  state: active" in repo.git("diff", base, failover, "--", "environments")


def test_the_diff_shows_what_moves_in_each_cloud_and_what_it_costs(switched):
    repo, base, failover, _ = switched
    report = json.loads(_diff(repo, base, failover))
    environments = {e["name"]: e for e in report["environments"]}
    assert sorted(environments) == ["aws-primary", "azure-dr"]  # gcp-burst does not move
    assert report["destructive"] == 0  # nothing replaced, destroyed or pruned

    # AWS: the primary's Route 53 record is held unhealthy (1 of 1 child -> 2 of 1), clients go to azure-dr
    aws = environments["aws-primary"]
    assert aws["objects"] == []  # the primary's cluster is not touched
    [serving] = aws["terraform"]
    assert (serving["address"], serving["action"], serving["file"]) == (
        "aws_route53_health_check.model_server_aws_primary_serving", "update", "dist/aws-primary/terraform/traffic/cdk.tf.json")
    assert {"path": "child_health_threshold", "change": "changed", "old": 1, "new": 2} in serving["fields"]

    # Azure: the serving workload at the primary's bounds, the GPU pool's floor up to hold its minimum
    azure = environments["azure-dr"]
    [hpa] = [o for o in azure["objects"] if o["kind"] == "HorizontalPodAutoscaler"]
    assert (hpa["namespace"], hpa["name"]) == ("ml-serving", "model-server")
    assert hpa["fields"] == [
        {"path": "spec.maxReplicas", "change": "changed", "old": 6, "new": 20},
        {"path": "spec.minReplicas", "change": "changed", "old": 2, "new": 3},
    ]
    # The gpu pool is one AKS pool per zone (its totals split 1/1/0 at min 2, 1/1/1 at min 3): the
    # third zone's gets a floor. node_count moves too, but Terraform ignores it once the autoscaler
    # owns it, and so does the diff.
    [pool] = azure["terraform"]
    assert (pool["address"], pool["action"]) == ("azurerm_kubernetes_cluster_node_pool.node_pool_gpu3", "update")
    assert pool["fields"] == [{"path": "min_count", "change": "changed", "old": 0, "new": 1}]
    # one more Standard_NC8as_T4_v3 at min and desired: 0.752 USD/h x 730 h (the catalog's figures)
    [gpu] = [p for p in azure["pools"] if p["pool"] == "gpu"]
    assert (gpu["before"]["nodes"], gpu["after"]["nodes"]) == ({"min": 2, "desired": 2, "max": 20}, {"min": 3, "desired": 3, "max": 20})
    month = float(Decimal("0.752") * 730)  # 548.96
    assert gpu["monthlyDeltaUSD"] == {"min": month, "desired": month, "max": 0.0}
    assert azure["summary"]["monthlyUSD"]["desired"]["delta"] == month
    assert aws["summary"]["monthlyUSD"]["desired"]["delta"] == 0.0  # aiops diff prices node pools, not Route 53


def test_failback_restores_the_tree_the_switch_left(switched):
    repo, base, _, failback = switched
    assert repo.git("diff", "--stat", base, failback, "--", "dist", "environments") == ""
