"""How requests reach a serving workload from outside its cluster: an Ingress, and the
NetworkPolicy that lets the ingress controller's traffic in.

networking.k8s.io/v1 Ingress rather than a Gateway API route: the schema cache (and so
kubeconform, and the simulation's API server) knows Ingress, while the Gateway API CRDs are in
neither the mirror nor the clusters by default; and each cloud has a managed controller for it:

- AKS: the application routing add-on (managed NGINX, class `webapprouting.kubernetes.azure.com`),
  enabled by the AKS stack; its controller pods run in `app-routing-system`.
- EKS: the AWS Load Balancer Controller (class `alb`), an internet-facing ALB sending to the pods'
  IPs (`target-type: ip`), so requests arrive from the VPC's addresses. The controller itself
  is not installed by this project yet (its chart is not in the pinned chart set; see the
  README's Failover section).
- GKE: the built-in GKE Ingress controller (`gce`), which GKE selects by annotation; its load
  balancers reach the pods from Google's documented front-end ranges.

The rule has no host, so the workload answers on the load balancer's own name (what Route 53's
health check asks for) and on the client name that points at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.catalog import CLOUDS, Cloud
from aiops_constructs.k8s.pods import labels

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
    load_balancer_group: str = "aiops-serving"  # EKS: one ALB for the cluster's serving Ingresses


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
            spec["ingressClassName"] = INGRESS_CLASSES["aws"]
        elif props.cloud == "azure":
            spec["ingressClassName"] = INGRESS_CLASSES["azure"]
        else:  # GKE's own controller is chosen by the annotation, not by an IngressClass
            annotations = {"kubernetes.io/ingress.class": INGRESS_CLASSES["gcp"]}
        metadata: dict[str, Any] = {"name": props.name, "namespace": props.namespace, "labels": object_labels}
        if annotations:
            metadata["annotations"] = annotations
        spec["rules"] = [{
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": props.name, "port": {"number": props.port}}}}]},
        }]
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
