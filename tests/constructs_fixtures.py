"""Small environments for construct tests: built in code, validated like any environment file."""

from __future__ import annotations

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
            "max": 4,
            "labels": {"workload-type": "ml-training"},
            "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        },
        {"name": "cpu", "instanceType": "c5.4xlarge", "min": 1, "desired": 1, "max": 3, "labels": {"workload-type": "general-compute"}},
    ],
}


def environment(**changes) -> Environment:
    data = {**BASE, **changes}
    return Environment.model_validate(data, context={"cloud": data["cloud"]})
