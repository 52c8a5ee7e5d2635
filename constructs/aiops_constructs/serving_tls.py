"""Where a serving workload's TLS certificate lives, named once for both sides.

- EKS: an ACM certificate of the client name, issued and renewed by ACM with DNS validation in
  the primary's traffic stack (terraform/traffic/failover_dns.py); the AWS Load Balancer
  Controller finds it by the Ingress's TLS host, so no ARN appears in a manifest.
- AKS: a certificate in a Key Vault the AKS stack creates (terraform/aks/serving_vault.py); the
  application routing add-on reads it through the annotation
  `kubernetes.azure.com/tls-cert-keyvault-uri`, whose value is the certificate's URI without a
  version, `https://<vault>.vault.azure.net/certificates/<name>`, so that the add-on follows
  renewals (learn.microsoft.com/azure/aks/app-routing-dns-ssl, "Create the Ingress that uses a
  host name and a certificate from Azure Key Vault"). Both names derive from the model.
- GKE (a primary on Google Cloud): a Google-managed certificate of the client name and a global
  static address, both made by the primary's traffic stack (terraform/traffic/cloud_dns.py),
  which the GKE Ingress names (`ingress.gcp.kubernetes.io/pre-shared-cert`,
  `kubernetes.io/ingress.global-static-ip-name`): `gke_certificate_name`, `gke_address_name`.
"""

from __future__ import annotations

import re

_VAULT_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")  # Key Vault: 3-24, letters, digits, '-'


def key_vault_name(environment: str) -> str:
    """The Key Vault of `environment`'s serving certificates (Key Vault names are global)."""
    name = f"{environment}-serving"
    if not _VAULT_NAME.match(name):
        raise ValueError(f"the Key Vault name '{name}' is not 3-24 letters, digits and single '-'; use an environment name of at most 16 characters")
    return name


def certificate_name(workload: str) -> str:
    """The Key Vault certificate of a serving workload."""
    return f"{workload}-tls"


def key_vault_certificate_uri(environment: str, workload: str) -> str:
    return f"https://{key_vault_name(environment)}.vault.azure.net/certificates/{certificate_name(workload)}"


def gke_address_name(environment: str, workload: str) -> str:
    """The global static address of a GKE primary's serving Ingress (a Compute Engine name)."""
    return f"{environment}-{workload}"


def gke_certificate_name(environment: str, workload: str) -> str:
    """The Google-managed certificate of a GKE primary's client name."""
    return f"{environment}-{workload}-tls"
