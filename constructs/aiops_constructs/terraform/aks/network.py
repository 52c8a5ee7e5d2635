"""The virtual network of an AKS cluster: one subnet for the nodes.

The cluster uses Azure CNI overlay, so pods take addresses from a private overlay range and only
nodes use the subnet; a /20 holds 4091 nodes. The range stays clear of AKS's default service
range (10.0.0.0/16) and of the EKS VPC (10.0.0.0/16), so the clouds' networks can be joined later.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_azurerm.network_security_group import NetworkSecurityGroup
from cdktn_provider_azurerm.subnet import Subnet
from cdktn_provider_azurerm.subnet_network_security_group_association import SubnetNetworkSecurityGroupAssociation
from cdktn_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct

VNET_CIDR = "10.1.0.0/16"
NODE_SUBNET_CIDR = "10.1.0.0/20"


@dataclass(frozen=True)
class AksNetworkProps:
    name: str  # prefix of the Azure resource names
    location: str
    resource_group_name: str
    tags: dict[str, str]


class AksNetwork(Construct):
    def __init__(self, scope: Construct, id: str, *, props: AksNetworkProps) -> None:
        super().__init__(scope, id)
        self.vnet = VirtualNetwork(
            self,
            "vnet",
            name=f"{props.name}-vnet",
            location=props.location,
            resource_group_name=props.resource_group_name,
            address_space=[VNET_CIDR],
            tags=props.tags,
        )
        self.vnet.override_logical_id("vnet")
        self.node_subnet = Subnet(
            self,
            "node-subnet",
            name="nodes",
            resource_group_name=props.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefixes=[NODE_SUBNET_CIDR],
        )
        self.node_subnet.override_logical_id("node_subnet")
        # A security group of our own on the node subnet: Azure's default rules (traffic inside
        # the virtual network and from its load balancers; nothing else inbound), so rules can be
        # added in one reviewed place, and no subnet is left without one.
        nsg = NetworkSecurityGroup(self, "node-nsg", name=f"{props.name}-nodes", location=props.location, resource_group_name=props.resource_group_name, tags=props.tags)
        nsg.override_logical_id("node_nsg")
        SubnetNetworkSecurityGroupAssociation(self, "node-nsg-association", subnet_id=self.node_subnet.id, network_security_group_id=nsg.id).override_logical_id("node_nsg")
