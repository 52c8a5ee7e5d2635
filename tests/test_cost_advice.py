"""`aiops cost --advise`: idle capacity from the simulation, priced, and the changes that save money.

The arithmetic is pinned on a hand-written simulation (the sums are in the asserts); the advice
on tests/data/waste, an environment built to waste, synthesized and simulated for real.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from aiops.cost.advise import advise
from aiops.cost.pools import PoolCost
from aiops.cost.waste import SimulationInputError, pool_passes
from aiops.model.catalog import Price
from aiops.tree.pools import PricePart
from conftest import REPO, GitScratch, aiops, needs_the_chart_cache

EASTUS = "eastus"


def _cost(pool: str, instance: str, hourly: float, nodes: tuple[int, int, int], gpus: int) -> PoolCost:
    part = PricePart(instance, 1, Price(hourly, EASTUS, "test", "2026-12"))
    return PoolCost("unit", "azure", pool, f"azurerm_kubernetes_cluster_node_pool.{pool}", "cdk.tf.json", instance, None, gpus, "T4" if gpus else None,
                    nodes, True, (part,), 730, region=EASTUS, on_demand_prices=(part,), gpu_units_per_node=gpus)


def _pool(pool: str, nodes: int, cpu: tuple, memory: tuple, gpus: tuple) -> dict:
    return {"pool": pool, "nodes": nodes, "cpu_allocatable": cpu[0], "cpu_requested": cpu[1], "memory_allocatable_gib": memory[0],
            "memory_requested_gib": memory[1], "gpu_allocatable": gpus[0], "gpu_requested": gpus[1]}


def _pod(pool: str, node: str, owner: str, cpu: str, memory: str, gpus: int = 0) -> dict:
    requests = {"cpu": cpu, "memory": memory, **({"nvidia.com/gpu": str(gpus)} if gpus else {})}
    return {"namespace": "ns", "name": f"{owner}-{node}", "owner": owner, "node": node, "pool": pool, "phase": "Pending", "requests": requests}


SIMULATION = {"format": 1, "environments": [{"environment": "unit", "passes": [{
    "pass": "desired",
    "pools": [
        _pool("gpu", 2, (10, 2.5), (100, 10), (2, 1)),
        _pool("cpu", 4, (16, 4), (64, 32), (0, 0)),
        _pool("idle", 1, (4, 0.1), (20, 0.5), (1, 0)),
    ],
    "pods": [
        _pod("gpu", "gpu-0", "Deployment/server", "2", "8Gi", 1), _pod("gpu", "gpu-0", "DaemonSet/exporter", "250m", "1Gi"),
        _pod("gpu", "gpu-1", "DaemonSet/exporter", "250m", "1Gi"),
        _pod("idle", "idle-0", "DaemonSet/exporter", "100m", "512Mi"),
    ],
}]}]}
COSTS = [_cost("gpu", "Standard_NC8as_T4_v3", 0.752, (1, 2, 4), 1), _cost("cpu", "Standard_D4s_v5", 0.192, (2, 4, 8), 0),
         _cost("idle", "Standard_NC4as_T4_v3", 0.526, (1, 1, 2), 1)]


def test_idle_shares_are_priced_by_the_resource_that_sizes_the_pool():
    passes = {p.pool: p for p in pool_passes(SIMULATION, COSTS)}
    gpu, cpu, idle = passes["gpu"], passes["cpu"], passes["idle"]
    # gpu: CPU 1 - 2.5/10 = 75 % idle, memory 1 - 10/100 = 90 %, GPUs 1 - 1/2 = 50 %; a GPU pool is sized by its GPUs:
    # 2 nodes x 0.752 x 730 = 1,097.92 a month, x 50 % = 548.96
    assert (gpu.idle("cpu"), gpu.idle("memory_gib"), gpu.idle("gpus"), gpu.binding) == (Decimal("0.75"), Decimal("0.9"), Decimal("0.5"), "gpus")
    assert (gpu.monthly, gpu.idle_monthly) == (Decimal("1097.920"), Decimal("548.9600"))
    # cpu: CPU 4/16 = 25 % requested, memory 32/64 = 50 %: memory sizes it; 4 x 0.192 x 730 = 560.64 x 50 % = 280.32
    assert (cpu.binding, cpu.idle_monthly) == ("memory_gib", Decimal("280.3200"))
    # the largest pod on gpu is the server (2 CPU, 8 GiB), not the DaemonSet; its busiest node holds 2.25 CPU, 9 GiB
    assert gpu.largest_pod()[0]["owner"] == "Deployment/server"
    assert (gpu.most_loaded_node().cpu, gpu.most_loaded_node().memory_gib) == (Decimal("2.25"), Decimal("9"))
    assert idle.workload_pods() == []


def test_advice_with_its_saving_and_change(tmp_path):
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "unit.yaml").write_text("name: unit\nnodePools:\n  - name: cpu\n    min: 2\n  - name: gpu\n    instanceType: Standard_NC8as_T4_v3\n"
                                            "    min: 1\n  - name: idle\n    instanceType: Standard_NC4as_T4_v3\n    min: 1\n    desired: 1\n")
    found = {(a.pool, a.kind): a for a in advise(pool_passes(SIMULATION, COSTS), COSTS, environments)}
    assert sorted(found) == [("gpu", "oversized-nodes"), ("idle", "idle-gpu-floor")]
    floor = found[("idle", "idle-gpu-floor")]
    assert (floor.saving_desired, floor.saving_max) == (Decimal("383.980"), Decimal("383.980"))  # min 1 x 0.526 x 730
    assert [c.render() for c in floor.changes] == [f"{environments}/unit.yaml:10: nodePools[2].min: 1 -> 0",
                                                   f"{environments}/unit.yaml:11: nodePools[2].desired: 1 -> 0"]
    smaller = found[("gpu", "oversized-nodes")]
    # 2 CPU of 5 per node (10 / 2 nodes) and 8 of 50 GiB: under half. The busiest node (2.25 CPU, 9 GiB) fits the 4-vCPU
    # NC4as_T4_v3 (3.86 CPU, 22.97 GiB allocatable), 1 x T4 too: (0.752 - 0.526) x 730 = 164.98 a node-month, x 2 desired, x 4 max
    assert (smaller.saving_desired, smaller.saving_max) == (Decimal("329.960"), Decimal("659.920"))
    assert [c.render() for c in smaller.changes] == [f"{environments}/unit.yaml:6: nodePools[1].instanceType: Standard_NC8as_T4_v3 -> Standard_NC4as_T4_v3"]


def test_a_file_that_is_not_a_simulation_is_refused():
    with pytest.raises(SimulationInputError, match="not the JSON of `aiops simulate --format json`"):
        pool_passes({"format": 2}, COSTS)


@pytest.fixture(scope="module")
def waste_project(tmp_path_factory) -> Path:
    """tests/data/waste synthesized and simulated, in a repository of its own."""
    needs_the_chart_cache()
    root = tmp_path_factory.mktemp("waste")
    shutil.copytree(REPO / "tests" / "data" / "waste" / "environments", root / "environments")
    (root / "dist").mkdir()
    aiops("synth", cwd=root, check=True)
    repository = GitScratch(root)
    repository.git("init", "--quiet", "--initial-branch", "main")
    repository.commit("tree")
    result = aiops("simulate", "--env", "waste", "--format", "json", "--quiet", cwd=root)
    assert result.returncode == 0, result.stderr
    (root / "simulation.json").write_text(result.stdout)
    return root


def test_the_advice_on_a_cluster_built_to_waste(waste_project):
    result = aiops("cost", "--advise", "--simulation", "simulation.json", cwd=waste_project, check=True)
    lines = result.stdout.splitlines()
    env = "environments/waste.yaml"  # the project's environments/, as the command was run from its root
    # idle: 2 x NC4as_T4_v3 at min, nothing but DaemonSets there: 2 x 0.526 x 730 = 767.96
    assert "waste/idle [idle-gpu-floor]: saves 767.96 USD a month at desired, 767.96 at max" in lines
    assert f"    change: {env}:21: nodePools[1].min: 2 -> 0" in lines
    # serve: 1-CPU pods on 8-vCPU nodes; NC4as_T4_v3 holds the busiest node: (0.752 - 0.526) x 730 x 2 = 329.96, x 4 = 659.92
    assert "waste/serve [oversized-nodes]: saves 329.96 USD a month at desired, 659.92 at max" in lines
    assert f"    change: {env}:26: nodePools[2].instanceType: Standard_NC8as_T4_v3 -> Standard_NC4as_T4_v3" in lines
    assert "All changes: 1,097.92 USD a month at desired." in lines
    idle = next(line for line in lines if line.split()[:3] == ["waste", "idle", "desired"]).split()
    assert idle[-4:] == ["100%", "100%", "GPUs", "767.96"]  # no pod asks for the idle pool's memory or GPUs: all of 767.96 is idle
    document = json.loads(aiops("cost", "--advise", "--simulation", "simulation.json", "--format", "json", cwd=waste_project, check=True).stdout)
    assert {(a["pool"], a["kind"], a["monthlySavingUSD"]["desired"]) for a in document["advice"]} == {
        ("idle", "idle-gpu-floor", 767.96), ("serve", "oversized-nodes", 329.96)}


def test_advise_flags_and_bad_input(tmp_path):
    assert aiops("cost", "--simulation", "x.json", cwd=REPO).stderr == "aiops cost: --simulation and --env go with --advise\n"
    missing = aiops("cost", "--advise", "--simulation", str(tmp_path / "nope.json"), cwd=REPO)
    assert missing.returncode == 2 and missing.stderr.startswith(f"aiops cost: --simulation {tmp_path / 'nope.json'}: ")
    (tmp_path / "other.json").write_text('{"format": 1}')
    other = aiops("cost", "--advise", "--simulation", str(tmp_path / "other.json"), cwd=REPO)
    assert other.stderr == f"aiops cost: {tmp_path / 'other.json'}: not the JSON of `aiops simulate --format json` (format 1, with environments)\n"
