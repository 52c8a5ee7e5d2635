"""The VPC of an EKS cluster: a public and a private subnet in each zone, NAT per zone.

Nodes live in the private subnets and reach the internet (images, the EKS API) through a NAT
gateway in their own zone, so losing one zone never cuts the others off. Public subnets hold
only the NAT gateways and internet-facing load balancers.

The subnet tags are the ones the AWS load balancer controller and the in-tree service
controller look for: `kubernetes.io/role/elb` on public subnets, `kubernetes.io/role/internal-elb`
on private ones, and `kubernetes.io/cluster/<name>` = `shared` on both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktn_provider_aws.default_security_group import DefaultSecurityGroup
from cdktn_provider_aws.eip import Eip
from cdktn_provider_aws.internet_gateway import InternetGateway
from cdktn_provider_aws.nat_gateway import NatGateway
from cdktn_provider_aws.route import Route
from cdktn_provider_aws.route_table import RouteTable
from cdktn_provider_aws.route_table_association import RouteTableAssociation
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc
from constructs import Construct

from aiops.model.cloud_rules import EKS_VPC_CIDR
from aiops_constructs.terraform.props import InvalidProps, check_zones, terraform_id

# The VPC's range. Private subnets take the first /19s (8190 addresses each: with the VPC CNI
# every pod gets a VPC address); public subnets take /24s from the last /19.
VPC_CIDR = ipaddress.ip_network(EKS_VPC_CIDR)
_PRIVATE_BLOCKS = list(VPC_CIDR.subnets(new_prefix=19))
_PUBLIC_BLOCKS = list(_PRIVATE_BLOCKS[-1].subnets(new_prefix=24))
MAX_ZONES = len(_PRIVATE_BLOCKS) - 1


@dataclass(frozen=True)
class EksNetworkProps:
    cluster_name: str  # the cluster whose load balancers use these subnets
    region: str
    zones: tuple[str, ...]


class EksNetwork(Construct):
    """VPC, internet gateway, and per zone: public + private subnet, NAT gateway, routes."""

    def __init__(self, scope: Construct, id: str, *, props: EksNetworkProps) -> None:
        super().__init__(scope, id)
        check_zones(self, "aws", props.region, props.zones)
        if len(props.zones) > MAX_ZONES:
            raise InvalidProps(self, "zones", f"{len(props.zones)} zones do not fit the VPC plan of {VPC_CIDR} (at most {MAX_ZONES})", f"list at most {MAX_ZONES} zones")
        cluster_tag = {f"kubernetes.io/cluster/{props.cluster_name}": "shared"}

        self.vpc = Vpc(self, "vpc", cidr_block=str(VPC_CIDR), enable_dns_support=True, enable_dns_hostnames=True, tags={"Name": props.cluster_name})
        self.vpc.override_logical_id("vpc")
        # The VPC's default security group, with every rule removed: anything launched without a
        # group of its own gets no traffic, instead of talking freely to everything in the group.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, tags={"Name": f"{props.cluster_name}-default-deny-all"}).override_logical_id("default")
        gateway = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": props.cluster_name})
        gateway.override_logical_id("internet_gateway")
        public_routes = RouteTable(self, "public-route-table", vpc_id=self.vpc.id, tags={"Name": f"{props.cluster_name}-public"})
        public_routes.override_logical_id("public_route_table")
        Route(self, "public-default-route", route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id).override_logical_id("public_default_route")

        self.private_subnets: list[Subnet] = []
        self.public_subnets: list[Subnet] = []
        for index, zone in enumerate(props.zones):
            public = Subnet(
                self,
                f"public-subnet-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=zone,
                cidr_block=str(_PUBLIC_BLOCKS[index]),
                map_public_ip_on_launch=False,
                tags={"Name": f"{props.cluster_name}-public-{zone}", "kubernetes.io/role/elb": "1", **cluster_tag},
            )
            public.override_logical_id(terraform_id("public_subnet", zone))
            RouteTableAssociation(self, f"public-route-table-association-{zone}", subnet_id=public.id, route_table_id=public_routes.id).override_logical_id(
                terraform_id("public_route_table_association", zone)
            )
            address = Eip(self, f"nat-address-{zone}", domain="vpc", tags={"Name": f"{props.cluster_name}-nat-{zone}"}, depends_on=[gateway])
            address.override_logical_id(terraform_id("nat_address", zone))
            nat = NatGateway(self, f"nat-gateway-{zone}", allocation_id=address.id, subnet_id=public.id, tags={"Name": f"{props.cluster_name}-{zone}"}, depends_on=[gateway])
            nat.override_logical_id(terraform_id("nat_gateway", zone))

            private = Subnet(
                self,
                f"private-subnet-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=zone,
                cidr_block=str(_PRIVATE_BLOCKS[index]),
                tags={"Name": f"{props.cluster_name}-private-{zone}", "kubernetes.io/role/internal-elb": "1", **cluster_tag},
            )
            private.override_logical_id(terraform_id("private_subnet", zone))
            private_routes = RouteTable(self, f"private-route-table-{zone}", vpc_id=self.vpc.id, tags={"Name": f"{props.cluster_name}-private-{zone}"})
            private_routes.override_logical_id(terraform_id("private_route_table", zone))
            Route(self, f"private-default-route-{zone}", route_table_id=private_routes.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id).override_logical_id(
                terraform_id("private_default_route", zone)
            )
            RouteTableAssociation(self, f"private-route-table-association-{zone}", subnet_id=private.id, route_table_id=private_routes.id).override_logical_id(
                terraform_id("private_route_table_association", zone)
            )
            self.public_subnets.append(public)
            self.private_subnets.append(private)

    @property
    def private_subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.private_subnets]
