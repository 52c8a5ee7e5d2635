"""Operators whose real controller runs on the host, beside the simulated control plane.

KWOK only pretends to run pods, so a chart's operator Deployment lands on a node (and takes its
share of it) but its code never runs there. For the operators whose work the simulation is
about, the same program runs on the host instead, built from its Go module by the set-up, with
the chart's own configuration and flags; only what ties it to a pod changes (addresses on
127.0.0.1, no leader election, our certificates instead of its self-signed ones):

- Kueue (chart kueue): its controller manager with the chart's ConfigMap; the chart's webhook
  configurations are pointed at it (url on 127.0.0.1 and our CA) instead of its Service.
- KubeRay (chart kuberay-operator): the operator with the chart's Deployment arguments.

Every other webhook configuration and APIService of a chart is served by a pod that does not
really run; the API server would call it and fail, so they are left out, and the report says
which. Charts whose controllers do not run at all are listed in NOT_RUN with what that leaves
out of the simulation.
"""

from __future__ import annotations

import base64
import copy
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import yaml

from aiops.simulate.binaries import tool
from aiops.simulate.api import ApiError
from aiops.simulate.control_plane import ControlPlane, ControlPlaneError, free_port

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")

# Feature gates the chart's operator version knows but the host-run operator does not; all are
# off in the chart's defaults, so dropping them does not change what the operator does.
KUBERAY_HOST_VERSION = "v1.6.1"

NOT_RUN = {
    "gpu-operator": "NVIDIA's GPU operator does not run: the DaemonSets it makes from its ClusterPolicy (driver, container toolkit, device plugin, DCGM exporter, GPU feature discovery, validator) do not exist, so their share of each GPU node is not counted; each GPU node advertises nvidia.com/gpu itself, as the device plugin would",
    "kube-prometheus-stack": "the Prometheus operator does not run: the Prometheus and Alertmanager StatefulSets it makes from its custom resources do not exist, so their requests are not counted",
    "dask-kubernetes-operator": "the Dask operator does not run: DaskClusters make no scheduler or worker pods, so Dask placement and its PodDisruptionBudget are not measured",
}


@dataclass
class Prepared:
    objects: list[dict[str, Any]]
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class HostOperators:
    """The host-run operators of one control plane, started as their charts are installed."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.webhook_ports: dict[str, int] = {}  # service name -> port of the host process serving it
        self.ca_bundles: dict[str, str] = {}  # service name -> base64 CA of the certificate it serves
        self._launches: list[tuple[str, list[str], str]] = []  # configured, not started yet
        self._pending_ready: list[tuple[str, Any, str]] = []
        self.started: list[str] = []

    # -- before the chart's objects are applied ------------------------------------------
    def configure(self, chart: str, release_namespace: str, objects: list[dict[str, Any]]) -> list[str]:
        """Get the host process of `chart` ready to start (its addresses, certificates and
        configuration); `launch` starts it. Returns notes for the report."""
        if chart == "kueue":
            return self._configure_kueue(release_namespace, objects)
        if chart == "kuberay-operator":
            return self._configure_kuberay(objects)
        return []

    def prepare(self, chart: str, objects: list[dict[str, Any]]) -> Prepared:
        """The chart's objects as they can be applied here: webhooks pointed at host processes,
        those and the APIServices that nothing serves left out."""
        prepared = Prepared([])
        for obj in objects:
            kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name", "")
            if kind in WEBHOOK_KINDS:
                rewritten = self._point_at_host(obj)
                if rewritten is None:
                    prepared.left_out.append(f"{kind}/{name} (served by a pod that does not run here)")
                    continue
                obj = rewritten
            elif kind == "APIService" and (obj.get("spec") or {}).get("service"):
                prepared.left_out.append(f"APIService/{name} (served by a pod that does not run here)")
                continue
            prepared.objects.append(obj)
        if chart in NOT_RUN:
            prepared.notes.append(NOT_RUN[chart])
        return prepared

    def _point_at_host(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        webhooks = obj.get("webhooks") or []
        services = [((w.get("clientConfig") or {}).get("service") or {}).get("name", "") for w in webhooks]
        if not webhooks or any(name not in self.webhook_ports for name in services):
            return None
        obj = copy.deepcopy(obj)
        for webhook, service in zip(obj["webhooks"], services, strict=True):
            webhook["clientConfig"] = self._client_config(service, webhook["clientConfig"]["service"].get("path", "/"))
        return obj

    def _client_config(self, service: str, path: str) -> dict[str, str]:
        return {"url": f"https://127.0.0.1:{self.webhook_ports[service]}{path}", "caBundle": self.ca_bundles[service]}

    def _conversion_at_host(self, crd: dict[str, Any]) -> dict[str, Any] | None:
        """A CRD whose conversion webhook is a Service: pointed at the host process serving it,
        or None when nothing does."""
        webhook = ((crd.get("spec") or {}).get("conversion") or {}).get("webhook") or {}
        service = ((webhook.get("clientConfig") or {}).get("service") or {}).get("name")
        if not service:
            return crd
        if service not in self.webhook_ports:
            return None
        crd = copy.deepcopy(crd)
        crd["spec"]["conversion"]["webhook"]["clientConfig"] = self._client_config(service, webhook["clientConfig"]["service"].get("path", "/"))
        return crd

    def prepare_crds(self, crds: list[dict[str, Any]]) -> Prepared:
        """CRDs whose conversion webhooks point at host processes; those served by nothing keep
        their Service (conversion between their versions then fails, as it would with the pod down)."""
        prepared = Prepared([])
        for crd in crds:
            converted = self._conversion_at_host(crd)
            if converted is None:
                prepared.notes.append(f"CustomResourceDefinition/{crd['metadata']['name']}: its conversion webhook is served by a pod that does not run here")
                converted = crd
            prepared.objects.append(converted)
        return prepared

    # -- Kueue -------------------------------------------------------------------------------
    def _configure_kueue(self, namespace: str, objects: list[dict[str, Any]]) -> list[str]:
        config_map = next((o for o in objects if o.get("kind") == "ConfigMap" and "controller_manager_config.yaml" in (o.get("data") or {})), None)
        if config_map is None:
            raise ControlPlaneError("the Kueue chart rendered no ConfigMap with controller_manager_config.yaml; cannot run Kueue with its configuration")
        config = yaml.safe_load(config_map["data"]["controller_manager_config.yaml"]) or {}
        certs = (config.get("internalCertManagement") or {})
        service = certs.get("webhookServiceName", "kueue-webhook-service")
        secret = certs.get("webhookSecretName", "kueue-webhook-server-cert")
        # Kueue manages its webhook certificate itself (cert-controller): it keeps a valid one it
        # finds in its Secret and serves the files in its certDir. So the simulation gives it one
        # made for both its Service name (what cert-controller checks) and 127.0.0.1 (where the
        # API server calls it), from a CA named as cert-controller expects.
        pki = self.plane.folder / "kueue-pki"
        subprocess.run([str(tool("flux-apply")), "certs", "--san", f"{service}.{namespace}.svc", "--ca-san", "kueue-ca", str(pki)], check=True, capture_output=True)
        data = {name: base64.b64encode((pki / name).read_bytes()).decode() for name in ("ca.crt", "ca.key", "tls.crt", "tls.key")}
        if not _exists(self.plane, f"/api/v1/namespaces/{namespace}"):
            self.plane.api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self.plane.api.create(f"/api/v1/namespaces/{namespace}/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": namespace}, "data": data})
        health, metrics, webhook = free_port(), free_port(), free_port()
        config["health"] = {**(config.get("health") or {}), "healthProbeBindAddress": f"127.0.0.1:{health}"}
        config["metrics"] = {**(config.get("metrics") or {}), "bindAddress": f"127.0.0.1:{metrics}"}
        config["webhook"] = {**(config.get("webhook") or {}), "host": "127.0.0.1", "port": webhook, "certDir": str(pki)}
        config["leaderElection"] = {**(config.get("leaderElection") or {}), "leaderElect": False}
        # The visibility API server authenticates through the cluster's delegated authentication,
        # which needs an in-cluster service account; its APIService is left out anyway.
        config["featureGates"] = {**(config.get("featureGates") or {}), "VisibilityOnDemand": False}
        config["namespace"] = namespace
        path = self.plane.folder / "kueue-config.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.webhook_ports[service] = webhook
        self.ca_bundles[service] = data["ca.crt"]
        self._launches.append(("kueue", [str(tool("kueue")), f"--config={path}", "--zap-log-level=2"], f"http://127.0.0.1:{health}/readyz"))
        return ["Kueue's controller manager runs on the host with the chart's configuration (its webhooks and CRD conversion on 127.0.0.1; the on-demand visibility API and its APIService left out)"]

    def launch(self) -> None:
        """Start the processes configured for the release being installed (after its CRDs)."""
        for name, argv, url in self._launches:
            component = self.plane.start(name, argv, env={"KUBECONFIG": str(self.plane.kubeconfig)})
            self._pending_ready.append((name, component, url))
            self.started.append(name)
        self._launches.clear()

    def wait_ready(self) -> None:
        """Wait for the processes launched for the release just applied (Kueue is ready only
        once its webhook configurations exist and carry its CA)."""
        for name, component, url in self._pending_ready:
            _wait_http(name, component, url)
        self._pending_ready.clear()

    # -- KubeRay -----------------------------------------------------------------------------
    def _configure_kuberay(self, objects: list[dict[str, Any]]) -> list[str]:
        deployment = next((o for o in objects if o.get("kind") == "Deployment"), None)
        if deployment is None:
            raise ControlPlaneError("the kuberay-operator chart rendered no Deployment; cannot run the operator with its arguments")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        known = _kuberay_gates()
        args, dropped = [], []
        for arg in container.get("args") or []:
            if arg.startswith("--enable-leader-election"):
                continue
            if arg.startswith("--feature-gates="):
                gates = [g for g in arg.split("=", 1)[1].split(",") if g]
                dropped = [g for g in gates if g.split("=")[0] not in known]
                arg = "--feature-gates=" + ",".join(g for g in gates if g.split("=")[0] in known)
            args.append(arg)
        health = free_port()
        argv = [str(tool("ray-operator")), *args, "--enable-leader-election=false", f"--metrics-addr=127.0.0.1:{free_port()}",
                f"--health-probe-bind-address=127.0.0.1:{health}", f"--kubeconfig={self.plane.kubeconfig}"]
        self._launches.append(("kuberay-operator", argv, f"http://127.0.0.1:{health}/readyz"))
        image = container.get("image", "")
        note = (f"the KubeRay operator runs on the host at {KUBERAY_HOST_VERSION}, the newest release the Go module proxy serves; "
                f"the chart installs {image.rsplit(':', 1)[-1] or 'another version'}")
        if dropped:
            note += f" (feature gates it does not know, left out: {', '.join(dropped)})"
        return [note]


def _kuberay_gates() -> set[str]:
    # The gates of ray-operator v1.6.1 (pkg/features/features.go).
    return {"RayClusterStatusConditions", "RayJobDeletionPolicy", "RayMultiHostIndexing", "RayServiceIncrementalUpgrade", "RayCronJob", "AsyncJobInfoQuery"}


def _exists(plane: ControlPlane, path: str) -> bool:
    try:
        plane.api.get(path)
        return True
    except ApiError:
        return False


def _wait_http(what: str, component, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if component.process.poll() is not None:
            raise ControlPlaneError(f"{what} exited with status {component.process.returncode} while starting; its log ends:\n{component.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise ControlPlaneError(f"{what} did not become ready within {timeout:.0f} s; its log ends:\n{component.tail()}")
