"""What the simulation's API server admits (issue 14): every team namespace enforces Pod
Security's restricted level and admits every pod the platform makes; the team quotas refuse
nothing Kueue admits or holds; each workload's NetworkPolicy selects the pods its controller
really made; and, in the fault copy of gcp-burst, a privileged pod, a container bigger than the
team's nodes and more GPUs than the team may hold, each refused in the API server's own words.
The simulations are the session fixtures of simulate_fixtures.py.
"""

from __future__ import annotations

import pytest
from simulate_fixtures import pass_of as _pass
from simulate_fixtures import pods_of as _pods_of

TEAM_NAMESPACES = {"aws-primary": ["data-eng", "ml-serving", "ml-training"], "azure-dr": ["ml-serving"], "gcp-burst": ["ml-training"]}
# The platform's own namespaces and the level each enforces (the constructs say why).
PLATFORM_LEVELS = {"gpu-operator": "privileged", "node-exporter": "privileged", "monitoring": "baseline",
                   "kueue-system": "restricted", "kuberay-system": "restricted", "dask-operator": "restricted"}


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_team_namespace_enforces_restricted_and_admits_the_platforms_pods(reference_simulation, environment):
    env = reference_simulation[0][environment]
    levels = env["podSecurity"]
    teams = TEAM_NAMESPACES[environment]
    assert {ns: levels.get(ns) for ns in teams} == dict.fromkeys(teams, "restricted")
    assert {ns: level for ns, level in levels.items() if ns in PLATFORM_LEVELS} == {ns: PLATFORM_LEVELS[ns] for ns in levels if ns in PLATFORM_LEVELS}
    assert {"monitoring", "kueue-system", "node-exporter"} <= set(levels)
    desired = _pass(env, "desired")
    assert desired["refused"] == []  # nothing refused at all at steady state: not Pod Security, not a quota, not a LimitRange
    assert [r for p in env["passes"] for r in p["refused"] if r["by"] == "pod-security"] == []
    # The restricted namespaces hold pods (a level over empty namespaces would prove nothing).
    placed = {p["namespace"] for p in desired["pods"] if p["node"]}
    assert "kueue-system" in placed and placed & set(teams)


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_the_team_quotas_refuse_nothing_at_max_and_leave_the_holding_to_kueue(reference_simulation, environment):
    """At max aws-primary's training and Ray workers want twice gpu-training's GPUs; the pods
    exist, held at Kueue's gate (test_kueue_holds_what_exceeds_the_quota_at_max), because the
    namespace quota leaves room for the queued workloads' maximum."""
    assert _pass(reference_simulation[0][environment], "max")["refused"] == []


def _refusal(env: dict, deployment: str) -> dict:
    (refusal,) = [r for r in _pass(env, "desired")["refused"] if r["owner"] == f"Deployment/{deployment}"]
    assert not _pods_of(_pass(env, "desired"), refusal["namespace"], f"Deployment/{deployment}")  # no pod was created
    return refusal


def test_a_privileged_pod_in_a_team_namespace_is_refused_by_pod_security(fault_simulation):
    refusal = _refusal(fault_simulation, "privileged")
    assert refusal["by"] == "pod-security"
    assert 'is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)' in refusal["message"]
    assert any(p["kind"] == "admission" and p["subject"] == "Deployment/privileged in namespace ml-training" for p in fault_simulation["problems"])


def test_a_container_bigger_than_the_teams_nodes_is_refused_by_the_limit_range(fault_simulation):
    refusal = _refusal(fault_simulation, "bigger-than-the-team-pools")
    assert refusal["by"] == "limit-range"
    assert "maximum cpu usage per Container is 4, but limit is 64" in refusal["message"]


def test_more_gpus_than_the_teams_pools_hold_are_refused_by_the_quota(fault_simulation):
    refusal = _refusal(fault_simulation, "more-gpus-than-the-team-has")
    assert refusal["by"] == "quota"
    # ml-training's quota: gpu-t4's 8 GPUs, and 8 more for the Ray workers Kueue may hold
    assert "exceeded quota: team-quota, requested: requests.nvidia.com/gpu=17" in refusal["message"]
    assert "limited: requests.nvidia.com/gpu=16" in refusal["message"]


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_workload_network_policy_selects_the_pods_the_controllers_made(reference_simulation, environment):
    """The NetworkPolicies name pods by the labels KubeRay and the ReplicaSets really put on them
    (Dask's operator does not run here, so its pods are checked in test_network_policies.py only)."""
    from test_network_policies import matches, policies

    pods = [p for p in _pass(reference_simulation[0][environment], "desired")["pods"] if p["node"]]
    checked = 0
    for policy in policies(environment):
        selector = policy["spec"]["podSelector"]
        if not selector or "dask.org/cluster-name" in selector.get("matchLabels", {}):
            continue
        selected = {p["owner"] for p in pods if p["namespace"] == policy["metadata"]["namespace"] and matches(selector, p["labels"])}
        assert len(selected) == 1, (policy["metadata"]["name"], selected)  # one workload's pods, and some
        if policy["metadata"]["name"].endswith("-head-clients"):
            assert all("-head" in p["name"] for p in pods if matches(selector, p["labels"]))
        checked += 1
    assert checked >= {"aws-primary": 3, "azure-dr": 1, "gcp-burst": 2}[environment]
