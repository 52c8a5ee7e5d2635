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
    # the arguments are keyword-only; self, scope and the construct's id (`id_`, or `id` when the
    # type has no `id` argument) come first
    parameters = {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    problems = [f"{where}: no argument '{key}'" for key in body if key not in _META and key not in parameters]
    problems += [f"{where}: required '{n}' missing" for n, p in parameters.items() if p.default is inspect.Parameter.empty and n not in body]
    for key, value in body.items():
        if key in _META or key not in parameters:
            continue
        annotation = str(parameters[key].annotation)
        if isinstance(value, str) and value.startswith("${"):
            continue  # a reference: its type is the referenced attribute's
        struct = _struct(module, annotation)
        # a block, or a list of blocks (typed `Union[IResolvable, Sequence[Block]]` by the bindings)
        if struct is not None and ("IResolvable" not in annotation.split("'")[1] or f"Sequence[typing.Union['{struct.__name__}'" in annotation):
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
    # 3 health checks, 2 failover records and the certificate's validation record, the certificate
    # and its validation; the hosted zone and the primary's ALB, looked up
    assert checked == 10


def test_the_control_case_shows_the_schema_check_can_fail():
    cls = _binding("aws_route53_record")
    body = {"name": "x.example.org", "type": "CNAME", "zone_id": "Z1", "ttl": "60", "failover_routing_policy": {"kind": "PRIMARY"}, "weight": 1}
    assert _schema_problems(cls, body, "r") == [
        "r: no argument 'weight'", "r.ttl: a number, got '60'",
        "r.failover_routing_policy[0]: no argument 'kind'", "r.failover_routing_policy[0]: required 'type' missing",
    ]


def test_route53_fails_over_by_health(reference_traffic):
    template = reference_traffic["aws-primary"]
    resources = template["resource"]
    checks, records = resources["aws_route53_health_check"], resources["aws_route53_record"]
    primary, standby = records["model_server_aws_primary_record"], records["model_server_azure_dr_record"]
    assert (primary["name"], standby["name"]) == ("models.ml.example.org",) * 2  # one name for clients
    assert (primary["failover_routing_policy"], standby["failover_routing_policy"]) == ({"type": "PRIMARY"}, {"type": "SECONDARY"})
    # the primary's load balancer is the one the lookup found, never a name typed by hand
    alb = "${data.aws_lb.model_server_aws_primary_load_balancer.dns_name}"
    assert (primary["type"], primary["records"], primary["set_identifier"]) == ("CNAME", [alb], "aws-primary")
    assert standby["records"] == ["aiops-azure-dr-serving.eastus.cloudapp.azure.com"]
    # each record behind an HTTPS health check of its cluster, on the serving workload's readiness path
    for environment, endpoint in (("aws_primary", alb), ("azure_dr", standby["records"][0])):
        check = checks[f"model_server_{environment}_health"]
        assert (check["type"], check["fqdn"], check["port"], check["resource_path"], check["enable_sni"]) == ("HTTPS", endpoint, 443, "/v2/health/ready", True)
        assert (check["request_interval"], check["failure_threshold"]) == (10, 3)
    assert standby["health_check_id"] == "${aws_route53_health_check.model_server_azure_dr_health.id}"
    # the primary's record: the switch's CALCULATED check over its endpoint check, 1 of 1 = its own health
    assert primary["health_check_id"] == "${aws_route53_health_check.model_server_aws_primary_serving.id}"
    serving = checks["model_server_aws_primary_serving"]
    assert (serving["type"], serving["child_healthchecks"], serving["child_health_threshold"]) == (
        "CALCULATED", ["${aws_route53_health_check.model_server_aws_primary_health.id}"], 1)


def test_the_primarys_alb_is_found_by_the_tags_its_controller_puts_on_it(reference_traffic, reference_documents):
    from aiops_constructs.load_balancer_controller_identity import CLUSTER_TAG, INGRESS_GROUP, STACK_TAG

    lookup = reference_traffic["aws-primary"]["data"]["aws_lb"]["model_server_aws_primary_load_balancer"]
    assert lookup["tags"] == {CLUSTER_TAG: "aws-primary", STACK_TAG: INGRESS_GROUP}
    assert (CLUSTER_TAG, STACK_TAG, INGRESS_GROUP) == ("elbv2.k8s.aws/cluster", "ingress.k8s.aws/stack", "aiops-serving")
    # the Ingress joins that group, and the controller tags with that cluster name
    ingress = next(d for _, d in reference_documents["aws-primary"] if d["kind"] == "Ingress")
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.name"] == INGRESS_GROUP
    release = next(d for _, d in reference_documents["aws-primary"] if d["kind"] == "HelmRelease" and d["metadata"]["name"] == "aws-load-balancer-controller")
    assert release["spec"]["values"]["clusterName"] == "aws-primary"


def test_the_client_name_has_an_acm_certificate_validated_in_its_zone(reference_traffic):
    template = reference_traffic["aws-primary"]
    resources = template["resource"]
    certificate = resources["aws_acm_certificate"]["model_server_certificate"]
    assert (certificate["domain_name"], certificate["validation_method"]) == ("models.ml.example.org", "DNS")
    assert certificate["options"] == {"certificate_transparency_logging_preference": "ENABLED"}
    assert certificate["lifecycle"] == {"create_before_destroy": True}
    validation_record = resources["aws_route53_record"]["model_server_certificate_validation"]
    assert validation_record["zone_id"] == "${data.aws_route53_zone.model_server_zone.zone_id}"
    assert validation_record["name"] == "${tolist(aws_acm_certificate.model_server_certificate.domain_validation_options).0.resource_record_name}"
    assert validation_record["records"] == ["${tolist(aws_acm_certificate.model_server_certificate.domain_validation_options).0.resource_record_value}"]
    validation = resources["aws_acm_certificate_validation"]["model_server_certificate"]
    assert validation == {**{k: v for k, v in validation.items() if k == "//"},
                          "certificate_arn": "${aws_acm_certificate.model_server_certificate.arn}",
                          "validation_record_fqdns": ["${aws_route53_record.model_server_certificate_validation.fqdn}"]}


def test_every_cluster_that_runs_the_serving_workload_gets_an_ingress(reference_documents, reference_environments):
    for name, environment in reference_environments.items():
        ingresses = [d for _, d in reference_documents[name] if d["kind"] == "Ingress"]
        if environment.workloads.inference is None:
            assert ingresses == []
            continue
        serving = environment.workloads.inference
        [ingress] = ingresses
        assert (ingress["metadata"]["name"], ingress["metadata"]["namespace"]) == (serving.name, serving.namespace)
        paths = [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": serving.name, "port": {"number": serving.port}}}}]
        # the client name (TLS), and no host: the load balancer's own name, which the health check asks
        assert ingress["spec"]["rules"] == [{"host": "models.ml.example.org", "http": {"paths": paths}}, {"http": {"paths": paths}}]
        services = [d for _, d in reference_documents[name] if d["kind"] == "Service" and d["metadata"]["name"] == serving.name]
        assert services and services[0]["spec"]["ports"][0]["port"] == serving.port
        [policy] = [d for _, d in reference_documents[name] if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == f"{serving.name}-from-ingress"]
        assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": serving.name}}
        assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": serving.port}]
    aws = next(d for _, d in reference_documents["aws-primary"] if d["kind"] == "Ingress")
    assert aws["spec"]["ingressClassName"] == "alb"
    assert aws["metadata"]["annotations"] == {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/group.name": "aiops-serving",
        "alb.ingress.kubernetes.io/healthcheck-path": "/v2/health/ready",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
    }
    # no certificate ARN: the controller finds the ACM certificate of the tls host
    assert aws["spec"]["tls"] == [{"hosts": ["models.ml.example.org"]}]
    azure = next(d for _, d in reference_documents["azure-dr"] if d["kind"] == "Ingress")
    assert azure["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    assert azure["metadata"]["annotations"] == {
        "kubernetes.azure.com/tls-cert-keyvault-uri": "https://azure-dr-serving.vault.azure.net/certificates/model-server-tls"}
    assert azure["spec"]["tls"] == [{"hosts": ["models.ml.example.org"], "secretName": "keyvault-model-server"}]
    azure_policy = next(d for _, d in reference_documents["azure-dr"] if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "model-server-from-ingress")
    assert azure_policy["spec"]["ingress"][0]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "app-routing-system"}}}]


def test_the_aks_standby_keeps_its_certificate_in_a_key_vault_the_add_on_reads(reference_terraform):
    template = reference_terraform["azure-dr"]
    resources = template["resource"]
    cluster = resources["azurerm_kubernetes_cluster"]["cluster"]
    assert cluster["key_vault_secrets_provider"] == {"secret_rotation_enabled": True}
    vault = resources["azurerm_key_vault"]["serving_vault"]
    assert vault["name"] == "azure-dr-serving"  # the name in the Ingress's certificate URI
    assert (vault["rbac_authorization_enabled"], vault["purge_protection_enabled"]) == (True, True)
    assert vault["network_acls"]["default_action"] == "Deny"
    assert vault["network_acls"]["virtual_network_subnet_ids"] == ["${azurerm_subnet.node_subnet.id}"]
    assert vault["network_acls"]["ip_rules"] == ["203.0.113.0/24", "198.51.100.16/28"]
    assert resources["azurerm_subnet"]["node_subnet"]["service_endpoint"] == [{"service": "Microsoft.KeyVault"}]
    roles = {name: (r["role_definition_name"], r["principal_id"]) for name, r in resources["azurerm_role_assignment"].items() if name.startswith("serving_vault")}
    assert roles == {
        "serving_vault_app_routing": ("Key Vault Secrets User", "${azurerm_kubernetes_cluster.cluster.web_app_routing[0].web_app_routing_identity[0].object_id}"),
        "serving_vault_admin_0": ("Key Vault Certificates Officer", "4f0b2a8e-5c1d-4e2f-9a3b-6c7d8e9f0a1b"),
    }
    https = resources["azurerm_network_security_rule"]["node_nsg_https"]
    assert (https["direction"], https["access"], https["source_address_prefix"], https["destination_port_range"]) == ("Inbound", "Allow", "Internet", "443")


def test_the_load_balancer_controller_is_pinned_and_bound_to_its_role(reference_documents, reference_terraform):
    from aiops_constructs.k8s import charts

    release = next(d for _, d in reference_documents["aws-primary"] if d["kind"] == "HelmRelease" and d["metadata"]["name"] == "aws-load-balancer-controller")
    assert release["metadata"]["namespace"] == "kube-system"
    assert release["spec"]["chart"]["spec"]["chart"] == "aws-load-balancer-controller"
    assert release["spec"]["chart"]["spec"]["version"] == "3.5.0"
    assert charts.AWS_LOAD_BALANCER_CONTROLLER in charts.NOT_IN_MIRROR
    assert release["spec"]["values"] == {
        "clusterName": "aws-primary", "region": "us-east-1", "vpcTags": {"Name": "aws-primary"},
        "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
        "enableShield": False, "enableWaf": False, "enableWafv2": False,
    }
    resources = reference_terraform["aws-primary"]["resource"]
    association = resources["aws_eks_pod_identity_association"]["load_balancer_controller_pod_identity"]
    assert (association["namespace"], association["service_account"]) == ("kube-system", "aws-load-balancer-controller")
    assert association["role_arn"] == "${aws_iam_role.load_balancer_controller.arn}"
    assert resources["aws_vpc"]["vpc"]["tags"]["Name"] == "aws-primary"  # what vpcTags finds
    statements = {s["sid"]: s for s in reference_terraform["aws-primary"]["data"]["aws_iam_policy_document"]["load_balancer_controller_permissions"]["statement"]}
    # everything it creates carries this cluster's tag; what it changes or deletes must carry it
    for sid, variable in (("CreateTaggedLoadBalancers", "aws:RequestTag/elbv2.k8s.aws/cluster"), ("ChangeOwnLoadBalancers", "aws:ResourceTag/elbv2.k8s.aws/cluster"),
                          ("CreateTaggedSecurityGroups", "aws:RequestTag/elbv2.k8s.aws/cluster"), ("ChangeOwnSecurityGroups", "aws:ResourceTag/elbv2.k8s.aws/cluster")):
        assert statements[sid]["condition"] == [{"test": "StringEquals", "variable": variable, "values": ["aws-primary"]}], sid
    assert "elasticloadbalancing:DeleteLoadBalancer" in statements["ChangeOwnLoadBalancers"]["actions"]
    assert "acm:ListCertificates" in statements["Read"]["actions"]  # certificate discovery
    assert statements["DiscoverCertificates"]["actions"] == ["acm:DescribeCertificate"]
    assert not any(a.startswith(("wafv2:", "waf-regional:", "shield:")) for s in statements.values() for a in s["actions"])
    assert all(s["resources"] != ["*"] for sid, s in statements.items() if sid != "Read")


def test_the_aks_cluster_that_serves_runs_the_app_routing_add_on(reference_terraform):
    cluster = reference_terraform["azure-dr"]["resource"]["azurerm_kubernetes_cluster"]["cluster"]
    assert cluster["web_app_routing"] == {"dns_zone_ids": []}


def test_the_traffic_construct_refuses_bad_props():
    from cdktn import App, TerraformStack

    from aiops_constructs.terraform.traffic.failover_dns import FailoverDns, FailoverDnsProps

    stack = TerraformStack(App(), "s")
    props = FailoverDnsProps("ml.example.org", "models.example.org", "a", "b", "b.example.com", "/ready")
    with pytest.raises(InvalidProps) as caught:
        FailoverDns(stack, "model-server", props=props)
    assert str(caught.value) == "s/model-server: client_name: 'models.example.org' is not in the hosted zone 'ml.example.org'\n    fix: use a name ending in .ml.example.org"
