"""Failover traffic when the primary is on Google Cloud: a Cloud DNS A record with a failover
routing policy over two health-checked external endpoints, in the primary's traffic stack,
checked against the pinned google provider's bindings (as test_failover_traffic.py checks the
Route 53 pair), a snapshot of it, the GKE primary's Ingress (its static address and managed
certificate), the switch as `aiops diff` shows it, and the refusals of standbys Cloud DNS
cannot check.

The pair is a test fixture (tests/data/failover-gcp/: gcp-serving, primary on GKE, and
azure-standby, its standby on AKS), synthesized with the real `aiops synth` in a scratch git
repository (failover_pairs.py)."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import aiops
from failover_pairs import errors_of, switched
from test_failover_traffic import _binding, _schema_problems

TRAFFIC = "dist/gcp-serving/terraform/traffic/cdk.tf.json"
RECORD = "google_dns_record_set.model_server_client_name"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return switched(tmp_path_factory.mktemp("gcp-primary") / "repo", "failover-gcp", "azure-standby")


def _traffic(repo, commit: str) -> dict:
    return json.loads(repo.git("show", f"{commit}:{TRAFFIC}"))


def test_the_gcp_primarys_traffic_stack_is_in_the_pinned_google_schema(pair):
    repo, base, _, _ = pair
    template = _traffic(repo, base)
    cluster = json.loads(repo.git("show", f"{base}:dist/gcp-serving/terraform/gke/cdk.tf.json"))
    assert template["terraform"]["required_providers"] == cluster["terraform"]["required_providers"] == {"google": {"source": "hashicorp/google", "version": "8.7.0"}}
    assert template["terraform"]["backend"]["gcs"]["prefix"] == "gcp-serving/traffic"
    problems, checked = [], []
    for kind, data in (("resource", False), ("data", True)):
        for resource_type, resources in template[kind].items():
            cls = _binding(resource_type, data)
            for name, body in resources.items():
                problems += _schema_problems(cls, body, f"{resource_type}.{name}")
                checked.append(f"{kind}.{resource_type}")
    assert problems == []
    assert sorted(checked) == [
        "data.google_dns_managed_zones", "resource.google_compute_global_address", "resource.google_compute_health_check",
        "resource.google_compute_managed_ssl_certificate", "resource.google_dns_record_set",
    ]


def test_the_schema_check_catches_a_wrong_routing_policy():
    cls = _binding("google_dns_record_set")
    body = {"name": "m.", "managed_zone": "z", "type": "A", "routing_policy": {"primary_backup": {"primary": {"external_endpoints": "1.2.3.4"}, "trickle": 1}}}
    assert _schema_problems(cls, body, "r") == [
        "r.routing_policy[0].primary_backup[0]: no argument 'trickle'", "r.routing_policy[0].primary_backup[0]: required 'backup_geo' missing",
        "r.routing_policy[0].primary_backup[0].primary[0].external_endpoints: a list of strings, got '1.2.3.4'",
    ]


def test_cloud_dns_fails_over_by_health_between_the_two_addresses(pair):
    repo, base, _, _ = pair
    template = _traffic(repo, base)
    resources = template["resource"]
    record = resources["google_dns_record_set"]["model_server_client_name"]
    assert (record["name"], record["type"], record["ttl"]) == ("models.ml.example.org.", "A", 60)
    assert record["managed_zone"].startswith("${one([for z in data.google_dns_managed_zones.model_server_zones.managed_zones : z.name if z.dns_name == \"ml.example.org.\"")
    policy = record["routing_policy"]
    assert policy["health_check"] == "${google_compute_health_check.model_server_health.id}"
    assert policy["primary_backup"] == {
        "primary": {"external_endpoints": ["${google_compute_global_address.model_server_gcp_serving_address.address}"]},
        "backup_geo": [{"location": "us-central1", "health_checked_targets": {"external_endpoints": ["198.51.100.20"]}}],
        "trickle_ratio": 0,
    }
    check = resources["google_compute_health_check"]["model_server_health"]
    # exactly 3 source regions (checks of endpoints outside Google Cloud), which allow 30 s at the least
    assert (check["check_interval_sec"], check["timeout_sec"], check["unhealthy_threshold"], check["healthy_threshold"]) == (30, 5, 3, 1)
    assert check["https_health_check"] == {"port": 443, "request_path": "/v2/health/ready"}
    assert len(check["source_regions"]) == 3
    assert resources["google_compute_managed_ssl_certificate"]["model_server_certificate"]["managed"] == {"domains": ["models.ml.example.org"]}


def test_the_gke_primary_serves_tls_on_the_address_its_traffic_stack_reserves(pair):
    repo, base, _, _ = pair
    resources = _traffic(repo, base)["resource"]
    [ingress] = [d for d in yaml.safe_load_all(repo.git("show", f"{base}:dist/gcp-serving/apps/inference-ingress.yaml")) if d and d["kind"] == "Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["kubernetes.io/ingress.global-static-ip-name"] == resources["google_compute_global_address"]["model_server_gcp_serving_address"]["name"]
    assert annotations["ingress.gcp.kubernetes.io/pre-shared-cert"] == resources["google_compute_managed_ssl_certificate"]["model_server_certificate"]["name"]
    assert "tls" not in ingress["spec"]  # a pre-shared certificate, no Secret
    assert [r.get("host") for r in ingress["spec"]["rules"]] == ["models.ml.example.org", None]


def test_the_traffic_stack_snapshot(pair, snapshot):
    repo, base, _, _ = pair
    snapshot.assert_match(repo.git("show", f"{base}:{TRAFFIC}") + "\n", "gcp_serving_traffic.json")


def test_the_switch_is_one_in_place_update_of_the_records_trickle_ratio(pair):
    repo, base, failover, failback = pair
    assert repo.git("diff", "--numstat", base, failover, "--", "environments").splitlines() == ["1\t1\tenvironments/azure-standby.yaml"]
    result = aiops("diff", "--base", base, "--head", failover, "--format", "json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    environments = {e["name"]: e for e in report["environments"]}
    assert sorted(environments) == ["azure-standby", "gcp-serving"]
    assert report["destructive"] == 0
    primary = environments["gcp-serving"]
    assert primary["objects"] == []
    [record] = primary["terraform"]
    assert (record["address"], record["action"], record["file"]) == (RECORD, "update", TRAFFIC)
    assert record["fields"] == [{"path": "routing_policy.primary_backup.trickle_ratio", "change": "changed", "old": 0, "new": 1}]
    standby = environments["azure-standby"]
    assert [(r["address"], r["fields"]) for r in standby["terraform"]] == [
        (f"azurerm_kubernetes_cluster_node_pool.node_pool_gpu{zone}", [{"path": "min_count", "change": "changed", "old": 0, "new": 1}]) for zone in (2, 3)
    ]
    assert repo.git("diff", "--stat", base, failback, "--", "dist", "environments") == ""


def test_cost_warns_that_cloud_dns_is_unpriced(pair):
    repo, base, _, _ = pair
    result = aiops("cost", "--rev", base, "--format", "json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    [warning] = [w for w in json.loads(result.stdout)["warnings"] if w["kind"] == "cloud-dns"]
    assert warning == {"kind": "cloud-dns", "environments": ["gcp-serving"], "message": (
        f"Cloud DNS {RECORD} ({TRAFFIC}) is not in the totals: its zone, its queries (per million) and the health checks of its routing "
        "policy's endpoints are billed, and this project has no price of them with a source: see Google Cloud's pricing calculator")}


def test_an_eks_standby_of_a_gcp_primary_is_refused(tmp_path, monkeypatch):
    from pathlib import Path

    from aiops.failover import resolve
    from aiops.model import load_environments
    from failover_pairs import DATA

    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "gcp-serving.yaml").write_text((DATA / "failover-gcp" / "gcp-serving.yaml").read_text())
    (folder / "aws-standby.yaml").write_text((DATA / "failover-azure" / "aws-standby.yaml").read_text().replace("standbyFor: azure-serving", "standbyFor: gcp-serving"))
    monkeypatch.chdir(tmp_path)
    errors = [str(e) for e in resolve(Path("environments"), load_environments(Path("environments"))).errors]
    assert errors == [
        "environments/aws-standby.yaml:44:3: failover.traffic: the primary 'gcp-serving' is on gcp: Cloud DNS failover routing health-checks "
        "endpoints outside Google Cloud only by IP address (routing_policy.primary_backup with external_endpoints), and this standby's ALB "
        "has no fixed address\n"
        "    fix: put the standby on azure (the app routing add-on's static IP, as standbyAddress), or make the primary an aws or azure "
        "environment, whose traffic policy takes the ALB's name"
    ]


@pytest.mark.parametrize("address, expected", [
    ("198.51.100.300", "'198.51.100.300' is not an IPv4 address\n    fix: give the standby's ingress load balancer's public IPv4 address, like 198.51.100.20"),
    ("10.1.2.3", "10.1.2.3 is a private address, which Cloud DNS's health checks cannot reach from the internet\n"
                 "    fix: give the standby's ingress load balancer's public IPv4 address"),
])
def test_a_standby_address_cloud_dns_cannot_check_is_refused(tmp_path, monkeypatch, address, expected):
    errors = errors_of(tmp_path, monkeypatch, "failover-gcp", "azure-standby", "standbyAddress: 198.51.100.20", f"standbyAddress: {address}")
    assert errors == [f"environments/azure-standby.yaml:52:21: failover.traffic.standbyAddress: {expected}"]


def test_a_standby_without_its_address_is_refused(tmp_path, monkeypatch):
    errors = errors_of(tmp_path, monkeypatch, "failover-gcp", "azure-standby", "    standbyAddress: 198.51.100.20\n", "")
    assert errors == [
        "environments/azure-standby.yaml:46:3: failover.traffic: the primary 'gcp-serving' is on gcp: Cloud DNS failover routing health-checks "
        "endpoints outside Google Cloud only by IP address (routing_policy.primary_backup with external_endpoints), and this standby gives "
        "no standbyAddress\n"
        "    fix: add standbyAddress: the IPv4 address of this cluster's ingress load balancer (on AKS the app routing add-on's public IP, "
        "the one tagged k8s-azure-service=app-routing-system/nginx in the cluster's node resource group)"
    ]
