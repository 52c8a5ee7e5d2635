"""One client name that fails over by health when the primary is on Google Cloud: a Cloud DNS
A record with a failover routing policy (`routing_policy.primary_backup`) over two health-checked
external endpoints, the primary's GKE Ingress address and the standby's.

Cloud DNS "supports health checking and failovers within routing policies for internal load
balancers and external endpoints" (cloud.google.com/dns/docs/routing-policies-overview); for an
endpoint outside Google Cloud it takes "The Internet IP addresses to be health checked" (the
provider's `external_endpoints`), so the records are A records of addresses, not CNAMEs, and the
standby gives an address (`standbyAddress`; aiops.failover.checks refuses an EKS standby, whose
ALB has none that stays). Everything is in the pinned google provider's schema (cdktn bindings
`cdktn-provider-google==21.1.0`, google 8.7.0; tests/test_failover_traffic_gcp.py checks it).

- The primary's address is a global static address this stack reserves; the primary's GKE
  Ingress takes it (`kubernetes.io/ingress.global-static-ip-name`) and presents this stack's
  Google-managed certificate of the client name (`ingress.gcp.kubernetes.io/pre-shared-cert`),
  names both sides get from aiops_constructs/serving_tls.py. Google provisions the certificate
  once the client name resolves to the load balancer, which the record does while the primary
  is healthy.
- The health check: a global HTTPS check of the readiness path on 443 with `source_regions`
  (exactly 3 regions, required to check endpoints outside Google Cloud), which the provider
  documents as allowing a `checkIntervalSec` of "at least 30": every 30 s, so slower than Route
  53's and Traffic Manager's 10 s; unhealthy after 3 failures (about 90 s), healthy again after 1.
- The routing policy: the primary's address as `primary`, the standby's as the one `backup_geo`
  item (for every query: a single location matches all); `trickle_ratio` is "the percentage of
  traffic to send to the backup targets even when the primary targets are healthy".
- The switch (`failover.state: active` in the standby's file): `trickle_ratio` 0 -> 1, all the
  traffic to the backup ("You can send 100% of the traffic to the backup VIP address to manually
  trigger a failover", DNS routing policies and health checks). One attribute of one record,
  updated in place: of routing_policy only `health_check` is ForceNew (terraform-provider-google
  google/services/dns/resource_dns_record_set.go, read at commit e03b7622a2, not the 8.7.0 tag).
- The zone: looked up by its DNS name among the project's zones (`data.google_dns_managed_zones`,
  a postcondition asking for exactly one public zone of that name).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import Postcondition, TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_google.compute_global_address import ComputeGlobalAddress
from cdktn_provider_google.compute_health_check import ComputeHealthCheck, ComputeHealthCheckHttpsHealthCheck
from cdktn_provider_google.compute_managed_ssl_certificate import ComputeManagedSslCertificate, ComputeManagedSslCertificateManaged
from cdktn_provider_google.data_google_dns_managed_zones import DataGoogleDnsManagedZones
from cdktn_provider_google.dns_record_set import (
    DnsRecordSet,
    DnsRecordSetRoutingPolicy,
    DnsRecordSetRoutingPolicyPrimaryBackup,
    DnsRecordSetRoutingPolicyPrimaryBackupBackupGeo,
    DnsRecordSetRoutingPolicyPrimaryBackupBackupGeoHealthCheckedTargets,
    DnsRecordSetRoutingPolicyPrimaryBackupPrimary,
)
from constructs import Construct

from aiops.failover import TrafficPair
from aiops_constructs.serving_tls import gke_address_name, gke_certificate_name
from aiops_constructs.terraform.props import terraform_id
from aiops_constructs.terraform.traffic.pair_props import check_pair_props

HEALTH_CHECK_PORT = 443
CHECK_INTERVAL = 30  # seconds: the least the provider allows with source_regions
CHECK_TIMEOUT = 5
UNHEALTHY_THRESHOLD = 3  # as Route 53's failure_threshold
HEALTHY_THRESHOLD = 1
# Where the checks run from: exactly 3 Google Cloud regions, on three continents, so that one
# region's trouble does not read as the endpoint's.
SOURCE_REGIONS = ("us-east4", "europe-west1", "asia-southeast1")


@dataclass(frozen=True)
class CloudDnsProps:
    dns_zone: str
    client_name: str
    primary: str
    standby: str
    standby_address: str
    workload: str
    health_path: str
    region: str  # the primary's: the backup's location
    ttl: int = 60
    active: bool = False  # the switch: all queries answered with the backup

    @classmethod
    def of(cls, pair: TrafficPair, region: str) -> CloudDnsProps:
        if pair.standby_address is None:
            raise ValueError(f"the pair {pair.primary}/{pair.standby} has no standby address (aiops.failover.checks refuses it)")
        return cls(pair.hosted_zone, pair.client_name, pair.primary, pair.standby, pair.standby_address, pair.workload,
                   pair.health_path, region, pair.ttl, pair.active)


class CloudDnsFailover(Construct):
    """The primary's address and certificate, the health check, and the client name's A record."""

    def __init__(self, scope: Construct, id: str, *, props: CloudDnsProps) -> None:
        super().__init__(scope, id)
        check_pair_props(self, client_name=props.client_name, zone=props.dns_zone, zone_kind="DNS zone", health_path=props.health_path,
                         ttl=props.ttl, primary=props.primary, standby=props.standby)
        prefix = terraform_id(id)
        dns_name = f"{props.dns_zone}."
        zones = DataGoogleDnsManagedZones(
            self, "zones",
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition=f'${{length([for z in self.managed_zones : z if z.dns_name == "{dns_name}" && z.visibility == "public"]) == 1}}',
                error_message=f"Exactly one public Cloud DNS zone of {dns_name} must be in the project (hostedZone): create it, or its delegation, first.",
            )]),
        )
        zones.override_logical_id(terraform_id(prefix, "zones"))
        zone_name = f'${{one([for z in data.google_dns_managed_zones.{terraform_id(prefix, "zones")}.managed_zones : z.name if z.dns_name == "{dns_name}" && z.visibility == "public"])}}'

        address = ComputeGlobalAddress(self, "primary-address", name=gke_address_name(props.primary, props.workload),
                                       description=f"{props.primary}'s serving Ingress ({props.client_name})")
        address.override_logical_id(terraform_id(prefix, props.primary, "address"))
        certificate = ComputeManagedSslCertificate(
            self, "certificate", name=gke_certificate_name(props.primary, props.workload),
            managed=ComputeManagedSslCertificateManaged(domains=[props.client_name]),
        )
        certificate.override_logical_id(terraform_id(prefix, "certificate"))
        check = ComputeHealthCheck(
            self, "health", name=f"{props.primary}-{props.workload}-failover",
            description=f"{props.workload} on {props.primary} and {props.standby}, for the failover of {props.client_name}",
            check_interval_sec=CHECK_INTERVAL, timeout_sec=CHECK_TIMEOUT,
            unhealthy_threshold=UNHEALTHY_THRESHOLD, healthy_threshold=HEALTHY_THRESHOLD,
            https_health_check=ComputeHealthCheckHttpsHealthCheck(port=HEALTH_CHECK_PORT, request_path=props.health_path),
            source_regions=list(SOURCE_REGIONS),
        )
        check.override_logical_id(terraform_id(prefix, "health"))
        record = DnsRecordSet(
            self, "client-name",
            name=f"{props.client_name}.", managed_zone=zone_name, type="A", ttl=props.ttl,
            routing_policy=DnsRecordSetRoutingPolicy(
                health_check=check.id,
                primary_backup=DnsRecordSetRoutingPolicyPrimaryBackup(
                    primary=DnsRecordSetRoutingPolicyPrimaryBackupPrimary(external_endpoints=[address.address]),
                    backup_geo=[DnsRecordSetRoutingPolicyPrimaryBackupBackupGeo(
                        location=props.region,
                        health_checked_targets=DnsRecordSetRoutingPolicyPrimaryBackupBackupGeoHealthCheckedTargets(external_endpoints=[props.standby_address]),
                    )],
                    trickle_ratio=1 if props.active else 0,
                ),
            ),
        )
        record.override_logical_id(terraform_id(prefix, "client_name"))
        for name, value, description in (
            ("client_name", props.client_name, "The one name clients use: an A record that Cloud DNS answers with the serving cluster's address."),
            ("primary_address", address.address, f"{props.primary}'s serving Ingress address (its global static IP)."),
        ):
            TerraformOutput(self, name, value=value, description=description).override_logical_id(terraform_id(prefix, name))
