"""`aiops cost`: the monthly cost of the node pools in dist/, with the catalog's prices and sources."""

from __future__ import annotations

import json
from decimal import Decimal

from aiops.review.cost import money, pool_costs, totals, usd
from aiops.tree.terraform import scan_terraform_files
from conftest import REPO, aiops


def reference_costs():
    from aiops.synth.dist_tree import read_tree

    return pool_costs(scan_terraform_files({f"dist/{p}": d for p, d in read_tree(REPO / "dist").items()}))


def test_amounts_are_exact_decimals():
    assert usd(3.06) * 730 * 2 == Decimal("4467.60")
    assert usd(0.13402) == Decimal("0.13402")
    assert [money(Decimal(v), signed=True) for v in ("4467.6", "-0.004", "0", "-1234.567")] == ["+4,467.60", "0.00", "0.00", "-1,234.57"]


def test_each_pool_costs_price_times_hours_times_nodes():
    costs = {c.key: c for c in reference_costs()}
    training = costs[("aws-primary", "gpu-training")]
    assert (training.instance_type, training.nodes, training.hourly_usd, training.hours_per_month) == ("p3.2xlarge", (0, 2, 10), Decimal("3.06"), 730)
    assert [training.monthly(s) for s in ("min", "desired", "max")] == [0, Decimal("4467.60"), Decimal("22338.00")]
    gke = costs[("gcp-burst", "gpu-t4")]  # the machine plus its attached T4, each with its own source
    assert gke.hourly_usd == Decimal("0.54")
    assert [(p.item, p.count, p.price.hourly_usd, p.price.date) for p in gke.prices] == [
        ("n1-standard-4", 1, 0.19, "2026-11"), ("nvidia-tesla-t4", 1, 0.35, "2026-11")]
    everything = totals(costs.values())
    assert (everything.at("min"), everything.at("desired"), everything.at("max")) == (
        Decimal("2712.69460"), Decimal("9773.28380"), Decimal("61998.94380"))
    assert everything.gpus == (3, 7, 44)


def test_the_table():
    result = aiops("cost", cwd=REPO, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["environment", "cloud", "pool", "instance", "type", "GPUs/node", "USD/h/node",
                                "nodes", "min/desired/max", "monthly", "at", "min", "monthly", "at", "desired", "monthly", "at", "max"]
    row = next(line for line in lines if " gpu-training " in line).split()
    assert row == ["aws-primary", "aws", "gpu-training", "p3.2xlarge", "1", "×", "V100", "3.06", "0/2/10", "0.00", "4,467.60", "22,338.00"]
    assert next(line for line in lines if line.startswith("aws-primary total")).split()[-3:] == ["1,376.78", "8,101.54", "54,837.60"]
    assert next(line for line in lines if line.startswith("Azure (AKS) total")).split()[-3:] == ["1,238.08", "1,378.24", "3,714.24"]
    assert next(line for line in lines if line.startswith("all environments")).split()[-3:] == ["2,712.69", "9,773.28", "61,998.94"]
    assert "Monthly = USD per node-hour × 730 hours × nodes (on-demand, from the instance catalog)." in lines
    assert ("  p3.2xlarge 3.06 USD/h (us-east-1; karpenter-provider-aws generated on-demand pricing"
            " (pkg/providers/pricing/zz_generated.pricing_aws.go); 2026-01)") in lines


def test_json_and_markdown_carry_the_same_numbers():
    document = json.loads(aiops("cost", "--format", "json", cwd=REPO, check=True).stdout)
    assert document["hoursPerMonth"] == 730
    assert document["total"]["monthlyUSD"] == {"min": 2712.69, "desired": 9773.28, "max": 61998.94}
    assert document["clouds"]["gcp"]["monthlyUSD"]["max"] == 3447.1
    pool = next(p for p in document["pools"] if p["pool"] == "gpu-inference")
    assert (pool["resource"], pool["hourlyUSD"], pool["monthlyUSD"]["max"]) == ("aws_eks_node_group.node_group_gpu_inference_us_east_1a", 0.526, 7679.6)
    assert pool["prices"][0]["source"].startswith("karpenter-provider-aws")
    markdown = aiops("cost", "--format", "markdown", cwd=REPO, check=True).stdout
    assert "| **all environments** |  |  |  | **44 at max** |  |  | **2,712.69** | **9,773.28** | **61,998.94** |" in markdown
    assert "- nvidia-tesla-t4 0.35 USD/h (us-central1; kubernetes/autoscaler" in markdown


def test_bad_input(tmp_path):
    missing = aiops("cost", str(tmp_path / "nope"), cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, f"aiops cost: {tmp_path / 'nope'} is not a folder\n")
    broken = tmp_path / "dist/env/terraform/eks"
    broken.mkdir(parents=True)
    (broken / "cdk.tf.json").write_text('{"resource": {\n')
    result = aiops("cost", "dist", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("aiops cost: dist/env/terraform/eks/cdk.tf.json:2: not Terraform JSON: ")
    empty = aiops("cost", str(tmp_path / "dist/env/terraform"), cwd=tmp_path)
    assert empty.returncode == 2  # the same broken file
    (broken / "cdk.tf.json").write_text('{"resource": {}}')
    assert aiops("cost", "dist", cwd=tmp_path, check=True).stdout == "no node pools found in the Terraform of this tree\n"
