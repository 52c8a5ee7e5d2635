"""Bad `workloads:` sections: each mistake gets its own message, with file, line and column."""

from __future__ import annotations

import pytest

from aiops.model import load_environment
from conftest import REPO
from test_environment_errors import VALID as ENVIRONMENT
from test_environment_errors import errors_of

# The environment of test_environment_errors.py, with a CPU pool and workloads added.
VALID = ENVIRONMENT + """\
  - name: cpu-compute
    instanceType: c5.4xlarge
    min: 1
    desired: 1
    max: 5
    labels:
      workload-type: general-compute
workloads:
  teams:
    - name: ml-training
      queues: [training]
  queues:
    - name: training
      pools: [gpu-training]
  training:
    name: ml-training-workers
    namespace: ml-training
    pool: gpu-training
    image: ghcr.io/example-org/ml-training-worker:1.0.0
    resources: {cpu: "4", memory: 32Gi, gpus: 1}
    autoscaling: {minReplicas: 1, maxReplicas: 10, gpuUtilization: 80, cpuUtilization: 70}
  ray:
    name: ray
    namespace: ml-training
    rayVersion: "2.52.0"
    head:
      pool: cpu-compute
      image: rayproject/ray:2.52.0-py311-cpu
      resources: {cpu: "2", memory: 8Gi}
    workers:
      pool: gpu-training
      image: rayproject/ray:2.52.0-py311-cu124
      minReplicas: 1
      maxReplicas: 4  # outside Kueue: its maximum is kept out of the training queue's 10 GPUs
      resources: {cpu: "4", memory: 16Gi, gpus: 1}
  dask:
    name: dask
    namespace: ml-training
    pool: cpu-compute
    image: ghcr.io/dask/dask:2026.7.1-py3.13
    workers:
      replicas: 10
      minReplicas: 2
      maxReplicas: 20
      resources: {cpu: "2", memory: 8Gi}
      daskMemoryLimit: 7GB
"""


def test_the_valid_example_is_valid(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    workloads = load_environment(tmp_path / "demo.yaml").workloads
    assert [key for key, _ in workloads.named()] == ["training", "ray", "dask"]
    assert workloads.training.resources.limits == ("4", "32Gi")  # limits default to the requests


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("    pool: gpu-training\n    image: ghcr", "    pool: gpu-trainin\n    image: ghcr"),
            [
                "demo.yaml:41:11: workloads.training.pool: 'gpu-trainin' is not a node pool of this environment\n"
                "    fix: did you mean 'gpu-training'? node pools: gpu-training, cpu-compute"
            ],
            id="unknown-pool",
        ),
        pytest.param(
            ("    pool: gpu-training\n    image: ghcr", "    pool: cpu-compute\n    image: ghcr"),
            [
                "demo.yaml:41:11: workloads.training.pool: asks for 1 GPU(s) but pool 'cpu-compute' (c5.4xlarge) has none\n"
                "    fix: run it on a GPU pool, or set gpus: 0"
            ],
            id="gpu-workload-on-a-cpu-pool",
        ),
        pytest.param(
            ('resources: {cpu: "4", memory: 32Gi, gpus: 1}', 'resources: {cpu: "12", memory: 32Gi, gpus: 1}'),
            [
                "demo.yaml:43:22: workloads.training.resources.cpu: a cpu request of 12 does not fit on a node of pool "
                "'gpu-training' (p3.2xlarge: 8 vCPU)\n    fix: request less than the node has (the kubelet and daemon sets need some too)"
            ],
            id="request-larger-than-a-node",
        ),
        pytest.param(
            ("maxReplicas: 10, gpuUtilization", "maxReplicas: 12, gpuUtilization"),
            [
                "demo.yaml:41:11: workloads.training.pool: 12 replicas x 1 GPU(s) is more than pool 'gpu-training' holds at its maximum "
                "(10 nodes x 1 GPU(s))\n    fix: lower the maximum replicas to 10 or raise the pool's max"
            ],
            id="more-gpus-than-the-pool-can-hold",
        ),
        pytest.param(
            ("minReplicas: 1, maxReplicas: 10, gpu", "minReplicas: 11, maxReplicas: 10, gpu"),
            [
                "demo.yaml:44:32: workloads.training.autoscaling.minReplicas: minReplicas (11) is greater than maxReplicas (10)\n"
                "    fix: use minReplicas <= maxReplicas"
            ],
            id="hpa-bounds-reversed",
        ),
        pytest.param(
            ('{cpu: "4", memory: 32Gi, gpus: 1}', '{cpu: "4 cores", memory: 32Gi, gpus: 1}'),
            [
                "demo.yaml:43:22: workloads.training.resources.cpu: '4 cores' is not a Kubernetes quantity\n"
                '    fix: write a number with an optional unit, like "2", "500m" or "16Gi"'
            ],
            id="not-a-quantity",
        ),
        pytest.param(
            ('{cpu: "4", memory: 32Gi, gpus: 1}', '{cpu: "4", memory: "32", gpus: 1}'),
            ["demo.yaml:43:35: workloads.training.resources.memory: '32' is 32 bytes of memory\n    fix: memory needs a unit, like 32Gi or 32Mi"],
            id="memory-without-a-unit",
        ),
        pytest.param(
            ('{cpu: "4", memory: 32Gi, gpus: 1}', '{cpu: "4", memory: 32Gi, cpuLimit: "2", gpus: 1}'),
            ["demo.yaml:43:51: workloads.training.resources.cpuLimit: cpuLimit (2) is below the cpu request (4)\n    fix: a limit must be at least the request"],
            id="limit-below-request",
        ),
        pytest.param(
            ("ml-training-worker:1.0.0", "ml-training-worker:latest"),
            [
                "demo.yaml:42:12: workloads.training.image: image 'ghcr.io/example-org/ml-training-worker:latest' is not pinned to a version\n"
                "    fix: give it a version tag (not 'latest') or a digest; an unpinned image changes under a running cluster"
            ],
            id="image-latest",
        ),
        pytest.param(
            ("ghcr.io/dask/dask:2026.7.1-py3.13", "ghcr.io/dask/dask"),
            [
                "demo.yaml:63:12: workloads.dask.image: image 'ghcr.io/dask/dask' is not pinned to a version\n"
                "    fix: give it a version tag (not 'latest') or a digest; an unpinned image changes under a running cluster"
            ],
            id="image-without-tag",
        ),
        pytest.param(
            ('resources: {cpu: "2", memory: 8Gi}\n    workers', 'resources: {cpu: "2", memory: 8Gi, gpus: 1}\n    workers'),
            [
                "demo.yaml:52:48: workloads.ray.head.resources.gpus: the Ray head asks for 1 GPU(s)\n"
                "    fix: the head runs the GCS, dashboard and autoscaler, and no tasks (num-cpus 0); remove gpus and put GPU work in the worker group"
            ],
            id="ray-head-with-a-gpu",
        ),
        pytest.param(
            ('resources: {cpu: "4", memory: 16Gi, gpus: 1}', 'resources: {cpu: "4", memory: 16Gi, cpuLimit: "8", gpus: 1}'),
            [
                "demo.yaml:58:53: workloads.ray.workers.resources.cpuLimit: cpuLimit (8) differs from the request (4); KubeRay sets Ray's "
                "resources from the limits, so Ray would run more on the node than the scheduler reserved\n"
                "    fix: give Ray containers requests equal to limits: set the request to 8, or remove cpuLimit"
            ],
            id="ray-limits-above-requests",
        ),
        pytest.param(
            ("rayproject/ray:2.52.0-py311-cu124", "rayproject/ray:2.8.0-gpu"),
            [
                "demo.yaml:55:14: workloads.ray.workers.image: image 'rayproject/ray:2.8.0-gpu' does not run Ray 2.52.0\n"
                "    fix: use an image tagged 2.52.0 or 2.52.0-<variant>; head, workers and rayVersion must agree"
            ],
            id="ray-image-of-another-version",
        ),
        pytest.param(
            ('rayVersion: "2.52.0"', "rayVersion: 2.52"),
            ["demo.yaml:48:17: workloads.ray.rayVersion: must be a string, got the number 2.52\n    fix: put the value in quotes"],
            id="ray-version-unquoted",
        ),
        pytest.param(
            ("    namespace: ml-training\n    pool: cpu-compute", "    namespace: data-eng\n    pool: cpu-compute"),
            [
                "demo.yaml:61:16: workloads.dask.namespace: namespace 'data-eng' is not a team of this environment\n"
                "    fix: add it under workloads.teams (teams: ml-training)"
            ],
            id="namespace-not-a-team",
        ),
        pytest.param(
            ("      queues: [training]", "      queues: [trainig]"),
            [
                "demo.yaml:34:16: workloads.teams[0].queues[0]: team 'ml-training' submits to queue 'trainig', which is not defined\n"
                "    fix: did you mean 'training'? define it under workloads.queues (defined: training)"
            ],
            id="team-queue-undefined",
        ),
        pytest.param(
            ("      pools: [gpu-training]", "      pools: [gpu-training]\n    - name: batch\n      pools: [cpu-compute]"),
            ["demo.yaml:38:13: workloads.queues[1].name: no team submits to queue 'batch'\n    fix: add it to a team's queues, or remove it"],
            id="queue-nobody-uses",
        ),
        pytest.param(
            (
                "      queues: [training]\n  queues:\n    - name: training\n      pools: [gpu-training]",
                "      queues: [training, more]\n  queues:\n    - name: training\n      pools: [gpu-training]\n    - name: more\n      pools: [gpu-training]",
            ),
            [
                "demo.yaml:39:15: workloads.queues[1].pools[0]: pool 'gpu-training' is already in queue 'training'\n"
                "    fix: a queue's quota is its pools' whole capacity; give each pool to one queue"
            ],
            id="pool-in-two-queues",
        ),
        pytest.param(
            ("    - name: ml-training\n      queues: [training]", "    - name: ml-training\n    - name: ops\n      queues: [training]"),
            [
                "demo.yaml:41:16: workloads.training.namespace: ml-training-workers runs on a pool of queue 'training', but team 'ml-training' does not submit to it\n"
                "    fix: add 'training' to the queues of team 'ml-training' (workloads.teams); a queued pool admits only what comes through its queue"
            ],
            id="queued-workload-outside-its-queue",
        ),
        pytest.param(
            ("      pools: [gpu-training]\n  training:", "      pools: [gpu-training, cpu-compute]\n  training:"),
            # Memory: 5 x (29839 - 368) Mi = 147355 Mi, less 8192 + 167936 + 8704 Mi outside Kueue: negative.
            # (CPU is left: 5 x (15890 - 225) m - 4000 - 41000 - 2500 m = 30825 m.)
            [
                "demo.yaml:37:7: workloads.queues[0].pools: queue 'training' is left no memory on pool 'cpu-compute' (5 nodes of "
                "15890m CPU, 29839Mi allocatable, less 225m CPU, 368Mi each for daemon sets; outside Kueue: the platform's own pods: "
                "4 CPU, 8192Mi; dask (Dask, not queued): 41 CPU, 167936Mi; ray's head (Ray, not queued): 2500m CPU, 8704Mi)\n"
                "    fix: raise the max of pool 'cpu-compute', lower what runs there outside Kueue, or take the pool out of the queue"
            ],
            id="queue-left-no-room",
        ),
        pytest.param(
            ("      daskMemoryLimit: 7GB", "      daskMemoryLimit: 9GB"),
            [
                "demo.yaml:69:24: workloads.dask.workers.daskMemoryLimit: daskMemoryLimit (9GB = 8.38Gi) is not below the container's memory "
                "limit (8Gi)\n    fix: Dask must spill and pause before the kernel kills the container; keep it about 10% below the container limit"
            ],
            id="dask-memory-limit-above-the-container",
        ),
        pytest.param(
            ("      replicas: 10\n", "      replicas: 30\n"),
            [
                "demo.yaml:65:17: workloads.dask.workers.replicas: replicas (30) is outside minReplicas..maxReplicas (2..20)\n"
                "    fix: use minReplicas <= replicas <= maxReplicas"
            ],
            id="dask-replicas-outside-bounds",
        ),
        pytest.param(
            ("    labels:\n      workload-type: general-compute", "    labels:\n      workload-type: ml-training\n      size: large"),
            [
                "demo.yaml:38:15: workloads.queues[0].pools[0]: the labels of pool 'gpu-training' also select the nodes of pool 'cpu-compute'\n"
                "    fix: give 'gpu-training' a label that 'cpu-compute' does not carry; workloads and queues find their pool by its labels"
            ],
            id="pool-labels-select-another-pool",
        ),
        pytest.param(
            ("autoscaling: {minReplicas: 1, maxReplicas: 10, gpuUtilization: 80, cpuUtilization: 70}", "autoscaling: {minReplicas: 1, maxReplicas: 10}"),
            ["demo.yaml:44:5: workloads.training.autoscaling: no metric to scale on\n    fix: set gpuUtilization, cpuUtilization or both (percent)"],
            id="hpa-without-a-metric",
        ),
        pytest.param(
            ("gpuUtilization: 80", "gpuUtilization: 180"),
            ["demo.yaml:44:68: workloads.training.autoscaling.gpuUtilization: input should be less than or equal to 100, got 180\n    fix: change the number"],
            id="utilization-above-100",
        ),
    ],
)
def test_each_workload_mistake_has_its_message(tmp_path, change, expected):
    old, new = change
    assert old in VALID
    assert errors_of(tmp_path, VALID.replace(old, new, 1)) == expected


def test_gpu_autoscaling_is_refused_on_gke(tmp_path):
    """GKE runs its own GPU stack here, with no DCGM exporter feeding Prometheus."""
    text = (REPO / "environments" / "gcp-burst.yaml").read_text()
    # gcp-burst's GPU pool is spot, which no inference service may use: on demand here.
    text = text.replace("name: gcp-burst", "name: demo").replace("    capacityType: spot", "    capacityType: onDemand") + (
        "  inference:\n"
        "    name: server\n"
        "    namespace: ml-training\n"
        "    pool: gpu-t4\n"
        "    image: ghcr.io/example-org/model-server:1.0.0\n"
        '    resources: {cpu: "2", memory: 8Gi, gpus: 1}\n'
        "    autoscaling: {minReplicas: 1, maxReplicas: 4, gpuUtilization: 80}\n"
    )
    (error,) = errors_of(tmp_path, text)
    line = text.splitlines().index("    autoscaling: {minReplicas: 1, maxReplicas: 4, gpuUtilization: 80}") + 1
    assert error == (
        f"demo.yaml:{line}:67: workloads.inference.autoscaling.gpuUtilization: GPU-utilization autoscaling needs DCGM metrics in Prometheus, which the platform "
        "installs (with the NVIDIA GPU operator) on EKS and AKS only\n    fix: on GKE, scale on cpuUtilization instead"
    )


def test_quantities_are_read_the_way_kubernetes_and_dask_read_them():
    from decimal import Decimal

    from aiops.model.quantity import format_memory, parse_dask_bytes, parse_quantity

    assert parse_quantity("500m") == Decimal("0.5")
    assert parse_quantity("16Gi") == 16 * 2**30
    assert parse_quantity("2G") == 2 * 10**9
    assert parse_dask_bytes("7GB") == 7 * 10**9  # Dask's GB is decimal ...
    assert parse_dask_bytes("6GiB") == parse_dask_bytes("6gib") == 6 * 2**30  # ... GiB binary, any case
    assert format_memory(Decimal(61) * 10) == "610Gi"
    assert format_memory(Decimal("7.5")) == "7680Mi"
    for bad in ("1e3", "4 cores", "-1"):
        with pytest.raises(ValueError):
            parse_quantity(bad)
    with pytest.raises(ValueError):
        parse_dask_bytes("7")  # a bare number would be bytes: refused
