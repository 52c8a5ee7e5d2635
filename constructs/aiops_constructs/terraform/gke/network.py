"""The VPC network of a GKE cluster: one subnetwork with secondary ranges for pods and services,
and Cloud NAT, so that nodes without public addresses can still pull images."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_google.compute_firewall import ComputeFirewall, ComputeFirewallDeny, ComputeFirewallLogConfig
from cdktn_provider_google.compute_network import ComputeNetwork
from cdktn_provider_google.compute_router import ComputeRouter
from cdktn_provider_google.compute_router_nat import ComputeRouterNat
from cdktn_provider_google.compute_subnetwork import ComputeSubnetwork, ComputeSubnetworkLogConfig, ComputeSubnetworkSecondaryIpRange
from constructs import Construct

# Node, pod and service ranges of the VPC-native cluster: a /20 holds 4092 nodes, a /14 gives
# 1024 nodes their /24 of pod addresses, a /20 holds 4096 services. Clear of the EKS (10.0.0.0/16)
# and AKS (10.1.0.0/16) networks.
NODE_CIDR = "10.2.0.0/20"
POD_RANGE = ("pods", "10.64.0.0/14")
SERVICE_RANGE = ("services", "10.68.0.0/20")


@dataclass(frozen=True)
class GkeNetworkProps:
    name: str  # prefix of the Google Cloud resource names
    region: str


class GkeNetwork(Construct):
    def __init__(self, scope: Construct, id: str, *, props: GkeNetworkProps) -> None:
        super().__init__(scope, id)
        self.network = ComputeNetwork(self, "network", name=props.name, auto_create_subnetworks=False)
        self.network.override_logical_id("network")
        self.subnetwork = ComputeSubnetwork(
            self,
            "subnetwork",
            name=f"{props.name}-nodes",
            region=props.region,
            network=self.network.id,
            ip_cidr_range=NODE_CIDR,
            private_ip_google_access=True,
            # Flow logs of the nodes and pods (sampled at half, aggregated per 10 minutes): who
            # talked to whom, for incident reviews, at a fraction of full logging's cost.
            log_config=ComputeSubnetworkLogConfig(aggregation_interval="INTERVAL_10_MIN", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"),
            secondary_ip_range=[ComputeSubnetworkSecondaryIpRange(range_name=name, ip_cidr_range=cidr) for name, cidr in (POD_RANGE, SERVICE_RANGE)],
        )
        self.subnetwork.override_logical_id("subnetwork")
        # An explicit, logged deny of inbound internet traffic below every rule GKE adds, so the
        # network never relies on the implied rules alone and probes show up in the logs.
        ComputeFirewall(
            self,
            "deny-internet-ingress",
            name=f"{props.name}-deny-internet-ingress",
            network=self.network.id,
            direction="INGRESS",
            priority=65000,
            source_ranges=["0.0.0.0/0"],
            deny=[ComputeFirewallDeny(protocol="all")],
            log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
        ).override_logical_id("deny_internet_ingress")
        router = ComputeRouter(self, "router", name=f"{props.name}-router", region=props.region, network=self.network.id)
        router.override_logical_id("router")
        ComputeRouterNat(
            self,
            "nat",
            name=f"{props.name}-nat",
            region=props.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
        ).override_logical_id("nat")
        self.pod_range_name, self.service_range_name = POD_RANGE[0], SERVICE_RANGE[0]
