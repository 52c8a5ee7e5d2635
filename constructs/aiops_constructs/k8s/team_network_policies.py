"""NetworkPolicies of one team namespace: nothing gets in but what the platform needs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_NAME = "kubernetes.io/metadata.name"  # the label the API server puts on every namespace


@dataclass(frozen=True)
class Peers:
    """Pods that reach each other on every port: one Ray cluster (GCS, raylets, object transfer,
    workers on ports Ray picks) or one Dask cluster (scheduler and workers connect both ways)."""

    name: str
    selector: Mapping[str, str]


@dataclass(frozen=True)
class ServedPorts:
    """Ports of some pods that clients reach: from any pod of the namespace itself, from the pods
    of `from_namespaces`, or, when that is None, from every namespace of the cluster."""

    name: str
    selector: Mapping[str, str]
    ports: tuple[int, ...]
    from_namespaces: tuple[str, ...] | None = ()


@dataclass(frozen=True)
class Scraper:
    """The Prometheus pods that scrape every pod's metrics (the Prometheus operator labels its
    pods `app.kubernetes.io/name: prometheus`)."""

    namespace: str = "monitoring"
    selector: Mapping[str, str] = field(default_factory=lambda: {"app.kubernetes.io/name": "prometheus"})


class TeamNetworkPolicies(Construct):
    """`NetworkPolicy` objects (networking.k8s.io/v1) for one team namespace.

    - `default-deny-ingress` selects every pod and allows nothing in, so a pod no other policy
      selects can be reached by nobody (egress is left open: DNS, the API server for the Ray
      autoscaler, registries and object stores).
    - `allow-prometheus`: the scraper's pods reach every pod on every port (it scrapes only what
      its ServiceMonitors and PodMonitors name).
    - one `<peers>-peers` per group of peers, and one policy per set of served ports.

    Policies add up (a connection is allowed when any policy allows it), so each stays small.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        peers: Sequence[Peers] = (),
        served: Sequence[ServedPorts] = (),
        scraper: Scraper | None = Scraper(),
    ) -> None:
        super().__init__(scope, id)
        who = f"TeamNetworkPolicies '{namespace}'"
        if not _NAME.match(namespace):
            raise ValueError(f"{who}: namespace '{namespace}' is not a valid namespace name")
        names = [f"{p.name}-peers" for p in peers] + [s.name for s in served]
        for name in names:
            if not _NAME.match(name) or name in ("default-deny-ingress", "allow-prometheus"):
                raise ValueError(f"{who}: policy name '{name}' is not a valid Kubernetes name or is taken by the platform's own policies")
            if names.count(name) > 1:
                raise ValueError(f"{who}: two policies are named '{name}'")
        for group in (*peers, *served):
            if not group.selector:
                raise ValueError(f"{who}: '{group.name}' has an empty selector, which would select every pod of the namespace; name the pods")
        for entry in served:
            if not entry.ports or any(not 1 <= port <= 65535 for port in entry.ports):
                raise ValueError(f"{who}: '{entry.name}' needs ports between 1 and 65535, got {list(entry.ports)}")
            for source in entry.from_namespaces or ():
                if not _NAME.match(source):
                    raise ValueError(f"{who}: '{entry.name}' allows namespace '{source}', which is not a valid namespace name")

        self._policy("default-deny-ingress", namespace, {}, [])
        if scraper is not None:
            if not scraper.selector:
                raise ValueError(f"{who}: the scraper's selector is empty; name the Prometheus pods")
            source = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: scraper.namespace}}, "podSelector": {"matchLabels": dict(scraper.selector)}}
            self._policy("allow-prometheus", namespace, {}, [{"from": [source]}])
        for group in peers:
            self._policy(f"{group.name}-peers", namespace, dict(group.selector), [{"from": [{"podSelector": {"matchLabels": dict(group.selector)}}]}])
        for entry in served:
            sources: list[dict] = [{"podSelector": {}}]  # any pod of this namespace
            if entry.from_namespaces is None:
                sources = [{"namespaceSelector": {}}]  # any pod of any namespace (this one included)
            elif entry.from_namespaces:
                sources.append({"namespaceSelector": {"matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": sorted(entry.from_namespaces)}]}})
            ports = [{"protocol": "TCP", "port": port} for port in entry.ports]
            self._policy(entry.name, namespace, dict(entry.selector), [{"from": sources, "ports": ports}])

    def _policy(self, name: str, namespace: str, selector: dict[str, str], ingress: list[dict]) -> None:
        policy = ApiObject(self, name, api_version="networking.k8s.io/v1", kind="NetworkPolicy", metadata={"name": name, "namespace": namespace})
        spec: dict = {"podSelector": {"matchLabels": selector} if selector else {}, "policyTypes": ["Ingress"]}
        if ingress:
            spec["ingress"] = ingress
        policy.add_json_patch(JsonPatch.add("/spec", spec))
