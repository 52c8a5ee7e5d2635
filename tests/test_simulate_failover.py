"""`aiops simulate` of a failover (issue 18): azure-dr with `failover.state: active`, synthesized
in a scratch project (the session fixture `failover_simulation` of simulate_fixtures.py)."""

from __future__ import annotations

import pytest

from simulate_fixtures import pass_of, pods_of


@pytest.mark.parametrize(("end", "replicas", "nodes"), [("desired", 3, 3), ("max", 20, 20)])
def test_at_failover_scale_every_standby_workload_is_placed(failover_simulation, end, replicas, nodes):
    """azure-dr active: model-server at aws-primary's bounds (3 to 20), every pod on the gpu pool,
    which starts at the 3 nodes the primary's minimum needs and holds its maximum at max."""
    env_pass = pass_of(failover_simulation, end)
    pods = pods_of(env_pass, "ml-serving", "Deployment/model-server")
    assert len(pods) == replicas
    assert [p for p in pods if not p["node"]] == []
    assert {p["pool"] for p in pods} == {"gpu"}
    gpu = next(p for p in env_pass["pools"] if p["pool"] == "gpu")
    assert gpu["nodes"] == nodes
    assert [p for p in env_pass["pending"] if p["namespace"] == "ml-serving"] == []
    failed = [f"{s['kind']} {s['name']}: {s['error']}" for s in failover_simulation["reconcile"] if not s["ok"]]
    assert failed == []
