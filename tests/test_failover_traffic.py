"""The traffic of a failover: the serving Ingress on every cluster that runs the serving workload,
and the primary's Route 53 failover records, checked against the pinned AWS provider's schema
(as its cdktn bindings carry it: argument names, required arguments, value types, nested blocks).

Read from the session's one real synthesis; the switch itself (state: active) is in
test_failover_switch.py."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from aiops_constructs.terraform.props import InvalidProps
from test_terraform_stacks import PROVIDER_PACKAGES

_META = {"//", "lifecycle", "depends_on", "provider", "count", "for_each"}


def _binding(resource_type: str, data: bool = False) -> type:
    provider, _, rest = resource_type.partition("_")
    module = importlib.import_module(f"{PROVIDER_PACKAGES[provider]}.{'data_' + provider + '_' + rest if data else rest}")
    wanted = ("TF_RESOURCE_TYPE", resource_type)
    return next(c for c in vars(module).values() if isinstance(c, type) and getattr(c, wanted[0], None) == wanted[1])


def _struct(module, annotation: str) -> type | None:
    """The nested block's struct class an argument's annotation names, if any."""
    match = re.search(r"'([A-Z][A-Za-z0-9]+)'", annotation)
    return getattr(module, match[1], None) if match and not match[1].startswith("_") else None


def _schema_problems(cls: type, body: dict, where: str) -> list[str]:
    """Arguments the schema does not have, required ones missing, values of the wrong type."""
    module = importlib.import_module(cls.__module__)
    parameters = {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n not in ("self", "scope", "id_")}
    problems = [f"{where}: no argument '{key}'" for key in body if key not in _META and key not in parameters]
    problems += [f"{where}: required '{n}' missing" for n, p in parameters.items() if p.default is inspect.Parameter.empty and n not in body]
    for key, value in body.items():
        if key in _META or key not in parameters:
            continue
        annotation = str(parameters[key].annotation)
        if isinstance(value, str) and value.startswith("${"):
            continue  # a reference: its type is the referenced attribute's
        struct = _struct(module, annotation)
        if struct is not None and "IResolvable" not in annotation.split("'")[1]:
            blocks = value if isinstance(value, list) else [value]
            for index, block in enumerate(blocks):
                if not isinstance(block, dict):
                    problems.append(f"{where}.{key}: a block, got {value!r}")
                else:
                    problems += _schema_problems(struct, block, f"{where}.{key}[{index}]")
        elif "typing.Sequence[builtins.str]" in annotation:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                problems.append(f"{where}.{key}: a list of strings, got {value!r}")
        elif "jsii.Number" in annotation:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"{where}.{key}: a number, got {value!r}")
        elif "builtins.bool" in annotation:
            if not isinstance(value, bool):
                problems.append(f"{where}.{key}: true or false, got {value!r}")
        elif "builtins.str" in annotation and "Mapping" not in annotation and not isinstance(value, str):
            problems.append(f"{where}.{key}: a string, got {value!r}")
    return problems


def test_the_traffic_stack_is_in_the_pinned_aws_providers_schema(reference_traffic, reference_terraform):
    template = reference_traffic["aws-primary"]
    assert set(reference_traffic) == {"aws-primary"}  # only the primary of a standby with traffic has one
    # the same pinned provider as the cluster stack (the bindings write their own version)
    assert template["terraform"]["required_providers"] == reference_terraform["aws-primary"]["terraform"]["required_providers"]
    assert template["terraform"]["backend"]["s3"]["key"] == "aws-primary/traffic.tfstate"
    problems = []
    checked = 0
    for kind, data in (("resource", False), ("data", True)):
        for resource_type, resources in template[kind].items():
            cls = _binding(resource_type, data)
            for name, body in resources.items():
                problems += _schema_problems(cls, body, f"{resource_type}.{name}")
                checked += 1
    assert problems == []
    assert checked == 6  # 3 health checks, 2 records, the hosted zone


def test_the_control_case_shows_the_schema_check_can_fail():
    cls = _binding("aws_route53_record")
    body = {"name": "x.example.org", "type": "CNAME", "zone_id": "Z1", "ttl": "60", "failover_routing_policy": {"kind": "PRIMARY"}, "weight": 1}
    assert _schema_problems(cls, body, "r") == [
        "r: no argument 'weight'", "r.ttl: a number, got '60'",
        "r.failover_routing_policy[0]: no argument 'kind'", "r.failover_routing_policy[0]: required 'type' missing",
    ]


def test_route53_fails_over_by_health(reference_traffic):
    resources = reference_traffic["aws-primary"]["resource"]
    checks, records = resources["aws_route53_health_check"], resources["aws_route53_record"]
    primary, standby = records["model_server_aws_primary_record"], records["model_server_azure_dr_record"]
    assert (primary["name"], standby["name"]) == ("models.ml.example.org",) * 2  # one name for clients
    assert (primary["failover_routing_policy"], standby["failover_routing_policy"]) == ({"type": "PRIMARY"}, {"type": "SECONDARY"})
    assert (primary["type"], primary["records"], primary["set_identifier"]) == ("CNAME", ["k8s-aiopsserving-0123456789.us-east-1.elb.amazonaws.com"], "aws-primary")
    assert standby["records"] == ["aiops-azure-dr-serving.eastus.cloudapp.azure.com"]
    # each record behind a health check of its cluster, on the serving workload's readiness path
    for environment, endpoint in (("aws_primary", primary["records"][0]), ("azure_dr", standby["records"][0])):
        check = checks[f"model_server_{environment}_health"]
        assert (check["type"], check["fqdn"], check["port"], check["resource_path"]) == ("HTTP", endpoint, 80, "/v2/health/ready")
        assert (check["request_interval"], check["failure_threshold"]) == (10, 3)
    assert standby["health_check_id"] == "${aws_route53_health_check.model_server_azure_dr_health.id}"
    # the primary's record: the switch's CALCULATED check over its endpoint check, 1 of 1 = its own health
    assert primary["health_check_id"] == "${aws_route53_health_check.model_server_aws_primary_serving.id}"
    serving = checks["model_server_aws_primary_serving"]
    assert (serving["type"], serving["child_healthchecks"], serving["child_health_threshold"]) == (
        "CALCULATED", ["${aws_route53_health_check.model_server_aws_primary_health.id}"], 1)


def test_every_cluster_that_runs_the_serving_workload_gets_an_ingress(reference_documents, reference_environments):
    for name, environment in reference_environments.items():
        ingresses = [d for _, d in reference_documents[name] if d["kind"] == "Ingress"]
        if environment.workloads.inference is None:
            assert ingresses == []
            continue
        serving = environment.workloads.inference
        [ingress] = ingresses
        assert (ingress["metadata"]["name"], ingress["metadata"]["namespace"]) == (serving.name, serving.namespace)
        [rule] = ingress["spec"]["rules"]
        assert "host" not in rule  # answers on the load balancer's own name (the health check's) and the client name
        assert rule["http"]["paths"] == [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": serving.name, "port": {"number": serving.port}}}}]
        services = [d for _, d in reference_documents[name] if d["kind"] == "Service" and d["metadata"]["name"] == serving.name]
        assert services and services[0]["spec"]["ports"][0]["port"] == serving.port
        [policy] = [d for _, d in reference_documents[name] if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == f"{serving.name}-from-ingress"]
        assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": serving.name}}
        assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": serving.port}]
    aws = next(d for _, d in reference_documents["aws-primary"] if d["kind"] == "Ingress")
    assert aws["spec"]["ingressClassName"] == "alb"
    assert aws["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == "/v2/health/ready"
    azure = next(d for _, d in reference_documents["azure-dr"] if d["kind"] == "Ingress")
    assert azure["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    azure_policy = next(d for _, d in reference_documents["azure-dr"] if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "model-server-from-ingress")
    assert azure_policy["spec"]["ingress"][0]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "app-routing-system"}}}]


def test_the_aks_cluster_that_serves_runs_the_app_routing_add_on(reference_terraform):
    cluster = reference_terraform["azure-dr"]["resource"]["azurerm_kubernetes_cluster"]["cluster"]
    assert cluster["web_app_routing"] == {"dns_zone_ids": []}


def test_the_traffic_construct_refuses_bad_props():
    from cdktn import App, TerraformStack

    from aiops_constructs.terraform.traffic.failover_dns import FailoverDns, FailoverDnsProps

    stack = TerraformStack(App(), "s")
    props = FailoverDnsProps("ml.example.org", "models.example.org", "a", "b", "a.example.com", "b.example.com", "/ready")
    with pytest.raises(InvalidProps) as caught:
        FailoverDns(stack, "model-server", props=props)
    assert str(caught.value) == "s/model-server: client_name: 'models.example.org' is not in the hosted zone 'ml.example.org'\n    fix: use a name ending in .ml.example.org"
