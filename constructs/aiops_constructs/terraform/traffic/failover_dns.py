"""One client name that fails over by health: a Route 53 failover pair with HTTPS health checks.

- The client name's certificate: an ACM certificate, validated by a DNS record in the same
  hosted zone (`validation_method = "DNS"`; ACM renews a DNS-validated certificate by itself as
  long as the record stays). The primary's ALB presents it: the AWS Load Balancer Controller
  finds it by the Ingress's TLS host (k8s/serving_ingress.py). The standby presents its own
  (a Key Vault certificate, terraform/aks/serving_vault.py).
- The primary's load balancer is not typed by anyone: `data.aws_lb` finds the ALB by the tags
  the controller puts on it (its cluster and its IngressGroup,
  aiops_constructs/load_balancer_controller_identity.py), and its `dns_name` is what the
  primary's health check asks and its record answers. Before the ALB exists (the very first
  apply), that lookup fails the plan; the README's runbook says in which order to apply.
- An HTTPS health check on each cluster's load balancer, asking the serving workload's
  readiness path on 443 with SNI (every 10 seconds from Route 53's checkers; unhealthy after 3
  failures in a row, so about 30 seconds). The certificate is the client name's, not the load
  balancer's; Route 53 documents for EnableSNI that when "the endpoint responds to the
  client_hello message with a certificate that does not include the domain name that you
  specified in FullyQualifiedDomainName, a health checker will retry the handshake" without it
  (UpdateHealthCheck API), so the mismatch does not fail the check.
- The primary's record answers while its health check passes. Its health check is a CALCULATED
  one over the primary's endpoint check, with a threshold of 1 child; `active` (the standby's
  `failover.state: active`, the switch in git) raises the threshold to 2, more children than it
  has, which Route 53 documents as "always unhealthy" (HealthThreshold, UpdateHealthCheck API):
  the primary's record stops being answered whatever its health, and clients go to the standby.
  Failback lowers it to 1 again. Neither record, name nor routing role is replaced, so a switch
  is an in-place update of one attribute of one health check.
- The standby's record (SECONDARY) answers when the primary's does not. Should both be
  unhealthy, Route 53 answers with the primary, as it documents for failover records.

Records are CNAMEs to the load balancers' names: an ALB's and an Azure public IP's names are
stable, their addresses are not. Clients see the switch after the record's TTL.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktn_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktn_provider_aws.data_aws_lb import DataAwsLb
from cdktn_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktn_provider_aws.route53_health_check import Route53HealthCheck
from cdktn_provider_aws.route53_record import Route53Record, Route53RecordFailoverRoutingPolicy
from constructs import Construct

from aiops.failover import TrafficPair
from aiops_constructs.load_balancer_controller_identity import load_balancer_tags
from aiops_constructs.terraform.props import InvalidProps, terraform_id
from aiops_constructs.terraform.traffic.pair_props import check_pair_props

HEALTH_CHECK_PORT = 443
REQUEST_INTERVAL = 10  # seconds: Route 53's fast interval (the other is 30)
FAILURE_THRESHOLD = 3
VALIDATION_TTL = 300


@dataclass(frozen=True)
class FailoverDnsProps:
    hosted_zone: str
    client_name: str
    primary: str  # environment names: the records' set identifiers; the primary's is also its EKS cluster's name
    standby: str
    standby_endpoint: str
    health_path: str
    ttl: int = 60
    active: bool = False  # the switch: hold the primary unhealthy

    @classmethod
    def of(cls, pair: TrafficPair) -> FailoverDnsProps:
        return cls(pair.hosted_zone, pair.client_name, pair.primary, pair.standby, pair.standby_endpoint,
                   pair.health_path, pair.ttl, pair.active)


class FailoverDns(Construct):
    """The certificate, the health checks, and the PRIMARY and SECONDARY records of `client_name`."""

    def __init__(self, scope: Construct, id: str, *, props: FailoverDnsProps) -> None:
        super().__init__(scope, id)
        check_pair_props(self, client_name=props.client_name, zone=props.hosted_zone, zone_kind="hosted zone", health_path=props.health_path,
                         ttl=props.ttl, primary=props.primary, standby=props.standby)
        if props.standby_endpoint == props.client_name:
            raise InvalidProps(self, "standby_endpoint", "the standby's endpoint is the client name itself", "give the standby's load balancer name")
        prefix = terraform_id(id)
        zone = DataAwsRoute53Zone(self, "zone", name=props.hosted_zone, private_zone=False)
        zone.override_logical_id(terraform_id(prefix, "zone"))

        certificate = AcmCertificate(
            self, "certificate",
            domain_name=props.client_name, validation_method="DNS",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": f"{id}: {props.client_name}"},
            # A new certificate (another name) is issued before the one the ALB presents is deleted.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        certificate.override_logical_id(terraform_id(prefix, "certificate"))
        option = certificate.domain_validation_options.get(0)  # one name, one validation record
        validation_record = Route53Record(
            self, "certificate-validation-record",
            zone_id=zone.zone_id, name=option.resource_record_name, type=option.resource_record_type,
            records=[option.resource_record_value], ttl=VALIDATION_TTL, allow_overwrite=True,
        )
        validation_record.override_logical_id(terraform_id(prefix, "certificate", "validation"))
        validation = AcmCertificateValidation(self, "certificate-validation", certificate_arn=certificate.arn,
                                              validation_record_fqdns=[validation_record.fqdn])
        validation.override_logical_id(terraform_id(prefix, "certificate"))

        primary_load_balancer = DataAwsLb(self, "primary-load-balancer", tags=load_balancer_tags(props.primary))
        primary_load_balancer.override_logical_id(terraform_id(prefix, props.primary, "load_balancer"))
        primary_endpoint = primary_load_balancer.dns_name

        def endpoint_check(environment: str, endpoint: str) -> Route53HealthCheck:
            check = Route53HealthCheck(
                self, f"{environment}-health",
                type="HTTPS", fqdn=endpoint, port=HEALTH_CHECK_PORT, resource_path=props.health_path, enable_sni=True,
                request_interval=REQUEST_INTERVAL, failure_threshold=FAILURE_THRESHOLD,
                tags={"Name": f"{id} on {environment}"},
            )
            check.override_logical_id(terraform_id(prefix, environment, "health"))
            return check

        primary_check = endpoint_check(props.primary, primary_endpoint)
        standby_check = endpoint_check(props.standby, props.standby_endpoint)
        # The switch: 1 = the primary's own health decides; 2 (> its 1 child) = always unhealthy.
        serving = Route53HealthCheck(
            self, "primary-serving",
            type="CALCULATED", child_healthchecks=[primary_check.id], child_health_threshold=2 if props.active else 1,
            tags={"Name": f"{id}: {props.primary} serves" + (" (failed over to " + props.standby + " in git)" if props.active else "")},
        )
        serving.override_logical_id(terraform_id(prefix, props.primary, "serving"))
        for role, environment, endpoint, check in (
            ("PRIMARY", props.primary, primary_endpoint, serving),
            ("SECONDARY", props.standby, props.standby_endpoint, standby_check),
        ):
            record = Route53Record(
                self, f"{environment}-record",
                zone_id=zone.zone_id, name=props.client_name, type="CNAME", ttl=props.ttl, records=[endpoint],
                set_identifier=environment, failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=role),
                health_check_id=check.id,
            )
            record.override_logical_id(terraform_id(prefix, environment, "record"))
        for name, value, description in (
            ("client_name", props.client_name, "The one name clients use; Route 53 answers with the serving cluster's load balancer."),
            ("serving_health_check_id", serving.id, f"Healthy while {props.primary} takes the traffic (CALCULATED over its endpoint check)."),
            ("primary_load_balancer", primary_endpoint, f"DNS name of {props.primary}'s ALB, found by its controller's tags."),
            ("certificate_arn", validation.certificate_arn, f"The ACM certificate of {props.client_name} (issued once its DNS validation passed)."),
        ):
            TerraformOutput(self, name, value=value, description=description).override_logical_id(terraform_id(prefix, name))
