"""The virtual network of an AKS cluster: one subnet for the nodes.

The cluster uses Azure CNI overlay, so pods take addresses from a private overlay range and only
nodes use the subnet; a /20 holds 4091 nodes. The range stays clear of AKS's default service
range (10.0.0.0/16) and of the EKS VPC (10.0.0.0/16), so the clouds' networks can be joined later.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_azurerm.network_security_group import NetworkSecurityGroup
from cdktn_provider_azurerm.network_security_rule import NetworkSecurityRule
from cdktn_provider_azurerm.subnet import Subnet, SubnetServiceEndpoint
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
    key_vault_endpoint: bool = False  # the nodes reach the serving Key Vault (serving_vault.py) through a service endpoint
    serves_https: bool = False  # clients (and Route 53's health checkers) reach the app routing load balancer on 443


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
            # The serving Key Vault accepts the node subnet only, by its service endpoint.
            service_endpoint=[SubnetServiceEndpoint(service="Microsoft.KeyVault")] if props.key_vault_endpoint else None,
        )
        self.node_subnet.override_logical_id("node_subnet")
        # A security group of our own on the node subnet: Azure's default rules (traffic inside
        # the virtual network and from its load balancers; nothing else inbound), so rules can be
        # added in one reviewed place, and no subnet is left without one.
        nsg = NetworkSecurityGroup(self, "node-nsg", name=f"{props.name}-nodes", location=props.location, resource_group_name=props.resource_group_name, tags=props.tags)
        nsg.override_logical_id("node_nsg")
        SubnetNetworkSecurityGroupAssociation(self, "node-nsg-association", subnet_id=self.node_subnet.id, network_security_group_id=nsg.id).override_logical_id("node_nsg")
        if props.serves_https:
            # AKS opens its own security group (in the node resource group) to a LoadBalancer
            # Service, never a subnet's security group of the user's: requests to the app routing
            # add-on's load balancer would stop here (Azure/AKS#674). HTTPS only: the Ingress
            # serves TLS, and HTTP is not needed by clients or by Route 53's HTTPS checks.
            NetworkSecurityRule(
                self, "https-from-internet", name="allow-https-from-internet", priority=100, direction="Inbound", access="Allow", protocol="Tcp",
                source_address_prefix="Internet", source_port_range="*", destination_address_prefix="*", destination_port_range="443",
                resource_group_name=props.resource_group_name, network_security_group_name=nsg.name,
            ).override_logical_id("node_nsg_https")
