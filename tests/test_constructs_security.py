"""The Kubernetes side of secure by default (issue 14), construct by construct: the security
context every generated pod gets, the namespaces' Pod Security labels, the team NetworkPolicies,
ResourceQuota and LimitRange; snapshots in tests/snapshots/test_constructs_security/, and the
error of each bad prop. What the API server does with them is in test_simulate.py.
"""

from __future__ import annotations

import json

import pytest
import yaml

from aiops.model.pod_security import PodSecurity
from aiops.synth.team_security import team_limits, team_pools
from aiops.validate.rules.pod_security import _restricted_problems
from aiops_constructs.k8s.prometheus_stack import PrometheusStack
from aiops_constructs.k8s.security_context import pod_security_labels, secure
from aiops_constructs.k8s.team_limits import TeamLimits, TeamLimitsProps
from aiops_constructs.k8s.team_namespaces import TeamNamespaces, TeamProps
from aiops_constructs.k8s.team_network_policies import Peers, ServedPorts, TeamNetworkPolicies
from conftest import REPO
from constructs_fixtures import WORKLOADS, environment, render as _render, construct_error as _error

# The shared fixture's workloads, with the inference server's maximum lowered so that its queue
# keeps GPUs on the 4-node GPU pool (serving's maximum is kept out of the queues' quota).
ENV = environment(workloads={**WORKLOADS, "inference": {**WORKLOADS["inference"], "autoscaling": {**WORKLOADS["inference"]["autoscaling"], "maxReplicas": 2}}})


# --- the security context ------------------------------------------------------------------


def _pod() -> dict:
    return {"containers": [{"name": "app", "image": "example/app:1.0.0"}], "initContainers": [{"name": "setup", "image": "example/app:1.0.0"}]}


def test_every_container_meets_the_restricted_level_and_writes_only_to_its_empty_dirs():
    pod = _pod()
    secure(pod, PodSecurity())
    for container in pod["containers"] + pod["initContainers"]:
        assert _restricted_problems(pod, container) == []
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["volumeMounts"] == [{"name": "writable-tmp", "mountPath": "/tmp"}]
        assert container["imagePullPolicy"] == "Always"
    assert pod["volumes"] == [{"name": "writable-tmp", "emptyDir": {}}]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_an_environment_may_relax_the_read_only_root_filesystem_and_only_explicitly():
    pod = _pod()
    secure(pod, PodSecurity(read_only_root_filesystem=False, writable_paths=[]), service_account_token=True)
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
    assert _restricted_problems(pod, pod["containers"][0]) == []  # still restricted: the level does not ask for it
    assert "volumes" not in pod and pod["automountServiceAccountToken"] is True


def test_secure_refuses_a_writable_path_that_is_already_mounted():
    pod = {"containers": [{"name": "app", "image": "x:1", "volumeMounts": [{"name": "data", "mountPath": "/tmp"}]}]}
    with pytest.raises(ValueError) as caught:
        secure(pod, PodSecurity())
    assert str(caught.value) == "secure: /tmp is already mounted; leave it out of writable_paths"


@pytest.mark.parametrize(("file", "kinds"), [
    ("apps/training-workers.yaml", {"Deployment"}), ("apps/inference-service.yaml", {"Deployment"}),
    ("apps/ray-cluster.yaml", {"RayCluster"}), ("apps/dask-cluster.yaml", {"DaskCluster"}),
])
def test_every_pod_template_in_dist_meets_the_restricted_level(file, kinds):
    documents = [d for d in yaml.safe_load_all((REPO / "dist/aws-primary" / file).read_text()) if d and d["kind"] in kinds]
    (obj,) = documents
    spec = obj["spec"]
    templates = {
        "Deployment": lambda: [spec["template"]["spec"]],
        "RayCluster": lambda: [spec["headGroupSpec"]["template"]["spec"], *(g["template"]["spec"] for g in spec["workerGroupSpecs"])],
        "DaskCluster": lambda: [spec["worker"]["spec"], spec["scheduler"]["spec"]],
    }[obj["kind"]]()
    for pod in templates:
        for container in pod["containers"]:
            assert _restricted_problems(pod, container) == [], container["name"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert {"name": "writable-tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    if obj["kind"] == "RayCluster":
        # the head's autoscaler sidecar (KubeRay adds it) is restricted too; only the head calls the API
        assert _restricted_problems(templates[0], {"securityContext": spec["autoscalerOptions"]["securityContext"]}) == []
        assert [pod["automountServiceAccountToken"] for pod in templates] == [True, False]
        assert templates[0]["securityContext"]["runAsUser"] == 1000  # the Ray images' own user
    else:
        assert all(pod["automountServiceAccountToken"] is False for pod in templates)


# --- Pod Security labels ---------------------------------------------------------------------


def test_team_namespaces_enforce_their_level_and_report_restricted():
    rendered = json.loads(_render(lambda c: TeamNamespaces(c, "t", teams=[TeamProps("team-a"), TeamProps("team-b", pod_security="baseline")])))
    labels = {d["metadata"]["name"]: d["metadata"]["labels"] for d in rendered if d["kind"] == "Namespace"}
    assert labels["team-a"] == {"aiops.example/team": "team-a", "pod-security.kubernetes.io/enforce": "restricted",
                                "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted"}
    assert labels["team-b"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["team-b"]["pod-security.kubernetes.io/warn"] == "restricted"


def test_a_team_namespace_is_never_privileged():
    assert _error(lambda c: TeamNamespaces(c, "t", teams=[TeamProps("team-a", pod_security="privileged")])) == (
        "TeamNamespaces: team 'team-a' asks for Pod Security level 'privileged'; a team namespace is restricted or baseline"
    )


def test_pod_security_labels_refuse_an_unknown_level():
    with pytest.raises(ValueError) as caught:
        pod_security_labels("strict")
    assert str(caught.value) == "pod_security_labels: 'strict' is not a Pod Security level (restricted, baseline, privileged)"


def test_node_exporter_gets_a_privileged_namespace_of_its_own():
    rendered = json.loads(_render(lambda c: PrometheusStack(c, "p")))
    levels = {d["metadata"]["name"]: d["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] for d in rendered if d["kind"] == "Namespace"}
    assert levels == {"node-exporter": "privileged", "monitoring": "baseline"}
    (release,) = [d for d in rendered if d["kind"] == "HelmRelease"]
    assert release["spec"]["values"]["prometheus-node-exporter"]["namespaceOverride"] == "node-exporter"
    assert _error(lambda c: PrometheusStack(c, "p", node_exporter_namespace="monitoring")) == (
        "PrometheusStack: node_exporter_namespace is the release's namespace 'monitoring'; node exporter needs a privileged namespace of its own"
    )


# --- NetworkPolicies -------------------------------------------------------------------------


def _policies(c, **changes):
    props = dict(
        namespace="team-a",
        peers=[Peers("ray", {"ray.io/cluster": "ray"})],
        served=[ServedPorts("ray-head-clients", {"ray.io/cluster": "ray", "ray.io/node-type": "head"}, (10001, 8265), ("kuberay-system",)),
                ServedPorts("server-clients", {"app.kubernetes.io/name": "server"}, (8000,), None)],
    )
    return TeamNetworkPolicies(c, "n", **(props | changes))


def test_team_network_policies_snapshot(snapshot):
    snapshot.assert_match(_render(_policies), "team_network_policies.json")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"peers": [Peers("all", {})]}, "TeamNetworkPolicies 'team-a': 'all' has an empty selector, which would select every pod of the namespace; name the pods"),
    ({"served": [ServedPorts("x", {"a": "b"}, ())]}, "TeamNetworkPolicies 'team-a': 'x' needs ports between 1 and 65535, got []"),
    ({"served": [ServedPorts("x", {"a": "b"}, (70000,))]}, "TeamNetworkPolicies 'team-a': 'x' needs ports between 1 and 65535, got [70000]"),
    ({"served": [ServedPorts("ray-peers", {"a": "b"}, (1,))]}, "TeamNetworkPolicies 'team-a': two policies are named 'ray-peers'"),
    ({"served": [ServedPorts("allow-prometheus", {"a": "b"}, (1,))]},
     "TeamNetworkPolicies 'team-a': policy name 'allow-prometheus' is not a valid Kubernetes name or is taken by the platform's own policies"),
    ({"served": [ServedPorts("x", {"a": "b"}, (1,), ("Other_NS",))]}, "TeamNetworkPolicies 'team-a': 'x' allows namespace 'Other_NS', which is not a valid namespace name"),
])
def test_team_network_policies_refuse_bad_props(changes, expected):
    assert _error(lambda c: _policies(c, **changes)) == expected


# --- ResourceQuota and LimitRange --------------------------------------------------------------


def test_team_limits_snapshot(snapshot):
    snapshot.assert_match(_render(lambda c: TeamLimits(c, "l", props=team_limits(ENV, "team-a"))), "team_limits.json")


def test_a_team_without_gpu_pools_gets_no_gpu():
    from aiops.model import load_environment

    # team-b's queue is on the CPU pool, but its inference server runs on the GPU pool
    assert [[p.name for p in team_pools(ENV, team)] for team in ("team-a", "team-b")] == [["gpu", "cpu"], ["gpu", "cpu"]]
    primary = load_environment(REPO / "environments/aws-primary.yaml")
    assert [p.name for p in team_pools(primary, "data-eng")] == ["cpu-compute"]
    assert team_limits(primary, "data-eng").quota == {"cpu": "800", "memory": "1638400Mi", "nvidia.com/gpu": "0"}  # 50 x c5.4xlarge


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_a_teams_quota_never_refuses_what_kueue_admits(environment):
    """What Kueue may admit for a team (every queue's quota on the flavors of the team's queues:
    the cohort lets a queue borrow idle quota of those flavors), plus what the team runs outside
    Kueue at its maximum (serving, Dask, the Ray autoscaler sidecar), plus the pods Kueue may hold
    at its gate, fits in the team's quota."""
    from aiops.model import load_environment
    from aiops.model.node_overhead import RAY_AUTOSCALER_SIDECAR, Resources, requests_of
    from aiops.model.quantity import parse_quantity
    from aiops.model.queues import queue_quotas, workload_queue

    env = load_environment(REPO / f"environments/{environment}.yaml")
    quotas, workloads = queue_quotas(env), env.workloads
    for team in workloads.teams:
        flavors = {f.flavor for q in quotas if q.name in team.queues for f in q.flavors}
        need = Resources(0, 0)
        for q in quotas:
            for f in q.flavors:
                if f.flavor in flavors:
                    need = need + f.quota
        if workloads.inference is not None and workloads.inference.namespace == team.name:
            need = need + requests_of(workloads.inference.resources).times(workloads.inference.autoscaling.max_replicas)
        if workloads.dask is not None and workloads.dask.namespace == team.name:
            need = need + requests_of(workloads.dask.workers.resources).times(workloads.dask.workers.max_replicas) + requests_of(workloads.dask.scheduler.resources)
        if workloads.ray is not None and workloads.ray.namespace == team.name:
            need = need + RAY_AUTOSCALER_SIDECAR
        # and the pods Kueue holds at its gate: every queued workload at its maximum exists
        for key in ("training", "ray"):
            workload = getattr(workloads, key)
            if workload is not None and workload.namespace == team.name and workload_queue(workloads, key) is not None:
                need = need + (requests_of(workload.resources).times(workload.autoscaling.max_replicas) if key == "training" else
                               requests_of(workload.head.resources) + requests_of(workload.workers.resources).times(workload.workers.max_replicas))
        hard = team_limits(env, team.name).quota
        assert need.cpu_millis <= parse_quantity(hard["cpu"]) * 1000, (team.name, need, hard)
        assert need.memory_bytes <= parse_quantity(hard["memory"]), (team.name, need, hard)
        assert need.gpus <= int(hard["nvidia.com/gpu"]), (team.name, need, hard)
        assert need.gpus > 0 or team.name == "data-eng"  # the comparison was about something


@pytest.mark.parametrize(("changes", "expected"), [
    ({"quota": {"cpu": "8", "memory": "8Gi"}}, "TeamLimits 'team-a': quota must give cpu, memory and nvidia.com/gpu, got ['cpu', 'memory']"),
    ({"default_request": {"cpu": "32", "memory": "1Gi"}}, "TeamLimits 'team-a': default_request[cpu] (32) is above container_max (16)"),
    ({"container_max": {"cpu": "many", "memory": "1Gi"}}, "TeamLimits 'team-a': container_max[cpu] 'many' is not a Kubernetes quantity"),
])
def test_team_limits_refuse_bad_props(changes, expected):
    props = TeamLimitsProps("team-a", {"cpu": "8", "memory": "8Gi", "nvidia.com/gpu": "0"}, {"cpu": "16", "memory": "32Gi"})
    for key, value in changes.items():
        props = TeamLimitsProps(**{**props.__dict__, key: value})
    assert _error(lambda c: TeamLimits(c, "l", props=props)) == expected
