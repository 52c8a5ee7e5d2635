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
    # gpu-training: 20 x p3.2xlarge. Allocatable (EKS, 58 pods): 8000 - 90 = 7910m CPU;
    # 62464 - (11 x 58 + 255) - 100 = 61471 Mi. Daemon sets on a GPU node: node-exporter 20m /
    # 48 Mi, NFD worker 5m / 64 Mi, the cloud's margin 200m / 256 Mi, the GPU operands' 250m /
    # 768 Mi: 475m / 1136 Mi. So 20 x 7435m = 148700m and 20 x 60335 Mi = 1206700 Mi, 20 GPUs.
    # Outside Kueue: the Ray cluster's 10 workers of (6, 32Gi, 1 GPU) = 60000m / 327680 Mi / 10.
    # Left for the training queue: 88700m, 879020 Mi, 10 GPUs.
    assert quotas["training"] == {"gpu-training": Resources(88_700, 879_020 * MIB, 10)}
    # cpu-compute: 50 x c5.4xlarge. Allocatable (234 pods): 16000 - 110 = 15890m; 32768 - 2829 -
    # 100 = 29839 Mi; less 225m / 368 Mi of daemon sets: 50 x 15665m = 783250m, 50 x 29471 Mi =
    # 1473550 Mi. Outside Kueue: platform pods 4000m / 8192 Mi; Dask 20 x (2, 8Gi) + scheduler
    # (1, 4Gi) = 41000m / 167936 Mi; the Ray head (2, 8Gi) and its autoscaler sidecar (500m,
    # 512Mi) = 2500m / 8704 Mi. Left: 735750m and 1288718 Mi.
    assert quotas["batch"] == {"cpu-compute": Resources(735_750, 1_288_718 * MIB, 0)}


def test_gcp_burst_keeps_the_ray_workers_maximum_out_of_the_burst_queue():
    quotas = _quotas("gcp-burst")
    # gpu-t4: 16 x n1-standard-4 + T4. GKE: 4000 - 80 = 3920m; 15 GiB = 15360 Mi less 25 % of 4 GiB,
    # 20 % of 4 GiB, 10 % of the last 7 GiB (1024 + 819.2 + 716.8 = 2560 Mi) and 100 Mi eviction
    # = 12700 Mi; daemon sets 220m / 304 Mi (no GPU operator on GKE): 16 x 3700m = 59200m, 16 x
    # 12396 Mi = 198336 Mi. Outside Kueue: 8 Ray workers of (3, 10Gi, 1 GPU) = 24000m / 81920 Mi.
    assert quotas["burst"] == {"gpu-t4": Resources(35_200, 116_416 * MIB, 8)}


@pytest.mark.parametrize(
    ("environment", "key", "queue"),
    [
        ("aws-primary", "training", "training"),
        ("aws-primary", "ray", None),  # the standing Ray cluster stays outside Kueue (aiops.model.queues says why)
        ("aws-primary", "inference", None),  # serving never queues
        ("aws-primary", "dask", None),  # Kueue 0.19.2 cannot queue a DaskCluster
        ("azure-dr", "inference", None),
        ("gcp-burst", "ray", None),
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
