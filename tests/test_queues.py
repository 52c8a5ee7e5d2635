"""Who queues and what each Kueue queue may admit (aiops.model.queues), on the reference environments.

The sums are written out so a reader can check them; the simulation (tests/test_simulate.py)
shows Kueue admitting within them and the nodes holding what they promise.
"""

from __future__ import annotations

import pytest

from aiops.model import load_environment
from aiops.model.allocatable import MIB
from aiops.model.node_overhead import Resources
from aiops.model.queues import queue_quotas, workload_queue
from conftest import REPO


def _environment(name: str):
    return load_environment(REPO / "environments" / f"{name}.yaml")


def _quotas(name: str) -> dict[str, dict[str, Resources]]:
    return {q.name: {f.flavor: f.quota for f in q.flavors} for q in queue_quotas(_environment(name))}


def test_aws_primary_quotas_are_allocatable_less_what_runs_outside_kueue():
    quotas = _quotas("aws-primary")
    # gpu-training: 10 x p3.2xlarge. Allocatable (EKS, 58 pods): 8000 - 90 = 7910m CPU;
    # 62464 - (11 x 58 + 255) - 100 = 61471 Mi. Daemon sets on a GPU node: node-exporter 20m /
    # 48 Mi, NFD worker 5m / 64 Mi, the cloud's margin 200m / 256 Mi, the GPU operands' 250m /
    # 768 Mi: 475m / 1136 Mi. So 10 x 7435m = 74350m and 10 x 60335 Mi = 603350 Mi; 10 GPUs.
    # Nothing outside Kueue: the pool is tainted, and the training and Ray workers both queue.
    assert quotas["training"]["gpu-training"] == Resources(74_350, 603_350 * MIB, 10)
    # The Ray head runs on cpu-compute: the training queue holds exactly its pod set there, the
    # head (2, 8Gi) and the autoscaler sidecar Kueue counts with it (500m, 512Mi).
    assert quotas["training"]["cpu-compute"] == Resources(2500, 8704 * MIB, 0)
    # cpu-compute: 50 x c5.4xlarge. Allocatable (234 pods): 16000 - 110 = 15890m; 32768 - 2829 -
    # 100 = 29839 Mi; less 225m / 368 Mi of daemon sets: 50 x 15665m = 783250m, 50 x 29471 Mi =
    # 1473550 Mi. Outside Kueue: platform pods 4000m / 8192 Mi; Dask 20 x (2, 8Gi) + scheduler
    # (1, 4Gi) = 41000m / 167936 Mi; the Ray head's share in the training queue 2500m / 8704 Mi.
    # Left: 735750m and 1288718 Mi.
    assert quotas["batch"] == {"cpu-compute": Resources(735_750, 1_288_718 * MIB, 0)}


def test_gcp_burst_lends_the_ray_head_a_flavor_on_the_unqueued_cpu_pool():
    quotas = _quotas("gcp-burst")
    # gpu-t4: 8 x n1-standard-4 + T4. GKE: 4000 - 80 = 3920m; 15 GiB = 15360 Mi less 25 % of 4 GiB,
    # 20 % of 4 GiB, 10 % of the last 7 GiB (1024 + 819.2 + 716.8 = 2560 Mi) and 100 Mi eviction
    # = 12700 Mi; daemon sets 220m / 304 Mi (the GPU operator does not run on GKE): 8 x 3700m =
    # 29600m, 8 x 12396 Mi = 99168 Mi.
    # cpu-system is in no queue; the burst queue holds the Ray head's pod set there (head + sidecar).
    assert quotas["burst"] == {"gpu-t4": Resources(29_600, 99_168 * MIB, 8), "cpu-system": Resources(2500, 8704 * MIB, 0)}


@pytest.mark.parametrize(
    ("environment", "key", "queue"),
    [
        ("aws-primary", "training", "training"),
        ("aws-primary", "ray", "training"),
        ("aws-primary", "inference", None),  # serving never queues
        ("aws-primary", "dask", None),  # Kueue 0.19.2 cannot queue a DaskCluster
        ("azure-dr", "inference", None),
        ("gcp-burst", "ray", "burst"),
    ],
)
def test_which_workloads_go_through_a_queue(environment, key, queue):
    assert workload_queue(_environment(environment).workloads, key) == queue


def test_a_serving_pool_in_a_queue_keeps_the_services_maximum_out_of_it(tmp_path):
    text = (REPO / "environments" / "azure-dr.yaml").read_text().replace(
        "  teams:\n    - name: ml-serving\n",
        "  teams:\n    - name: ml-serving\n    - name: ml-training\n      queues: [training]\n  queues:\n    - name: training\n      pools: [gpu]\n",
    ).replace("max: 6\n    labels:\n      workload-type: ml-training", "max: 8\n    labels:\n      workload-type: ml-training")
    (tmp_path / "azure-dr.yaml").write_text(text)
    quotas = {q.name: {f.flavor: f.quota for f in q.flavors} for q in queue_quotas(load_environment(tmp_path / "azure-dr.yaml"))}
    # 8 T4 nodes, the inference service's maximum of 6 replicas (1 GPU each) kept out: 2 GPUs left.
    assert quotas["training"]["gpu"].gpus == 2
