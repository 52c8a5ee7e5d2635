"""How requests reach a serving workload from outside its cluster: an Ingress, and the
NetworkPolicy that lets the ingress controller's traffic in.

networking.k8s.io/v1 Ingress rather than a Gateway API route: the schema cache (and so
kubeconform, and the simulation's API server) knows Ingress, while the Gateway API CRDs are in
neither the mirror nor the clusters by default; and each cloud has a managed controller for it:

- AKS: the application routing add-on (managed NGINX, class `webapprouting.kubernetes.azure.com`),
  enabled by the AKS stack; its controller pods run in `app-routing-system`.
- EKS: the AWS Load Balancer Controller (class `alb`, installed by k8s/load_balancer_controller.py),
  an internet-facing ALB sending to the pods' IPs (`target-type: ip`), so requests arrive from
  the VPC's addresses. The Ingress joins the IngressGroup whose tag the traffic stack looks the
  ALB up by (aiops_constructs/load_balancer_controller_identity.py).
- GKE: the built-in GKE Ingress controller (`gce`), which GKE selects by annotation; its load
  balancers reach the pods from Google's documented front-end ranges.

Two rules to the same Service: one for the client name, and one without a host, so that the
workload also answers on the load balancer's own name, which is what Route 53's health check
asks for (its Host header and SNI are the load balancer's name).

TLS (`tls_host`, the client name, when the environment is one side of a failover pair):

- EKS: an HTTPS listener on 443 (`listen-ports`) with HTTP redirected to it (`ssl-redirect`); no
  `certificate-arn`: the controller attaches the ACM certificate that matches the `tls` host
  ("Certificate Discovery": "TLS certificates for ALB Listeners can be automatically discovered
  with hostnames from Ingress resources if ... alb.ingress.kubernetes.io/certificate-arn
  annotation is not specified"; "You need to explicitly specify to use HTTPS listener with
  listen-ports annotation", kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/
  ingress/cert_discovery). The certificate is issued in the primary's traffic stack.
- AKS: `kubernetes.azure.com/tls-cert-keyvault-uri` names the Key Vault certificate, and the
  `tls` entry's secretName must be "`keyvault-` followed by the value of the Ingress resource
  name" (learn.microsoft.com/azure/aks/app-routing-dns-ssl): the add-on syncs the certificate
  into that Secret.
- GKE (a primary on Google Cloud): the Google-managed certificate and global static address its
  traffic stack makes, named by `ingress.gcp.kubernetes.io/pre-shared-cert` and
  `kubernetes.io/ingress.global-static-ip-name` (cloud.google.com/kubernetes-engine/docs/how-to/
  managed-certs, "pre-shared certificates"); no `tls` entry, which would name a Secret. A GKE
  standby is not given TLS (its address is the standby's `standbyAddress`, outside this build).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.catalog import CLOUDS, Cloud
from aiops_constructs.k8s.pods import labels
from aiops_constructs.load_balancer_controller_identity import INGRESS_GROUP

AWS_HTTPS_PORT = 443

INGRESS_CLASSES: dict[str, str] = {"aws": "alb", "azure": "webapprouting.kubernetes.azure.com", "gcp": "gce"}
# Where each cloud's ingress traffic comes from, for the NetworkPolicy: the controller's namespace
# (NGINX in-cluster) or, for a load balancer that targets pod IPs, the network's addresses.
AKS_APP_ROUTING_NAMESPACE = "app-routing-system"
# Google Cloud's load balancers (and their health checks) reach pods from these ranges
# (cloud.google.com/load-balancing/docs/health-check-concepts, "Probe IP ranges and firewall rules").
GCP_LOAD_BALANCER_RANGES = ("130.211.0.0/22", "35.191.0.0/16")


@dataclass(frozen=True)
class ServingIngressProps:
    cloud: Cloud
    name: str  # the workload: its Service and pods carry this name
    namespace: str
    port: int  # the Service port (= the container port)
    health_path: str  # the readiness path, which the load balancer's own health check asks too
    component: str = "inference"
    source_cidr: str | None = None  # EKS: the VPC, whose addresses the ALB sends from
    load_balancer_group: str = INGRESS_GROUP  # EKS: one ALB for the cluster's serving Ingresses
    tls_host: str | None = None  # the client name: an HTTPS listener with its certificate (EKS, AKS)
    key_vault_certificate: str | None = None  # AKS: the certificate's URI without a version (serving_tls.py)
    gke_certificate: str | None = None  # GKE: the Google-managed certificate's name (serving_tls.py)
    gke_address: str | None = None  # GKE: the global static address's name (serving_tls.py)


class ServingIngress(Construct):
    """An `Ingress` to the workload's Service and a `NetworkPolicy` admitting its controller."""

    def __init__(self, scope: Construct, id: str, *, props: ServingIngressProps) -> None:
        super().__init__(scope, id)
        who = f"ServingIngress '{props.name}'"
        if props.cloud not in CLOUDS:
            raise ValueError(f"{who}: cloud must be one of {', '.join(CLOUDS)}, got {props.cloud!r}")
        if not 1 <= props.port <= 65535:
            raise ValueError(f"{who}: port must be between 1 and 65535, got {props.port}")
        if not props.health_path.startswith("/"):
            raise ValueError(f"{who}: health_path must be an HTTP path starting with '/', got {props.health_path!r}")
        if props.cloud == "aws" and not props.source_cidr:
            raise ValueError(f"{who}: on EKS the ALB sends from the VPC's addresses; give source_cidr (the VPC's CIDR)")
        if props.cloud == "gcp" and (props.tls_host is None) != (props.gke_certificate is None or props.gke_address is None):
            raise ValueError(f"{who}: on GKE give tls_host with gke_certificate and gke_address (the primary's traffic stack makes both)")
        if props.cloud == "azure" and (props.tls_host is None) != (props.key_vault_certificate is None):
            raise ValueError(f"{who}: on AKS give tls_host and key_vault_certificate together (the add-on serves the Key Vault certificate for that host)")
        if props.key_vault_certificate is not None and not (props.key_vault_certificate.startswith("https://") and "/certificates/" in props.key_vault_certificate):
            raise ValueError(f"{who}: key_vault_certificate must be a Key Vault certificate URI like https://<vault>.vault.azure.net/certificates/<name>, got {props.key_vault_certificate!r}")

        object_labels = labels(props.name, props.component)
        annotations: dict[str, str] = {}
        spec: dict[str, Any] = {}
        if props.cloud == "aws":
            annotations = {
                "alb.ingress.kubernetes.io/scheme": "internet-facing",
                "alb.ingress.kubernetes.io/target-type": "ip",
                "alb.ingress.kubernetes.io/group.name": props.load_balancer_group,
                "alb.ingress.kubernetes.io/healthcheck-path": props.health_path,
            }
            if props.tls_host:
                annotations["alb.ingress.kubernetes.io/listen-ports"] = json.dumps([{"HTTP": 80}, {"HTTPS": AWS_HTTPS_PORT}], separators=(",", ":"))
                annotations["alb.ingress.kubernetes.io/ssl-redirect"] = str(AWS_HTTPS_PORT)
            spec["ingressClassName"] = INGRESS_CLASSES["aws"]
        elif props.cloud == "azure":
            if props.key_vault_certificate:
                annotations = {"kubernetes.azure.com/tls-cert-keyvault-uri": props.key_vault_certificate}
            spec["ingressClassName"] = INGRESS_CLASSES["azure"]
        else:  # GKE's own controller is chosen by the annotation, not by an IngressClass
            annotations = {"kubernetes.io/ingress.class": INGRESS_CLASSES["gcp"]}
            if props.tls_host:  # a primary's: the address and certificate its traffic stack makes
                annotations["kubernetes.io/ingress.global-static-ip-name"] = props.gke_address  # type: ignore[assignment]
                annotations["ingress.gcp.kubernetes.io/pre-shared-cert"] = props.gke_certificate  # type: ignore[assignment]
        metadata: dict[str, Any] = {"name": props.name, "namespace": props.namespace, "labels": object_labels}
        if annotations:
            metadata["annotations"] = annotations
        paths = {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": props.name, "port": {"number": props.port}}}}]}
        if props.tls_host:
            tls: dict[str, Any] = {"hosts": [props.tls_host]}
            if props.cloud == "azure":
                tls["secretName"] = f"keyvault-{props.name}"
            if props.cloud != "gcp":  # GKE: the pre-shared certificate, not a Secret in `tls`
                spec["tls"] = [tls]
        spec["rules"] = ([{"host": props.tls_host, "http": paths}] if props.tls_host else []) + [{"http": paths}]
        ingress = ApiObject(self, "ingress", api_version="networking.k8s.io/v1", kind="Ingress", metadata=metadata)
        ingress.add_json_patch(JsonPatch.add("/spec", spec))

        if props.cloud == "azure":
            sources: list[dict[str, Any]] = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": AKS_APP_ROUTING_NAMESPACE}}}]
        elif props.cloud == "aws":
            sources = [{"ipBlock": {"cidr": props.source_cidr}}]
        else:
            sources = [{"ipBlock": {"cidr": cidr}} for cidr in GCP_LOAD_BALANCER_RANGES]
        if sources:
            policy = ApiObject(
                self, "network-policy", api_version="networking.k8s.io/v1", kind="NetworkPolicy",
                metadata={"name": f"{props.name}-from-ingress", "namespace": props.namespace, "labels": object_labels},
            )
            policy.add_json_patch(JsonPatch.add("/spec", {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": props.name}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": sources, "ports": [{"protocol": "TCP", "port": props.port}]}],
            }))
