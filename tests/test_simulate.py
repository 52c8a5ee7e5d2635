"""`aiops simulate` on the real control plane: what the reference platform does on a cluster.

Two simulations run per session (the session fixtures of simulate_fixtures.py): the three
reference environments as a user runs them, and a copy of gcp-burst with faults injected, each
of which must be caught in the scheduler's or a controller's own words. What admission (Pod
Security, quotas, LimitRanges) does with them is in test_simulate_admission.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, REPO, aiops, needs_the_chart_cache
from simulate_fixtures import git_repository
from simulate_fixtures import pass_of as _pass
from simulate_fixtures import pods_of as _pods_of

# -- the reference platform ----------------------------------------------------------------


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_reference_environment_reconciles_as_flux_would(reference_simulation, environment):
    env = reference_simulation[0][environment]
    assert env["kubernetesVersion"] == "1.36.3"
    failed = [f"{s['kind']} {s['name']}: {s['error']}" for s in env["reconcile"] if not s["ok"]]
    assert failed == []
    kinds = [s["kind"] for s in env["reconcile"]]
    assert kinds[0] == "Flux bootstrap" and "Kustomization" in kinds and "HelmRelease" in kinds
    assert [p["pass"] for p in env["passes"]] == ["desired", "max"]


WORKLOAD_POOLS = [
    # environment, namespace, owner, pool
    ("aws-primary", "ml-training", "Deployment/ml-training-workers", "gpu-training"),
    ("aws-primary", "ml-serving", "Deployment/model-server", "gpu-inference"),
    ("azure-dr", "ml-serving", "Deployment/model-server", "gpu"),
]


@pytest.mark.parametrize("end", ["desired", "max"])
@pytest.mark.parametrize(("environment", "namespace", "owner", "pool"), WORKLOAD_POOLS)
def test_each_workloads_pods_land_on_its_own_pool(reference_simulation, environment, namespace, owner, pool, end):
    pods = [p for p in _pods_of(_pass(reference_simulation[0][environment], end), namespace, owner) if p["node"]]
    assert pods, f"no pod of {owner} placed"
    assert {p["pool"] for p in pods} == {pool}


@pytest.mark.parametrize("end", ["desired", "max"])
@pytest.mark.parametrize(("environment", "cluster", "head_pool", "worker_pool"), [
    ("aws-primary", "aiops-ray-cluster", "cpu-compute", "gpu-training"),
    ("gcp-burst", "aiops-ray-burst", "cpu-system", "gpu-t4"),
])
def test_the_ray_head_and_workers_land_on_their_pools(reference_simulation, environment, cluster, head_pool, worker_pool, end):
    pods = [p for p in _pods_of(_pass(reference_simulation[0][environment], end), "ml-training", f"RayCluster/{cluster}") if p["node"]]
    heads = [p for p in pods if "-head" in p["name"]]
    workers = [p for p in pods if "-worker-" in p["name"]]
    assert [p["pool"] for p in heads] == [head_pool]
    assert {p["pool"] for p in workers} == ({worker_pool} if end == "max" or environment == "aws-primary" else set())


def test_the_inference_service_spreads_one_replica_per_zone_at_desired(reference_simulation):
    desired = _pass(reference_simulation[0]["aws-primary"], "desired")
    nodes = sorted(p["node"] for p in _pods_of(desired, "ml-serving", "Deployment/model-server"))
    assert nodes == ["gpu-inference-0", "gpu-inference-1", "gpu-inference-2"]  # nodes n mod 3 are the three zones


def test_pool_shares_count_what_the_pods_request(reference_simulation):
    desired = _pass(reference_simulation[0]["aws-primary"], "desired")
    inference = next(p for p in desired["pools"] if p["pool"] == "gpu-inference")
    assert inference["nodes"] == 3
    assert inference["gpu_allocatable"] == 6  # 3 T4s time-sliced two ways (tests/test_simulate_sharing.py)
    assert inference["gpu_requested"] == 3


def test_the_report_says_what_does_not_run(reference_simulation):
    env = reference_simulation[0]["aws-primary"]
    notes = [n for s in env["reconcile"] for n in s["notes"]]
    assert any(n.startswith("the KubeRay operator runs on the host at v1.6.1") for n in notes)
    assert any(n.startswith("Kueue's controller manager runs on the host") for n in notes)
    assert any(n.startswith("NVIDIA's GPU operator does not run") for n in notes)
    # installed on the real cluster, but its chart is not in the offline mirror: said, not rendered
    [controller] = [s for s in env["reconcile"] if s["kind"] == "HelmRelease" and s["name"] == "kube-system/aws-load-balancer-controller"]
    assert controller["ok"] and controller["objects"] == 0
    assert controller["notes"][0] == ("not rendered: chart aws-load-balancer-controller 3.5.0 is not in the offline chart mirror "
                                      "(aiops_constructs.k8s.charts.NOT_IN_MIRROR); none of its objects exist in this simulation")
    assert "APIService/v1beta1.metrics.k8s.io (served by a pod that does not run here)" in env["leftOut"]


# -- faults, each in the words of the component that catches it ------------------------------


def _pending(env: dict, deployment: str) -> str:
    pods = [p for p in _pass(env, "desired")["pending"] if p["owner"] == f"Deployment/{deployment}"]
    assert len(pods) == 1, pods
    return pods[0]["pending_reason"]


def test_a_node_selector_no_pool_has(fault_simulation):
    assert "didn't match Pod's node affinity/selector" in _pending(fault_simulation, "no-such-pool")


def test_a_gpu_request_on_a_pool_without_gpus(fault_simulation):
    assert "Insufficient nvidia.com/gpu" in _pending(fault_simulation, "gpu-on-cpu-pool")


def test_a_workload_bigger_than_any_node(fault_simulation):
    reason = _pending(fault_simulation, "bigger-than-any-node")
    assert "Insufficient cpu" in reason


def test_a_budget_that_blocks_every_drain(fault_simulation):
    budget = next(b for b in _pass(fault_simulation, "desired")["budgets"] if b["name"] == "blocks-every-drain")
    assert budget["allowed_disruptions"] == 0 and budget["current_healthy"] == 2
    problems = [p for p in fault_simulation["problems"] if p["kind"] == "budget"]
    assert any(p["subject"] == "PodDisruptionBudget/ml-training/blocks-every-drain" for p in problems)


def test_a_queue_with_no_quota_holds_its_workload(fault_simulation):
    workloads = [w for w in _pass(fault_simulation, "desired")["workloads"] if w["queue"] == "no-quota"]
    assert len(workloads) == 1
    assert workloads[0]["admitted"] is False
    assert "insufficient quota" in workloads[0]["message"]
    assert any(p["kind"] == "queue" and "waits-for-quota" in p["subject"] for p in fault_simulation["problems"])


def test_pending_pods_fail_the_health_check_of_their_kustomization(fault_simulation):
    apps = next(s for s in fault_simulation["reconcile"] if s["name"] == "flux-system/apps")
    assert not apps["ok"]
    assert "stay Pending" in apps["error"]


# -- the command ---------------------------------------------------------------------------


def test_an_unknown_environment_lists_the_known_ones():
    result = aiops("simulate", "--env", "nosuch", cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.strip() == "aiops simulate: no environment nosuch in dist/ (there are: aws-primary, azure-dr, gcp-burst)"


def test_an_unsupported_kubernetes_version_is_bad_input(tmp_path: Path):
    shutil.copytree(REPO / "dist" / "gcp-burst", tmp_path / "dist" / "gcp-burst")
    stack = tmp_path / "dist" / "gcp-burst" / "terraform" / "gke" / "cdk.tf.json"
    stack.write_text(stack.read_text().replace('"min_master_version": "1.36"', '"min_master_version": "1.33"'))
    git_repository(tmp_path)
    result = aiops("simulate", "--env", "gcp-burst", cwd=tmp_path)
    assert result.returncode == 2
    assert "aiops simulate: Kubernetes 1.33 cannot be simulated: the Go module proxy serves k8s.io/kubernetes 1.34, 1.35, 1.36, 1.37 only" in result.stderr


def _our_processes(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in command:
                found.append(command)
    return found


def test_ctrl_c_stops_every_process_and_removes_the_folder(tmp_path: Path):
    needs_the_chart_cache()  # interrupted while it renders a chart
    keep = tmp_path / "planes"
    process = subprocess.Popen([str(BIN / "aiops"), "simulate", "--env", "gcp-burst", "--keep", str(keep)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _our_processes(str(keep / "gcp-burst" / "kubeconfig")):
        time.sleep(0.5)
    assert _our_processes(str(keep / "gcp-burst")), "the control plane never started"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "aiops simulate: interrupted; the control plane was stopped" in stderr
    assert _our_processes(str(keep / "gcp-burst")) == []


def test_exit_status_follows_the_problems(reference_simulation):
    environments, report, code = reference_simulation
    assert report["format"] == 1
    assert code == (0 if report["ok"] else 1)
    assert report["ok"] == all(env["ok"] for env in environments.values())


# -- what the platform's own fixes do on the cluster (issue 13) -------------------------------


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_budget_over_running_pods_allows_a_disruption_at_steady_state(reference_simulation, environment):
    budgets = [b for b in _pass(reference_simulation[0][environment], "desired")["budgets"] if b["selected_pods"]]
    assert budgets, "no budget selects a pod"
    assert [b["name"] for b in budgets if b["allowed_disruptions"] < 1] == []


def test_the_ray_workers_budget_is_computed_by_the_disruption_controller(reference_simulation):
    budget = next(b for b in _pass(reference_simulation[0]["aws-primary"], "desired")["budgets"] if b["name"] == "aiops-ray-cluster-gpu-workers")
    assert budget["selected_pods"] == 1 and budget["expected_pods"] == 1 and budget["allowed_disruptions"] == 1
    assert "does not implement the scale subresource" not in budget["message"]


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_kueue_runs_two_replicas_that_a_drain_can_take_one_at_a_time(reference_simulation, environment):
    desired = _pass(reference_simulation[0][environment], "desired")
    pods = _pods_of(desired, "kueue-system", "Deployment/kueue-controller-manager")
    assert len(pods) == 2 and all(p["node"] for p in pods)
    (budget,) = [b for b in desired["budgets"] if b["namespace"] == "kueue-system"]
    assert budget["selected_pods"] == 2 and budget["allowed_disruptions"] == 1


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr"])
def test_the_gpu_metric_adapter_survives_a_drain(reference_simulation, environment):
    desired = _pass(reference_simulation[0][environment], "desired")
    assert len(_pods_of(desired, "monitoring", "Deployment/prometheus-adapter")) == 2
    (budget,) = [b for b in desired["budgets"] if b["name"] == "prometheus-adapter"]
    assert budget["allowed_disruptions"] == 1


@pytest.mark.parametrize("environment", ["aws-primary", "gcp-burst"])
def test_kuberays_pods_request_what_ray_is_limited_to(reference_simulation, environment):
    pods = [p for p in _pass(reference_simulation[0][environment], "max")["pods"] if p["owner"].startswith("RayCluster/")]
    assert pods
    for pod in pods:
        containers = {k: v for k, v in pod["requests"].items() if k in ("cpu", "memory")}
        assert containers == {k: v for k, v in pod["limits"].items() if k in ("cpu", "memory")}, pod["name"]


# -- queues that admit, quotas that fit, a spread that grows (issue 13) ------------------------


def _quantity(value: str | None) -> float:
    from aiops.model.quantity import parse_quantity

    return float(parse_quantity(value)) if value else 0.0


def _reference(name: str):
    from aiops.model import load_environment

    return load_environment(REPO / "environments" / f"{name}.yaml")


def test_kueue_admits_every_queued_workload_at_desired_and_at_max(reference_simulation):
    """aws-primary's training workers go through the `training` queue (Kueue's `deployment`
    integration: one Workload per pod, owned by the pod); its 10 GPUs hold the HPA's maximum."""
    for end, count in (("desired", 1), ("max", 10)):
        env_pass = _pass(reference_simulation[0]["aws-primary"], end)
        workloads = env_pass["workloads"]
        assert {w["owner"].rsplit("-", 2)[0] for w in workloads} == {"Pod/ml-training-workers"}
        assert [w["name"] for w in workloads if not w["admitted"]] == []
        assert len(workloads) == count and {w["queue"] for w in workloads} == {"training"}
        assert [p for p in env_pass["pending"] if p["namespace"] == "ml-training"] == []


def test_the_standing_ray_clusters_stay_outside_kueue(reference_simulation):
    """Kueue admits an autoscaled RayCluster only as an elastic job, whose scaled-up workers
    stayed gated in this simulation (aiops.model.queues): the reference clusters do not queue it."""
    for environment in ("aws-primary", "gcp-burst"):
        for end in ("desired", "max"):
            env_pass = _pass(reference_simulation[0][environment], end)
            assert [w for w in env_pass["workloads"] if w["owner"].startswith("RayCluster/")] == []


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr"])
def test_serving_never_waits_for_kueue(reference_simulation, environment):
    for end in ("desired", "max"):
        env_pass = _pass(reference_simulation[0][environment], end)
        assert [w for w in env_pass["workloads"] if w["namespace"] == "ml-serving"] == []
        assert [p for p in env_pass["pending"] if p["namespace"] == "ml-serving"] == []


def test_the_inference_service_places_every_replica_at_max_over_the_zones(reference_simulation):
    """Each zone is its own node group (aiops.model.zonal): 20 replicas over 3 zones, 7 / 7 / 6."""
    pods = _pods_of(_pass(reference_simulation[0]["aws-primary"], "max"), "ml-serving", "Deployment/model-server")
    assert len(pods) == 20 and all(p["node"] for p in pods)
    per_zone = [sum(1 for p in pods if int(p["node"].rsplit("-", 1)[1]) % 3 == zone) for zone in range(3)]
    assert per_zone == [7, 7, 6]  # node n of a pool is in zone n mod 3


@pytest.mark.parametrize("environment", ["aws-primary", "gcp-burst"])
def test_the_queues_quotas_fit_what_the_nodes_hold_at_max(reference_simulation, environment):
    """Per pool: the queues' quotas plus what runs there outside Kueue (measured) fit in the nodes' allocatable."""
    from aiops.model.queues import queue_quotas

    model = _reference(environment)
    managed = {team.name for team in model.workloads.teams if team.queues}
    at_max = _pass(reference_simulation[0][environment], "max")
    for flavor in {f.flavor for q in queue_quotas(model) for f in q.flavors}:
        quota_cpu = sum(f.quota.cpu_millis for q in queue_quotas(model) for f in q.flavors if f.flavor == flavor) / 1000
        quota_memory = sum(f.quota.memory_bytes for q in queue_quotas(model) for f in q.flavors if f.flavor == flavor)
        outside = [p for p in at_max["pods"] if p["pool"] == flavor and p["node"] and p["namespace"] not in managed]
        pool = next(p for p in at_max["pools"] if p["pool"] == flavor)
        assert quota_cpu + sum(_quantity(p["requests"].get("cpu")) for p in outside) <= pool["cpu_allocatable"], flavor
        assert quota_memory + sum(_quantity(p["requests"].get("memory")) for p in outside) <= pool["memory_allocatable_gib"] * 2**30, flavor


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_what_the_quotas_keep_free_covers_what_the_simulation_measures(reference_simulation, environment):
    """The DaemonSets on each node and the platform's pods on untainted pools stay within what
    aiops.model.node_overhead keeps out of the quotas."""
    from aiops.model.node_overhead import PLATFORM_PODS, node_daemons

    model = _reference(environment)
    teams = {team.name for team in model.workloads.teams}
    desired = _pass(reference_simulation[0][environment], "desired")
    pods = [p for p in desired["pods"] if p["node"]]
    for node in {p["node"] for p in pods}:
        daemons = [p for p in pods if p["node"] == node and p["owner"].startswith("DaemonSet/")]
        reserve = node_daemons(model, model.pool(daemons[0]["pool"])) if daemons else None
        if reserve is not None:
            assert sum(_quantity(p["requests"].get("cpu")) for p in daemons) * 1000 <= reserve.cpu_millis, node
            assert sum(_quantity(p["requests"].get("memory")) for p in daemons) <= reserve.memory_bytes, node
    untainted = {pool.name for pool in model.node_pools if not pool.taints}
    platform = [p for p in pods if p["pool"] in untainted and p["namespace"] not in teams and not p["owner"].startswith("DaemonSet/")]
    assert sum(_quantity(p["requests"].get("cpu")) for p in platform) * 1000 <= PLATFORM_PODS.cpu_millis
    assert sum(_quantity(p["requests"].get("memory")) for p in platform) <= PLATFORM_PODS.memory_bytes


def test_the_report_says_where_the_time_went(reference_simulation):
    for env in reference_simulation[0].values():
        assert list(env["timings"])[:4] == ["pools from Terraform", "control plane", "nodes at desired", "reconcile"]
        assert "pass max: scale and settle" in env["timings"]
        assert abs(sum(env["timings"].values()) - env["seconds"]) < 1.0
        assert env["cpuSeconds"]["kube-apiserver"] > 0 and env["cpuSeconds"]["flux-apply"] > 0 and "kueue" in env["cpuSeconds"]
