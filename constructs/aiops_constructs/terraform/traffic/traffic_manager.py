"""One client name that fails over by health when the primary is on Azure: a Traffic Manager
profile with Priority routing, and the client name as a CNAME to it in an Azure DNS zone.

Why Traffic Manager and not Route 53 here: the traffic policy lives with the primary, in its
cloud and its state backend, as the Route 53 pair does for an AWS primary (failover_dns.py).
Traffic Manager is Azure's DNS-level failover by health: "Traffic Manager works at the DNS
level" and an "endpoint can be any Internet-facing service hosted inside or outside of Azure"
(learn.microsoft.com/azure/traffic-manager/traffic-manager-faqs), so the standby's load balancer
in another cloud is an external endpoint. Everything below is in the pinned azurerm provider's
schema (the cdktn bindings `cdktn-provider-azurerm==18.9.0`, generated from azurerm 5.10.0;
tests/test_failover_traffic_azure.py checks every argument against them).

- Priority routing: the primary's endpoint at priority 1, the standby's at 2; Traffic Manager
  answers with the highest-priority endpoint that passes its health checks.
- Health checks (the profile's `monitor_config`): HTTPS on 443, the serving workload's readiness
  path, every 10 seconds (Traffic Manager's "fast probing"; the other interval is 30), a timeout
  of 5 seconds (with a 10-second interval the provider allows 5 to 9), and
  `tolerated_number_of_failures = 2`: "the number of consecutive failed health check that
  Traffic Manager tolerates before declaring an endpoint ... Degraded after the next failed
  health check" (TrafficManagerMonitorConfig.ToleratedNumberOfFailures, Azure SDK reference), so
  the third failure in a row marks it, as Route 53's `failure_threshold = 3` does. Healthy is a
  status of 200 to 399, Route 53's rule for HTTPS checks. Where Traffic Manager differs:
  "HTTPS monitoring does not verify whether your SSL certificate is valid--it only checks that
  the certificate is present" (Traffic Manager endpoint monitoring), and Route 53 asks for a
  response within 2 seconds of connecting (4 to connect), Traffic Manager within the 5-second
  timeout.
- The primary's load balancer is looked up, never typed (as the ALB is on AWS): the AKS app
  routing add-on's NGINX Service `app-routing-system/nginx` gets a public IP that AKS's cloud
  provider creates in the cluster's node resource group (`MC_<resource group>_<cluster>_<region>`,
  the AKS default, which the AKS stack does not override) and tags `k8s-azure-service:
  app-routing-system/nginx`. `data.azurerm_resources` finds it by that tag (a postcondition
  stops the plan unless exactly one matches: before the add-on has made it, on the very first
  apply, the plan stops there, as the ALB lookup does), and `data.azurerm_public_ip` reads its
  DNS name, the external endpoint's target. A name and not the address: Traffic Manager
  refuses to "mix external endpoints that have targets of different types (domain name, IP
  address)" (Traffic Manager endpoint types), and the standby's (an ALB's) is a name. The
  add-on's IP gets that name from a DNS label given once by hand, as azure-dr's does (the
  README's runbook); a second postcondition stops the plan, saying so, while it has none. (An
  Azure endpoint, `azurerm_traffic_manager_azure_endpoint`, would need the same label; the
  primary is an external endpoint like the standby.)
- The standby's endpoint is `failover.traffic.standbyEndpoint`, written once in its file.
- The switch (`failover.state: active` in the standby's file): the primary's endpoint moves to
  priority 3, behind the standby's 2. One attribute of one endpoint, updated in place: `priority`
  is not ForceNew in the azurerm provider (internal/services/trafficmanager/
  traffic_manager_external_endpoint_resource.go: Optional, Computed, IntBetween(1, 1000); its
  update sends it with EndpointsCreateOrUpdate; only name, profile_id and subnet are ForceNew).
  Priority rather than `enabled = false`: a disabled endpoint is never answered, while at
  priority 3 the primary is still the answer if the standby fails its own checks, as Route 53
  answers with the primary when both records are unhealthy. (With both degraded, "Traffic
  Manager treats all endpoints as healthy" (endpoint monitoring), and the highest priority
  answers.) Priorities stay unique (1 or 3, and 2): "Supports values between 1 and 1000, with no
  Endpoints sharing the same value" (the provider's traffic_manager_external_endpoint docs).
- The client name: a CNAME in the Azure DNS zone `hostedZone` (looked up with
  `data.azurerm_dns_zone`, by name, so that zone name must be unique in the subscription) to the
  profile's `<relative name>.trafficmanager.net`. The relative name is the client name with its
  dots as dashes (`models-ml-example-org`): Traffic Manager names are global, and the client
  name is one the organization owns.

The profile sits in its own resource group (`<primary>-traffic-rg`), in this stack's own
state, so moving clients never plans a change to the cluster stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktn import Postcondition, TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_azurerm.data_azurerm_dns_zone import DataAzurermDnsZone
from cdktn_provider_azurerm.data_azurerm_public_ip import DataAzurermPublicIp
from cdktn_provider_azurerm.data_azurerm_resources import DataAzurermResources
from cdktn_provider_azurerm.dns_cname_record import DnsCnameRecord
from cdktn_provider_azurerm.resource_group import ResourceGroup
from cdktn_provider_azurerm.traffic_manager_external_endpoint import TrafficManagerExternalEndpoint
from cdktn_provider_azurerm.traffic_manager_profile import (
    TrafficManagerProfile,
    TrafficManagerProfileDnsConfig,
    TrafficManagerProfileMonitorConfig,
)
from constructs import Construct

from aiops.failover import MAX_RELATIVE_NAME, TrafficPair, relative_name
from aiops_constructs.terraform.props import InvalidProps, terraform_id
from aiops_constructs.terraform.traffic.pair_props import check_pair_props

HEALTH_CHECK_PORT = 443
PROBE_INTERVAL = 10  # seconds: Traffic Manager's fast probing (the other is 30), Route 53's 10
PROBE_TIMEOUT = 5  # seconds: the least the provider allows at a 10-second interval (5 to 9)
TOLERATED_FAILURES = 2  # degraded at the 3rd failure in a row, as Route 53's failure_threshold 3
HEALTHY_STATUS = "200-399"  # Route 53's HTTPS rule: 2xx or 3xx
PRIMARY_PRIORITY, STANDBY_PRIORITY, FAILED_OVER_PRIORITY = 1, 2, 3
# The add-on's NGINX Service, and the tag AKS's cloud provider puts on the public IP it creates for it.
APP_ROUTING_SERVICE = "app-routing-system/nginx"
SERVICE_TAG = "k8s-azure-service"
PUBLIC_IP_TYPE = "Microsoft.Network/publicIPAddresses"


def node_resource_group(cluster: str, region: str) -> str:
    """AKS's default node resource group of the cluster the AKS stack makes (aks/cluster.py: group `<name>-rg`)."""
    return f"MC_{cluster}-rg_{cluster}_{region}"


@dataclass(frozen=True)
class TrafficManagerProps:
    dns_zone: str
    client_name: str
    primary: str  # environment names: the endpoints' names; the primary's is also its AKS cluster's
    standby: str
    standby_endpoint: str
    health_path: str
    region: str  # the primary's: its node resource group's name, and the profile's resource group
    ttl: int = 60
    active: bool = False  # the switch: the primary's endpoint behind the standby's
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, pair: TrafficPair, region: str, tags: Mapping[str, str]) -> TrafficManagerProps:
        return cls(pair.hosted_zone, pair.client_name, pair.primary, pair.standby, pair.standby_endpoint,
                   pair.health_path, region, pair.ttl, pair.active, dict(tags))


class TrafficManagerFailover(Construct):
    """The profile, its two external endpoints, and the client name's CNAME to the profile."""

    def __init__(self, scope: Construct, id: str, *, props: TrafficManagerProps) -> None:
        super().__init__(scope, id)
        check_pair_props(self, client_name=props.client_name, zone=props.dns_zone, zone_kind="DNS zone", health_path=props.health_path,
                         ttl=props.ttl, primary=props.primary, standby=props.standby)
        if len(relative_name(props.client_name)) > MAX_RELATIVE_NAME:
            raise InvalidProps(self, "client_name", f"'{relative_name(props.client_name)}' is longer than a DNS label ({MAX_RELATIVE_NAME})", "use a shorter client name")
        if props.standby_endpoint == props.client_name:
            raise InvalidProps(self, "standby_endpoint", "the standby's endpoint is the client name itself", "give the standby's load balancer name")
        prefix = terraform_id(id)
        zone = DataAzurermDnsZone(self, "zone", name=props.dns_zone)
        zone.override_logical_id(terraform_id(prefix, "zone"))
        group = ResourceGroup(self, "resource-group", name=f"{props.primary}-traffic-rg", location=props.region, tags=dict(props.tags))
        group.override_logical_id(terraform_id(prefix, "resource_group"))

        # The primary's load balancer: the add-on's public IP, found by its cloud provider's tag.
        nodes = node_resource_group(props.primary, props.region)
        found = DataAzurermResources(
            self, "primary-load-balancer-ips",
            type=PUBLIC_IP_TYPE, resource_group_name=nodes, required_tags={SERVICE_TAG: APP_ROUTING_SERVICE},
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition="${length(self.resources) == 1}",
                error_message=f"Exactly one public IP tagged {SERVICE_TAG}={APP_ROUTING_SERVICE} must be in {nodes}: the app routing add-on's, "
                              f"which AKS creates once the add-on runs on {props.primary} (see the README's Failover runbook, first apply).",
            )]),
        )
        found.override_logical_id(terraform_id(prefix, props.primary, "load_balancer_ips"))
        address = DataAzurermPublicIp(
            self, "primary-load-balancer", name=found.resources.get(0).name, resource_group_name=nodes,
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition="${try(length(self.fqdn), 0) > 0}",
                error_message=f"The app routing add-on's public IP in {nodes} has no DNS name, which Traffic Manager's endpoint needs: give it a label once "
                              f"(az network public-ip update --resource-group {nodes} --name <its name> --dns-name <label>; the README's Failover runbook).",
            )]),
        )
        address.override_logical_id(terraform_id(prefix, props.primary, "load_balancer"))

        profile = TrafficManagerProfile(
            self, "profile",
            name=f"{props.primary}-{id}", resource_group_name=group.name, traffic_routing_method="Priority",
            dns_config=TrafficManagerProfileDnsConfig(relative_name=relative_name(props.client_name), ttl=props.ttl),
            monitor_config=TrafficManagerProfileMonitorConfig(
                protocol="HTTPS", port=HEALTH_CHECK_PORT, path=props.health_path,
                interval_in_seconds=PROBE_INTERVAL, timeout_in_seconds=PROBE_TIMEOUT, tolerated_number_of_failures=TOLERATED_FAILURES,
                expected_status_code_ranges=[HEALTHY_STATUS],
            ),
            tags=dict(props.tags),
        )
        profile.override_logical_id(terraform_id(prefix, "profile"))
        for environment, target, priority in (
            (props.primary, address.fqdn, FAILED_OVER_PRIORITY if props.active else PRIMARY_PRIORITY),
            (props.standby, props.standby_endpoint, STANDBY_PRIORITY),
        ):
            endpoint = TrafficManagerExternalEndpoint(self, f"{environment}-endpoint", name=environment, profile_id=profile.id, target=target, priority=priority)
            endpoint.override_logical_id(terraform_id(prefix, environment, "endpoint"))
        record = DnsCnameRecord(
            self, "client-name",
            name=props.client_name.removesuffix(f".{props.dns_zone}"), zone_name=zone.name, resource_group_name=zone.resource_group_name,
            ttl=props.ttl, record=profile.fqdn, tags=dict(props.tags),
        )
        record.override_logical_id(terraform_id(prefix, "client_name"))
        for name, value, description in (
            ("client_name", props.client_name, "The one name clients use: a CNAME to the Traffic Manager profile, which answers with the serving cluster's load balancer."),
            ("traffic_manager_fqdn", profile.fqdn, f"The profile's name; {props.primary} answers at priority {PRIMARY_PRIORITY} while healthy, {props.standby} at {STANDBY_PRIORITY}."),
            ("primary_load_balancer", address.fqdn, f"DNS name of {props.primary}'s app routing add-on, its public IP found by its {SERVICE_TAG} tag."),
        ):
            TerraformOutput(self, name, value=value, description=description).override_logical_id(terraform_id(prefix, name))
