"""The Key Vault that holds a serving AKS cluster's TLS certificate, readable by the app routing add-on.

The application routing add-on terminates TLS with a certificate from Key Vault: its Ingress
names the certificate (`kubernetes.azure.com/tls-cert-keyvault-uri`, k8s/serving_ingress.py)
and the add-on syncs it into a Secret through the Key Vault provider of the Secrets Store CSI
driver (learn.microsoft.com/azure/aks/app-routing-dns-ssl: "Enable Azure Key Vault
integration" turns on that provider and gives the add-on's managed identity a role on the
vault). Here that is:

- the vault (Azure RBAC, purge protection, reachable only from the node subnet through its
  service endpoint and from the control plane's authorized ranges, where the platform team
  imports or renews certificates);
- "Key Vault Secrets User" for the add-on's identity (`web_app_routing_identity`): the CSI
  provider reads a certificate with its private key through the certificate's secret;
- "Key Vault Certificates Officer" for `controlPlane.admins`, who put the certificate there.

The certificate itself is not generated: a publicly trusted certificate of the client name
must come from a CA, which Key Vault issues and renews by itself only with an issuer account of
a partner CA (DigiCert or GlobalSign) that this project cannot hold. The runbook says how to
import one; until then the add-on has nothing to serve and NGINX answers HTTPS with its own
default certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktn_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from aiops_constructs.terraform.props import terraform_id

SECRETS_READER_ROLE = "Key Vault Secrets User"
CERTIFICATE_ADMIN_ROLE = "Key Vault Certificates Officer"
SOFT_DELETE_DAYS = 90  # the longest Key Vault keeps a deleted certificate recoverable


@dataclass(frozen=True)
class ServingVaultProps:
    name: str  # globally unique (aiops_constructs.serving_tls.key_vault_name)
    location: str
    resource_group_name: str
    node_subnet_id: str  # has the Microsoft.KeyVault service endpoint
    add_on_identity: str  # object id of the app routing add-on's managed identity
    admins: tuple[str, ...]  # Entra ID group object ids (controlPlane.admins)
    allowed_cidrs: tuple[str, ...]  # controlPlane.authorizedCidrs: where the team imports from
    tags: dict[str, str]


class ServingVault(Construct):
    def __init__(self, scope: Construct, id: str, *, props: ServingVaultProps) -> None:
        super().__init__(scope, id)
        client = DataAzurermClientConfig(self, "client")
        client.override_logical_id("current")
        self.vault = KeyVault(
            self, "vault",
            name=props.name, location=props.location, resource_group_name=props.resource_group_name,
            tenant_id=client.tenant_id, sku_name="standard",
            rbac_authorization_enabled=True, purge_protection_enabled=True, soft_delete_retention_days=SOFT_DELETE_DAYS,
            network_acls=KeyVaultNetworkAcls(default_action="Deny", bypass="AzureServices",
                                             ip_rules=list(props.allowed_cidrs), virtual_network_subnet_ids=[props.node_subnet_id]),
            tags=props.tags,
        )
        self.vault.override_logical_id("serving_vault")
        reader = RoleAssignment(self, "add-on-reads", scope=self.vault.id, role_definition_name=SECRETS_READER_ROLE, principal_id=props.add_on_identity)
        reader.override_logical_id("serving_vault_app_routing")
        for index, admin in enumerate(props.admins):
            RoleAssignment(self, f"admin-{index}", scope=self.vault.id, role_definition_name=CERTIFICATE_ADMIN_ROLE,
                           principal_id=admin).override_logical_id(terraform_id("serving_vault_admin", str(index)))
