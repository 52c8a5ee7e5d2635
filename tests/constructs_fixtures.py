"""Small environments for construct tests: built in code, validated like any environment file."""

from __future__ import annotations

import json

import cdk8s
import pytest

from aiops.model import Environment

BASE = {
    "name": "unit",
    "cloud": "aws",
    "region": "us-east-1",
    "zones": ["us-east-1a", "us-east-1b"],
    "kubernetesVersion": "1.33",
    "costCentre": "test",
    "git": {"url": "https://example.com/repo.git"},
    "terraformState": {"bucket": "state", "region": "us-east-1"},
    "nodePools": [
        {
            "name": "gpu",
            "instanceType": "p3.2xlarge",
            "min": 0,
            "desired": 1,
            "max": 12,  # room for the queue after the serving and Ray maxima (4 GPUs each) are kept out of it
            "labels": {"workload-type": "ml-training"},
            "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        },
        {"name": "cpu", "instanceType": "c5.4xlarge", "min": 1, "desired": 1, "max": 3, "labels": {"workload-type": "general-compute"}},
    ],
}


def environment(**changes) -> Environment:
    data = {**BASE, **changes}
    return Environment.model_validate(data, context={"cloud": data["cloud"]})


WORKLOADS = {
    "teams": [{"name": "team-a", "queues": ["gpu-jobs", "cpu-jobs"]}, {"name": "team-b", "queues": ["cpu-jobs"]}],
    "queues": [{"name": "gpu-jobs", "pools": ["gpu"]}, {"name": "cpu-jobs", "pools": ["cpu"]}],
    "training": {
        "name": "trainer",
        "namespace": "team-a",
        "pool": "gpu",
        "image": "example.com/trainer:1.2.3",
        "args": ["--epochs", "10"],
        "resources": {"cpu": "4", "memory": "16Gi", "cpuLimit": "6", "gpus": 1},
        "autoscaling": {"minReplicas": 1, "maxReplicas": 4, "gpuUtilization": 80, "cpuUtilization": 70},
    },
    "inference": {
        "name": "server",
        "namespace": "team-b",
        "pool": "gpu",
        "image": "example.com/server:2.0.0",
        "port": 8000,
        "readinessPath": "/ready",
        "resources": {"cpu": "2", "memory": "8Gi", "gpus": 1},
        "autoscaling": {"minReplicas": 2, "maxReplicas": 4, "gpuUtilization": 80},
    },
    "ray": {
        "name": "ray",
        "namespace": "team-a",
        "rayVersion": "2.52.0",
        "head": {"pool": "cpu", "image": "rayproject/ray:2.52.0-py311-cpu", "resources": {"cpu": "2", "memory": "8Gi"}},
        "workers": {
            "pool": "gpu",
            "image": "rayproject/ray:2.52.0-py311-cu124",
            "minReplicas": 1,
            "maxReplicas": 4,
            "resources": {"cpu": "4", "memory": "16Gi", "gpus": 1},
        },
    },
    "dask": {
        "name": "dask",
        "namespace": "team-b",
        "pool": "cpu",
        "image": "ghcr.io/dask/dask:2026.7.1-py3.13",
        "workers": {"replicas": 3, "minReplicas": 1, "maxReplicas": 6, "resources": {"cpu": "2", "memory": "8Gi"}, "daskMemoryLimit": "7GB"},
    },
}


def environment_with_workloads(**changes) -> Environment:
    return environment(workloads=WORKLOADS, **changes)


def render(build) -> str:
    """What a construct synthesizes, as the JSON its snapshot holds."""
    chart = cdk8s.Testing.chart()
    build(chart)
    return json.dumps(cdk8s.Testing.synth(chart), indent=2) + "\n"


def construct_error(build) -> str:
    """The message of the ValueError a construct raises when it is built with bad props."""
    with pytest.raises(ValueError) as caught:
        build(cdk8s.Testing.chart())
    return str(caught.value)
