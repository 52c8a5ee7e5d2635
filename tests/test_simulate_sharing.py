"""`aiops simulate` of GPU sharing on a reference environment (issue 17): aws-primary's
gpu-inference pool time-slices each T4 two ways (`gpuSharing: {timeSlicing: 2}`), on the
session's reference simulation (simulate_fixtures.py; no simulation of its own).

Each g4dn.xlarge has one T4. The simulated nodes advertise what the GPU operator's device
plugin would, read from the Terraform (the node label that picks its `replicas-2` config):
`nvidia.com/gpu: 2`. A second model-server pod on a node therefore runs on the same physical GPU;
without the sharing the scheduler would leave it Pending ("Insufficient nvidia.com/gpu").
"""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import REPO
from simulate_fixtures import pass_of, pods_of

from aiops.simulate.nodes import node_objects, read_cluster


def test_the_inference_nodes_advertise_two_slices_of_their_one_t4():
    pool = read_cluster(REPO / "dist", "aws-primary").pool("gpu-inference")
    assert pool.resources.gpus == 1  # g4dn.xlarge: one T4
    assert pool.labels["nvidia.com/device-plugin.config"] == "replicas-2"  # the Terraform's label for the GPU operator
    node = node_objects(pool, 1, "1.36.3")[0]
    assert node["status"]["capacity"]["nvidia.com/gpu"] == node["status"]["allocatable"]["nvidia.com/gpu"] == "2"


@pytest.mark.parametrize(("end", "replicas", "nodes", "sharing_a_gpu"), [
    # desired: minReplicas 3, one per zone (maxSkew 1 over 3 zones), on the pool's 3 nodes: each
    # replica on a time-sliced T4 with its second slice free.
    ("desired", 3, 3, 0),
    # max: 20 replicas over the zones as 7 / 7 / 6 on 4 + 4 + 3 nodes, at most 2 per T4: 9 nodes
    # run two replicas on their one GPU (18 pods), 2 nodes one (7 = 2 + 2 + 2 + 1 in two zones).
    ("max", 20, 11, 18),
])
def test_the_model_servers_run_on_the_shared_t4s(reference_simulation, end, replicas, nodes, sharing_a_gpu):
    env_pass = pass_of(reference_simulation[0]["aws-primary"], end)
    pods = pods_of(env_pass, "ml-serving", "Deployment/model-server")
    assert len(pods) == replicas and all(p["node"] and p["pool"] == "gpu-inference" for p in pods)
    assert {p["requests"]["nvidia.com/gpu"] for p in pods} == {"1"}  # one time slice each
    pool = next(p for p in env_pass["pools"] if p["pool"] == "gpu-inference")
    assert (pool["nodes"], pool["gpu_allocatable"], pool["gpu_requested"]) == (nodes, 2 * nodes, replicas)
    per_node = Counter(p["node"] for p in pods)
    assert max(per_node.values()) <= 2
    assert sum(count for count in per_node.values() if count == 2) == sharing_a_gpu
    assert [p for p in env_pass["pending"] if p["namespace"] == "ml-serving"] == []
