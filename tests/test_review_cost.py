"""`aiops cost`: the monthly cost of the node pools in dist/, with the catalog's prices and sources."""

from __future__ import annotations

import json
from decimal import Decimal

from aiops.cost.pools import money, pool_costs, totals, usd
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
    assert (training.instance_type, training.nodes, training.hourly_usd, training.hours_per_month) == ("p3.2xlarge", (0, 2, 20), Decimal("3.06"), 730)
    assert [training.monthly(s) for s in ("min", "desired", "max")] == [0, Decimal("4467.60"), Decimal("44676.00")]
    gke = costs[("gcp-burst", "gpu-t4")]  # the machine plus its attached T4, each with its own source
    # gpu-t4 is spot, billed at the preemptible prices: n1-standard-4 0.04 + T4 0.11 = 0.15 USD/h;
    # on demand it would be 0.19 + 0.35 = 0.54.
    assert (gke.capacity_type, gke.region, gke.hourly_usd, gke.hourly_for("onDemand")) == ("spot", "us-central1", Decimal("0.15"), Decimal("0.54"))
    assert [(p.item, p.count, p.price.hourly_usd, p.price.date) for p in gke.prices] == [
        ("n1-standard-4", 1, 0.04, "2026-12"), ("nvidia-tesla-t4", 1, 0.11, "2026-12")]
    assert [(p.item, p.price.hourly_usd, p.price.date) for p in gke.on_demand_prices] == [("n1-standard-4", 0.19, "2026-11"), ("nvidia-tesla-t4", 0.35, "2026-11")]
    # at max (16 nodes): 0.15 x 730 x 16 = 1,752.00 as billed, 0.54 x 730 x 16 = 6,307.20 on demand
    assert (gke.monthly("max"), gke.monthly_for("onDemand", "max")) == (Decimal("1752.00"), Decimal("6307.20"))
    assert training.spot_prices == () and training.monthly_for("spot", "max") is None  # no EC2 spot price in the catalog
    # gpu-inference time-slices its T4s two ways: 2 nvidia.com/gpu per node at 0.526 / 2 = 0.263 a
    # slice-hour, and 11 nodes at max hold the 20 model-server replicas: 0.526 x 730 x 11 = 4,223.78.
    inference = costs[("aws-primary", "gpu-inference")]
    assert (inference.nodes, inference.gpu_units_per_node, inference.usd_per_gpu_hour) == ((1, 3, 11), 2, Decimal("0.263"))
    assert inference.monthly("max") == Decimal("4223.780")
    everything = totals(costs.values())
    # Billed at max: all on demand would be 91,720.16380; gpu-t4 on spot is 6,307.20 - 1,752.00 = 4,555.20 less.
    # (Before gpu-inference shared its T4s it had 20 nodes at max: 9 x 0.526 x 730 = 3,455.82 more.)
    assert (everything.at("min"), everything.at("desired"), everything.at("max")) == (
        Decimal("2712.69460"), Decimal("9773.28380"), Decimal("87164.96380"))
    assert everything.at_for("onDemand", "max") == Decimal("91720.16380") == everything.at("max") + Decimal("4555.20")
    # Spot, where priced: cpu-system 0.04021 x 730 x (1, 3, 3) + gpu-t4 0.15 x 730 x (0, 0, 16)
    assert everything.spot == (Decimal("29.35330"), Decimal("88.05990"), Decimal("1840.05990")) and everything.unpriced_spot == 5
    assert everything.gpus == (3, 7, 67)  # physical GPUs: gpu-inference's 11 T4s at max, not its 22 slices


def test_the_table():
    result = aiops("cost", "--as-of", "2026-12-02", cwd=REPO, check=True)
    lines = result.stdout.splitlines()
    assert [c.strip() for c in lines[0].split("  ") if c.strip()] == [
        "environment", "cloud", "pool", "region", "instance type", "GPUs/node", "capacity", "USD/h/node", "USD/GPU-hour", "nodes min/desired/max",
        "monthly at min", "monthly at desired", "monthly at max", "on-demand USD/h", "on-demand monthly min / desired / max",
        "spot USD/h", "spot monthly min / desired / max"]
    row = next(line for line in lines if " gpu-training " in line).split()
    assert row == ["aws-primary", "aws", "gpu-training", "us-east-1", "p3.2xlarge", "1", "×", "V100", "on-demand", "3.06", "3.06", "0/2/20",
                   "0.00", "4,467.60", "44,676.00", "3.06", "0.00", "/", "4,467.60", "/", "44,676.00", "n/a", "n/a"]
    row = next(line for line in lines if " gpu-t4 " in line).split()
    assert row[-16:] == ["spot", "0.15", "0.15", "0/0/16", "0.00", "0.00", "1,752.00", "0.54", "0.00", "/", "0.00", "/", "6,307.20",
                         "0.15", "0.00", "/", "0.00", "/", "1,752.00"][-16:]
    assert "31 at max 1,376.78 8,101.54 73,719.78 1,376.78 / 8,101.54 / 73,719.78 n/a" in " ".join(
        next(line for line in lines if line.startswith("aws-primary total")).split())
    assert "1,238.08 1,378.24 11,399.68" in " ".join(next(line for line in lines if line.startswith("Azure (AKS) total")).split())
    total = next(line for line in lines if line.startswith("all environments")).split()
    assert "67 at max 2,712.69 9,773.28 87,164.96 2,712.69 / 9,773.28 / 91,720.16" in " ".join(total) and "29.35 / 88.06 / 1,840.06 (5 pool(s) without a spot price)" in " ".join(total)
    assert any(line.startswith("Monthly = USD per node-hour × 730 hours × nodes, in the pool's region") for line in lines)
    # No EC2 or Azure spot price is in the packaged catalog: each is named, once per type and region.
    assert ("warning: no spot price of p3.2xlarge in us-east-1 (aws-primary/gpu-training): the spot column leaves them out"
            " (add spotPrices to catalog/instance_types.yaml)") in lines
    assert ("  p3.2xlarge 3.06 USD/h (us-east-1; karpenter-provider-aws generated on-demand pricing"
            " (pkg/providers/pricing/zz_generated.pricing_aws.go); 2026-01)") in lines


def test_json_and_markdown_carry_the_same_numbers():
    document = json.loads(aiops("cost", "--format", "json", "--as-of", "2026-12-02", cwd=REPO, check=True).stdout)
    assert document["hoursPerMonth"] == 730
    assert document["total"]["monthlyUSD"] == {"min": 2712.69, "desired": 9773.28, "max": 87164.96}
    assert document["total"]["onDemandMonthlyUSD"]["max"] == 91720.16
    assert document["clouds"]["gcp"]["monthlyUSD"]["max"] == 2045.5  # 293.50 (cpu-system) + 1,752.00 (gpu-t4, spot)
    t4 = next(p for p in document["pools"] if p["pool"] == "gpu-t4")
    assert (t4["capacityType"], t4["spot"]["monthlyUSD"]["max"], t4["onDemand"]["monthlyUSD"]["max"]) == ("spot", 1752.0, 6307.2)
    pool = next(p for p in document["pools"] if p["pool"] == "gpu-inference")
    assert (pool["resource"], pool["hourlyUSD"], pool["monthlyUSD"]["max"]) == ("aws_eks_node_group.node_group_gpu_inference_us_east_1a", 0.526, 4223.78)
    assert (pool["gpuResource"], pool["gpuUnitsPerNode"], pool["usdPerGpuHour"]) == ("nvidia.com/gpu", 2, 0.263)  # a time slice of a T4
    assert pool["prices"][0]["source"].startswith("karpenter-provider-aws")
    markdown = aiops("cost", "--format", "markdown", "--as-of", "2026-12-02", cwd=REPO, check=True).stdout
    assert ("| **all environments** |  |  |  |  | **67 at max** |  |  |  |  | **2,712.69** | **9,773.28** | **87,164.96** |  |"
            " **2,712.69 / 9,773.28 / 91,720.16** |  | **29.35 / 88.06 / 1,840.06 (5 pool(s) without a spot price)** |") in markdown
    assert "- nvidia-tesla-t4 0.35 USD/h (us-central1; kubernetes/autoscaler" in markdown


def test_route53_is_priced_by_what_each_health_check_checks():
    from aiops.cost.route53 import ROUTE53_DATE, dns_costs, dns_warnings
    from aiops.synth.dist_tree import read_tree

    tree = scan_terraform_files({f"dist/{p}": d for p, d in read_tree(REPO / "dist").items()})
    costs = {c.resource: c for c in dns_costs(tree)}
    # aws-primary's ALB is an AWS endpoint: 0.50, + 1.00 for HTTPS + 1.00 for the 10-second interval
    primary = costs["aws_route53_health_check.model_server_aws_primary_health"]
    assert (primary.features, primary.monthly_usd) == (("HTTPS", "10-second interval"), Decimal("2.50"))
    # azure-dr's load balancer is not: 0.75, + 2.00 for each of the same two features
    assert costs["aws_route53_health_check.model_server_azure_dr_health"].monthly_usd == Decimal("4.75")
    # the switch's CALCULATED check, as a basic check of an AWS endpoint; the zone it looks up
    assert costs["aws_route53_health_check.model_server_aws_primary_serving"].monthly_usd == Decimal("0.50")
    assert costs["data.aws_route53_zone.model_server_zone"].monthly_usd == Decimal("0.50")
    assert {c.environment for c in costs.values()} == {"aws-primary"}
    assert sum(c.monthly_usd for c in costs.values()) == Decimal("8.25")
    # queries are billed per million, and nothing in a tree says how many: warned, not guessed
    [warning] = dns_warnings(list(costs.values()), tree)
    assert warning.render() == (f"warning: Route 53 queries of models.ml.example.org are not in the totals: 0.40 USD per million standard queries "
                                f"(the first billion a month; {ROUTE53_DATE}), and how many clients ask is not known here")
    lines = aiops("cost", "--as-of", "2026-12-02", cwd=REPO, check=True).stdout.splitlines()
    assert " ".join(next(line for line in lines if line.startswith("aws-primary Route 53 total")).split()) == "aws-primary Route 53 total 8.25"
    assert warning.render() in lines
    assert any(line.startswith("  Route 53: hosted zone 0.50 USD/month;") and line.endswith(f"; {ROUTE53_DATE})") for line in lines)
    document = json.loads(aiops("cost", "--format", "json", "--as-of", "2026-12-02", cwd=REPO, check=True).stdout)
    assert sum(item["monthlyUSD"] for item in document["route53"]) == 8.25
    assert document["total"]["monthlyUSD"] == {"min": 2712.69, "desired": 9773.28, "max": 87164.96}  # node pools only, as in the test above


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
