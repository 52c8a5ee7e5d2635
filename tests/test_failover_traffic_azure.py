"""Failover traffic when the primary is on Azure: a Traffic Manager profile in the primary's
traffic stack, checked against the pinned azurerm provider's bindings (as
test_failover_traffic.py checks the Route 53 pair against the AWS ones), a snapshot of it, the
switch (`state: active` in the standby's file) as `aiops diff` shows it, and what `aiops cost`
says about its price.

The pair is a test fixture (tests/data/failover-azure/: azure-serving, primary on AKS, and
aws-standby, its standby on EKS), not a reference environment; it is synthesized with the real
`aiops synth` in a scratch git repository, three times (standby, failed over, failed back),
a few seconds each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, GitScratch, aiops
from failover_pairs import errors_of, switched
from test_failover_traffic import _binding, _schema_problems

PAIR = REPO / "tests" / "data" / "failover-azure"
TRAFFIC = "dist/azure-serving/terraform/traffic/cdk.tf.json"
PRIMARY_ENDPOINT = "azurerm_traffic_manager_external_endpoint.model_server_azure_serving_endpoint"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return switched(tmp_path_factory.mktemp("azure-primary") / "repo", "failover-azure", "aws-standby")


def _traffic(repo: GitScratch, commit: str) -> dict:
    return json.loads(repo.git("show", f"{commit}:{TRAFFIC}"))


def test_only_the_azure_primary_gets_a_traffic_stack_in_the_pinned_azurerm_schema(pair):
    repo, base, _, _ = pair
    stacks = sorted(p for p in repo.git("ls-tree", "-r", "--name-only", base, "dist").splitlines() if p.endswith("cdk.tf.json"))
    assert stacks == ["dist/aws-standby/terraform/eks/cdk.tf.json", "dist/azure-serving/terraform/aks/cdk.tf.json", TRAFFIC]
    template = _traffic(repo, base)
    cluster = json.loads(repo.git("show", f"{base}:dist/azure-serving/terraform/aks/cdk.tf.json"))
    # the same pinned provider as the cluster stack, and the primary's own state backend
    assert template["terraform"]["required_providers"] == cluster["terraform"]["required_providers"] == {"azurerm": {"source": "azurerm", "version": "5.10.0"}}
    assert template["terraform"]["backend"]["azurerm"]["key"] == "azure-serving/traffic.tfstate"
    problems, checked = [], []
    for kind, data in (("resource", False), ("data", True)):
        for resource_type, resources in template[kind].items():
            cls = _binding(resource_type, data)
            for name, body in resources.items():
                problems += _schema_problems(cls, body, f"{resource_type}.{name}")
                checked.append(f"{kind}.{resource_type}")
    assert problems == []
    assert sorted(checked) == [
        "data.azurerm_dns_zone", "data.azurerm_public_ip", "data.azurerm_resources",
        "resource.azurerm_dns_cname_record", "resource.azurerm_resource_group",
        "resource.azurerm_traffic_manager_external_endpoint", "resource.azurerm_traffic_manager_external_endpoint",
        "resource.azurerm_traffic_manager_profile",
    ]


def test_the_schema_check_catches_a_wrong_traffic_manager_profile():
    cls = _binding("azurerm_traffic_manager_profile")
    body = {"name": "p", "resource_group_name": "rg", "traffic_routing_method": "Priority", "dns_config": {"relative_name": "x", "ttl": "60"},
            "monitor_config": {"protocol": "HTTPS", "interval": 10}}
    assert _schema_problems(cls, body, "p") == [
        "p.dns_config[0].ttl: a number, got '60'",
        "p.monitor_config[0]: no argument 'interval'", "p.monitor_config[0]: required 'port' missing",
    ]


def test_traffic_manager_fails_over_by_health_between_the_two_load_balancers(pair):
    repo, base, _, _ = pair
    template = _traffic(repo, base)
    resources, data = template["resource"], template["data"]
    [profile] = resources["azurerm_traffic_manager_profile"].values()
    assert profile["traffic_routing_method"] == "Priority"
    assert profile["dns_config"] == {"relative_name": "models-ml-example-org", "ttl": 60}
    # Route 53's timings where Traffic Manager allows them: every 10 s, degraded at the 3rd failure, 2xx/3xx healthy
    assert profile["monitor_config"] == {
        "protocol": "HTTPS", "port": 443, "path": "/v2/health/ready", "interval_in_seconds": 10, "timeout_in_seconds": 5,
        "tolerated_number_of_failures": 2, "expected_status_code_ranges": ["200-399"],
    }
    endpoints = resources["azurerm_traffic_manager_external_endpoint"]
    primary, standby = endpoints["model_server_azure_serving_endpoint"], endpoints["model_server_aws_standby_endpoint"]
    # the primary's load balancer is the add-on's public IP the lookup found, never typed
    # (a DNS name, as the standby's: Traffic Manager mixes no name and address targets)
    assert (primary["name"], primary["priority"], primary["target"]) == (
        "azure-serving", 1, "${data.azurerm_public_ip.model_server_azure_serving_load_balancer.fqdn}")
    assert (standby["name"], standby["priority"], standby["target"]) == ("aws-standby", 2, "k8s-aiopsserving-0123456789.us-east-1.elb.amazonaws.com")
    nodes = "MC_azure-serving-rg_azure-serving_eastus"
    found = data["azurerm_resources"]["model_server_azure_serving_load_balancer_ips"]
    assert (found["type"], found["resource_group_name"], found["required_tags"]) == (
        "Microsoft.Network/publicIPAddresses", nodes, {"k8s-azure-service": "app-routing-system/nginx"})
    assert found["lifecycle"]["postcondition"][0]["condition"] == "${length(self.resources) == 1}"
    address = data["azurerm_public_ip"]["model_server_azure_serving_load_balancer"]
    assert (address["name"], address["resource_group_name"]) == (
        "${data.azurerm_resources.model_server_azure_serving_load_balancer_ips.resources[0].name}", nodes)
    # the plan stops, saying what to do, until the add-on's IP has the DNS label the runbook gives it
    [named] = address["lifecycle"]["postcondition"]
    assert named["condition"] == "${try(length(self.fqdn), 0) > 0}"
    assert named["error_message"].startswith(f"The app routing add-on's public IP in {nodes} has no DNS name")
    # one name for clients: a CNAME in the Azure DNS zone, looked up, to the profile
    assert data["azurerm_dns_zone"]["model_server_zone"]["name"] == "ml.example.org"
    record = resources["azurerm_dns_cname_record"]["model_server_client_name"]
    assert (record["name"], record["zone_name"], record["record"], record["ttl"]) == (
        "models", "${data.azurerm_dns_zone.model_server_zone.name}", "${azurerm_traffic_manager_profile.model_server_profile.fqdn}", 60)


def test_the_traffic_stack_snapshot(pair, snapshot):
    repo, base, _, _ = pair
    snapshot.assert_match(repo.git("show", f"{base}:{TRAFFIC}") + "\n", "azure_serving_traffic.json")


def test_the_aks_primary_serves_tls_for_the_client_name(pair):
    repo, base, _, _ = pair
    cluster = json.loads(repo.git("show", f"{base}:dist/azure-serving/terraform/aks/cdk.tf.json"))["resource"]
    assert cluster["azurerm_key_vault"]["serving_vault"]["name"] == "azure-serving-serving"
    assert cluster["azurerm_kubernetes_cluster"]["cluster"]["web_app_routing"] == {"dns_zone_ids": []}
    ingress = repo.git("show", f"{base}:dist/azure-serving/apps/inference-ingress.yaml")
    assert "kubernetes.azure.com/tls-cert-keyvault-uri: https://azure-serving-serving.vault.azure.net/certificates/model-server-tls" in ingress
    assert "- models.ml.example.org" in ingress


def test_the_switch_is_one_in_place_update_of_the_primary_endpoints_priority(pair):
    repo, base, failover, _ = pair
    assert repo.git("diff", "--numstat", base, failover, "--", "environments").splitlines() == ["1\t1\tenvironments/aws-standby.yaml"]
    result = aiops("diff", "--base", base, "--head", failover, "--format", "json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    environments = {e["name"]: e for e in report["environments"]}
    assert sorted(environments) == ["aws-standby", "azure-serving"]
    assert report["destructive"] == 0
    primary = environments["azure-serving"]
    assert primary["objects"] == []  # the primary's cluster is not touched
    [endpoint] = primary["terraform"]
    assert (endpoint["address"], endpoint["action"], endpoint["file"]) == (PRIMARY_ENDPOINT, "update", TRAFFIC)
    assert endpoint["fields"] == [{"path": "priority", "change": "changed", "old": 1, "new": 3}]
    # the standby grows to the primary's bounds: its HPA, and its gpu node groups' floor
    standby = environments["aws-standby"]
    [hpa] = [o for o in standby["objects"] if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["fields"] == [{"path": "spec.maxReplicas", "change": "changed", "old": 2, "new": 6},
                             {"path": "spec.minReplicas", "change": "changed", "old": 1, "new": 3}]
    # The gpu pool (one node group per zone) from min 1 (1/0/0) to 3 (1/1/1): one more node in 1b and 1c. Its
    # scale-from-zero tags stay (a standby keeps them in both positions), so nothing is destroyed.
    assert [(r["address"], r["action"], r["fields"]) for r in standby["terraform"]] == [
        (f"aws_eks_node_group.node_group_gpu_us_east_1{zone}", "update", [{"path": "scaling_config.min_size", "change": "changed", "old": 0, "new": 1}])
        for zone in "bc"
    ]


def test_failback_restores_the_tree(pair):
    repo, base, _, failback = pair
    assert repo.git("diff", "--stat", base, failback, "--", "dist", "environments") == ""


def test_cost_warns_that_traffic_manager_is_unpriced(pair):
    repo, base, _, _ = pair
    result = aiops("cost", "--rev", base, "--format", "json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    [warning] = [w for w in json.loads(result.stdout)["warnings"] if w["kind"] == "traffic-manager"]
    assert warning["environments"] == ["azure-serving"]
    assert warning["message"] == (
        f"Azure Traffic Manager azurerm_traffic_manager_profile.model_server_profile ({TRAFFIC}) is not in the totals: it is billed "
        "per million DNS queries and per health-checked endpoint a month (2 external endpoint(s), each with the fast-interval (10 s) surcharge), "
        "and no price with a source was found (azure.microsoft.com/en-us/pricing/details/traffic-manager, as transcribed in "
        "api-evangelist/microsoft-azure-traffic-manager plans/microsoft-azure-traffic-manager-plans-pricing.yml (2026-09-20): "
        "\"No numeric price is published on the pricing page\"): see Azure's pricing calculator"
    )


def test_a_client_name_too_long_for_a_traffic_manager_name_is_refused(tmp_path, monkeypatch):
    long_name = "a-very-long-client-name-for-the-model-server.inference.ml.example.org"
    errors = errors_of(tmp_path, monkeypatch, "failover-azure", "aws-standby", "clientName: models.ml.example.org", f"clientName: {long_name}")
    assert errors == [
        f"environments/aws-standby.yaml:46:17: failover.traffic.clientName: the Traffic Manager profile of '{long_name}' would be named "
        "a-very-long-client-name-for-the-model-server-inference-ml-example-org.trafficmanager.net, and that name's first label has "
        "69 characters, more than a DNS label's 63\n"
        "    fix: use a shorter client name"
    ]


def test_a_second_standby_with_traffic_is_refused(tmp_path, monkeypatch):
    from aiops.failover import resolve
    from aiops.model import load_environments

    folder = tmp_path / "environments"
    shutil.copytree(PAIR, folder)
    text = (folder / "aws-standby.yaml").read_text()
    (folder / "aws-standby-2.yaml").write_text(text.replace("name: aws-standby\n", "name: aws-standby-2\n"))
    monkeypatch.chdir(tmp_path)
    errors = [str(e) for e in resolve(Path("environments"), load_environments(Path("environments"))).errors]
    assert errors == [
        # the files in name order: aws-standby-2.yaml comes first and keeps the traffic
        "environments/aws-standby.yaml:44:3: failover.traffic: 'aws-standby-2' already takes azure-serving's traffic; "
        "its failover name has one primary and one standby endpoint\n"
        "    fix: give traffic to one standby of each primary"
    ]


def test_the_traffic_manager_construct_refuses_bad_props():
    from cdktn import App, TerraformStack

    from aiops_constructs.terraform.props import InvalidProps
    from aiops_constructs.terraform.traffic.traffic_manager import TrafficManagerFailover, TrafficManagerProps

    stack = TerraformStack(App(), "s")
    props = TrafficManagerProps("ml.example.org", "models.ml.example.org", "a", "b", "b.example.com", "ready", "eastus")
    with pytest.raises(InvalidProps) as caught:
        TrafficManagerFailover(stack, "model-server", props=props)
    assert str(caught.value) == "s/model-server: health_path: 'ready' is not an HTTP path\n    fix: give the readiness path, starting with '/'"
