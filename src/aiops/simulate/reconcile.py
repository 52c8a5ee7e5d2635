"""Reconcile an environment's Flux tree on the simulated control plane, the way Flux would.

The Kustomizations, their builds and their order come from `aiops flux check` (the same
builds, made by kustomize-controller's own build code). Each Kustomization is applied after
the one that applies it and after those it `dependsOn`, server-side as kustomize-controller
(flux-apply), with its owner labels; the HelmReleases it applies are then installed from their
pinned charts (helm.py) in their own dependsOn order, and a Kustomization with `wait: true`
waits for the health of everything it applied before the next one starts. Flux's own CRDs
are installed first, as `flux bootstrap` would.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aiops.simulate.api import Api, ApiError
from aiops.simulate.apply import HELM_CONTROLLER, KUSTOMIZE_CONTROLLER, Applier
from aiops.simulate.binaries import MissingBinary
from aiops.simulate.control_plane import ControlPlane, ControlPlaneError
from aiops.simulate.helm import HelmError, install_order, release_of, render
from aiops_constructs.k8s.charts import NOT_IN_MIRROR

_NOT_IN_MIRROR = {(source.chart, source.version) for source in NOT_IN_MIRROR}
from aiops.simulate.host_operators import HostOperators
from aiops.simulate.scale import stuck_detector

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
FLUX_STATUS_MANAGER = "aiops-simulate (in place of Flux's controllers)"
AGGREGATED_DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9"


@dataclass
class Step:
    """One thing applied: a Kustomization or a HelmRelease, and how it went."""

    kind: str  # Kustomization | HelmRelease | Flux CRDs
    name: str  # namespace/name
    objects: int = 0
    ok: bool = True
    error: str = ""
    seconds: float = 0.0
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "objects": self.objects, "ok": self.ok, "error": self.error,
                "seconds": round(self.seconds, 1), "leftOut": self.left_out, "notes": self.notes}


class Discovery:
    """What the API server serves: group versions, and which kinds are namespaced."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.refresh()

    def refresh(self) -> None:
        """Read discovery again: two requests for the whole server (aggregated discovery, as
        client-go reads it), not one per group version."""
        self.group_versions: list[str] = []
        self.namespaced: dict[tuple[str, str], bool] = {}
        self.plural: dict[tuple[str, str], str] = {}
        for path in ("/api", "/apis"):
            listing = self.api.request("GET", path, accept=AGGREGATED_DISCOVERY)
            if listing.get("kind") != "APIGroupDiscoveryList":
                raise ApiError(406, path, f"the API server answered {listing.get('kind')!r}, not the aggregated discovery asked for")
            for group in listing.get("items") or []:
                name = (group.get("metadata") or {}).get("name") or ""
                for version in group.get("versions") or []:
                    gv = f"{name}/{version['version']}" if name else version["version"]
                    self.group_versions.append(gv)
                    for resource in version.get("resources") or []:
                        kind = (resource.get("responseKind") or {}).get("kind")
                        if kind:
                            self.namespaced[(gv, kind)] = resource.get("scope") == "Namespaced"
                            self.plural[(gv, kind)] = resource["resource"]

    def path(self, obj: dict[str, Any]) -> str:
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        meta = obj.get("metadata") or {}
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        namespace = f"/namespaces/{meta.get('namespace') or 'default'}" if self.namespaced.get((api_version, kind), True) else ""
        return f"{base}{namespace}/{self.plural[(api_version, kind)]}/{meta['name']}"

    def set_namespace(self, objects: list[dict[str, Any]], namespace: str) -> None:
        """Put namespaced objects without a namespace into `namespace`, as Helm's install does."""
        for obj in objects:
            meta = obj.setdefault("metadata", {})
            if not meta.get("namespace") and self.namespaced.get((obj.get("apiVersion", ""), obj.get("kind", "")), True):
                meta["namespace"] = namespace


def flux_crds() -> list[dict[str, Any]]:
    folder = Path(sys.executable).parent.parent / "share" / "aiops" / "schemas" / "crd-sources" / "flux"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise MissingBinary(f"Flux's CRDs are not in the schema cache ({folder}): run `make setup`")
    return [doc for f in files for doc in yaml.safe_load_all(f.read_text()) if doc]


class Reconciler:
    def __init__(self, plane: ControlPlane, kubernetes_version: str, *, wait_cap: float = 120, log=lambda message: None) -> None:
        self.plane = plane
        # Flux waits up to each Kustomization's and HelmRelease's timeout (10 or 15 minutes here);
        # in the simulation nothing changes once the scheduler has decided (no cluster-autoscaler
        # adds nodes), so a health check that has not passed within this cap never will.
        self.wait_cap = wait_cap
        self.log = log
        self.kubernetes_version = kubernetes_version  # full, e.g. 1.36.3
        self.hosts = HostOperators(plane)
        self.applier = Applier(plane)
        self.steps: list[Step] = []

    def run(self, cluster) -> list[Step]:
        """Reconcile `cluster` (an aiops.flux.check.Cluster) once, in Flux's order; returns the steps."""
        # What `flux bootstrap` installs before the first sync: the flux-system namespace and
        # Flux's CRDs (its controllers do not run here; this module does their work).
        step = Step("Flux bootstrap", "flux-system namespace and CRDs")
        crds = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, *flux_crds()]
        result = self._apply(crds, field_manager="flux-bootstrap", wait=True, timeout="1m")
        step.objects, step.ok, step.error, step.seconds = len(crds), result.ok, result.apply_error or result.health_error, result.seconds
        self.steps.append(step)
        if not step.ok:
            return self.steps
        self.discovery = Discovery(self.plane.api)
        # As Flux: a Kustomization that failed leaves its objects as far as they got; the ones it
        # would apply never exist, and the ones that dependOn it wait ("dependency ... is not ready").
        not_ready: set[tuple[str, str]] = set()
        by_name = {s.kustomization.describe(): s.kustomization.key for s in cluster.kustomizations.values()}
        for state in _order(cluster):
            k = state.kustomization
            if state.applied_by and by_name.get(state.applied_by) in not_ready:
                not_ready.add(k.key)  # never created
                continue
            blocked = [f"{ns}/{name}" for ns, name in k.depends_on if (ns, name) in not_ready]
            if blocked:
                self.steps.append(Step("Kustomization", k.describe(), ok=False, error=f"dependency '{blocked[0]}' is not ready"))
                not_ready.add(k.key)
                continue
            if not self._kustomization(state):
                not_ready.add(k.key)
        return self.steps

    def _apply(self, objects: list[dict[str, Any]], **options):
        """apply(), and a copy of what was applied in the control plane's folder (applied/NNN.yaml,
        in order), which `--keep` leaves for a look and scripts/bench_simulate.py replays."""
        record = self.plane.folder / "applied"
        record.mkdir(exist_ok=True)
        number = len(list(record.iterdir()))
        return self.applier.apply(objects, record=record / f"{number:03d}-{options['field_manager']}.yaml", **options)

    def _timeout(self, flux_timeout: str) -> str:
        return f"{min(_seconds(flux_timeout), self.wait_cap):.0f}s"

    def _timed(self, work, *args) -> bool:
        """Run one step's work; its seconds are its wall-clock time, less the steps it ran
        itself (a Kustomization's HelmReleases are steps of their own)."""
        began, first = time.monotonic(), len(self.steps)
        try:
            return work(*args)
        finally:
            if len(self.steps) > first:
                self.steps[first].seconds = time.monotonic() - began - sum(s.seconds for s in self.steps[first + 1:])

    def _kustomization(self, state) -> bool:
        return self._timed(self._reconcile_kustomization, state)

    def _reconcile_kustomization(self, state) -> bool:
        k = state.kustomization
        step = Step("Kustomization", f"{k.namespace}/{k.name}")
        self.steps.append(step)
        self.log(f"Kustomization {step.name}: applying")
        if state.status != "built":
            step.ok, step.error = False, f"not built by aiops flux check ({state.status}): {state.reason or 'see aiops flux check'}"
            return False
        objects = [dict(o.body) for o in state.objects]
        step.objects = len(objects)
        owner = (KUSTOMIZE_GROUP, k.name, k.namespace)
        result = self._apply(objects, field_manager=KUSTOMIZE_CONTROLLER, owner=owner)
        if result.apply_error:
            step.ok, step.error = False, result.apply_error
            return False
        for obj in objects:
            if str(obj.get("apiVersion", "")).startswith(SOURCE_GROUP + "/"):
                # source-controller's part: the simulation serves every source from this revision
                # and the pinned chart mirror, so each is Ready as soon as it exists.
                self._mark(obj, True, "Succeeded", "stored artifact (aiops simulate: this revision, or the pinned chart)")
        releases = []
        for obj in objects:
            if obj.get("kind") == "HelmRelease" and str(obj.get("apiVersion", "")).startswith("helm.toolkit.fluxcd.io/"):
                try:
                    releases.append(release_of(obj, objects))
                except HelmError as exc:
                    step.ok, step.error = False, str(exc)
                    return False
        by_key = {((o.get("metadata") or {}).get("namespace"), (o.get("metadata") or {}).get("name")): o for o in objects if o.get("kind") == "HelmRelease"}
        for release in install_order(releases):
            installed = self._timed(self._release, release)
            last = self.steps[-1]
            self._mark(by_key[(release.namespace, release.name)], installed, "InstallSucceeded" if installed else "InstallFailed",
                       f"Helm install succeeded for release {release.target_namespace}/{release.release_name} (aiops simulate)" if installed else last.error)
            if not installed:
                step.ok, step.error = False, f"{release.describe()} failed"
                return False
        # The host-run operators start while the other releases install; what the next
        # Kustomizations apply needs them (Kueue's webhooks validate its queues, KubeRay makes
        # the RayClusters' pods), so this one is not done before they are ready.
        try:
            self.hosts.wait_ready()
        except ControlPlaneError as exc:
            step.ok, step.error = False, str(exc)
            return False
        if k.wait or k.health_checks:
            result = self._apply(objects, field_manager=KUSTOMIZE_CONTROLLER, owner=owner, wait=True,
                           timeout=self._timeout(str((k.manifest.body.get("spec") or {}).get("timeout") or "5m")), give_up=stuck_detector(self.plane.api))
            if not result.ok:
                step.ok, step.error = False, result.apply_error or f"health check failed: {result.health_error}"
                return False
        self._mark(dict(k.manifest.body), True, "ReconciliationSucceeded", "Applied revision (aiops simulate)")
        return True

    def _mark(self, obj: dict[str, Any], ready: bool, reason: str, message: str) -> None:
        """Write the Ready condition Flux's controller would write on one of its objects (the
        health checks of the Kustomizations that apply them read it, through kstatus)."""
        try:
            live = self.plane.api.get(self.discovery.path(obj))
        except (ApiError, KeyError):
            return  # not in the cluster (a Kustomization created by hand, say): nothing to mark
        generation = live["metadata"].get("generation", 1)
        condition = {"type": "Ready", "status": "True" if ready else "False", "reason": reason, "message": message[:1000],
                     "observedGeneration": generation, "lastTransitionTime": live["metadata"].get("creationTimestamp")}
        self.plane.api.merge_patch(self.discovery.path(obj) + "/status", {"status": {"observedGeneration": generation, "conditions": [condition]}},
                                   field_manager=FLUX_STATUS_MANAGER)

    def _release(self, release) -> bool:
        step = Step("HelmRelease", f"{release.namespace}/{release.name}", notes=list(release.notes))
        self.steps.append(step)
        if (release.chart, release.version) in _NOT_IN_MIRROR:
            # Installed on the real cluster from its repository, but its package is not in the
            # offline mirror the simulation renders from: said, not guessed at.
            step.notes.insert(0, f"not rendered: chart {release.chart} {release.version} is not in the offline chart mirror "
                                 "(aiops_constructs.k8s.charts.NOT_IN_MIRROR); none of its objects exist in this simulation")
            self.log(f"HelmRelease {step.name}: not rendered (chart {release.chart} {release.version} is not in the mirror)")
            return True
        self.log(f"HelmRelease {step.name}: installing chart {release.chart} {release.version}")
        try:
            crds, objects, hooks = render(release, self.kubernetes_version, self.discovery.group_versions)
        except HelmError as exc:
            step.ok, step.error = False, str(exc)
            return False
        step.notes.insert(0, f"chart {release.chart} {release.version}")
        # A host-run operator is configured before its chart's CRDs and webhooks are applied (they
        # name its address on the host), started once the CRDs exist, and waited for once the
        # webhooks exist (Kueue is not ready before).
        self.discovery.set_namespace(objects, release.target_namespace)
        self.discovery.set_namespace(hooks, release.target_namespace)
        step.notes += self.hosts.configure(release.chart, release.target_namespace, objects)
        if crds:
            prepared_crds = self.hosts.prepare_crds(crds)
            step.notes += prepared_crds.notes
            result = self._apply(prepared_crds.objects, field_manager=HELM_CONTROLLER, helm=True, wait=True, timeout=self._timeout(release.timeout))
            if not result.ok:
                step.ok, step.error = False, f"CRDs: {result.apply_error or result.health_error}"
                return False
            self.discovery.refresh()
            for obj in (*objects, *hooks):  # kinds the CRDs just added may be cluster-scoped
                if (obj.get("apiVersion"), obj.get("kind")) in self.discovery.namespaced and not self.discovery.namespaced[(obj["apiVersion"], obj["kind"])]:
                    obj["metadata"].pop("namespace", None)
            self.discovery.set_namespace(objects, release.target_namespace)
            self.discovery.set_namespace(hooks, release.target_namespace)
        self.hosts.launch()
        prepared = self.hosts.prepare(release.chart, objects)
        hooks_prepared = self.hosts.prepare(release.chart, hooks)
        step.left_out, step.notes = prepared.left_out + hooks_prepared.left_out, step.notes + prepared.notes
        step.objects = len(crds) + len(prepared.objects) + len(hooks_prepared.objects)
        for batch in (prepared.objects, hooks_prepared.objects):
            if not batch:
                continue
            result = self._apply(batch, field_manager=HELM_CONTROLLER, helm=True, wait=release.wait, timeout=self._timeout(release.timeout),
                           give_up=stuck_detector(self.plane.api))
            if not result.ok:
                step.ok, step.error = False, result.apply_error or f"not ready within {release.timeout}: {result.health_error}"
                return False
        return True


def _seconds(duration: str) -> float:
    """A Flux duration ("10m", "1h30m", "90s") in seconds."""
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for char in duration:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total, number = total + float(number) * units[char], ""
    return total or 300.0


def _order(cluster) -> list:
    """The cluster's Kustomizations in the order Flux reconciles them: after the one that applies
    each, and after its dependsOn; ties in discovery order."""
    states = list(cluster.kustomizations.values())
    by_name = {s.kustomization.describe(): s.kustomization.key for s in states}
    parent_of = {s.kustomization.key: by_name.get(s.applied_by) for s in states if s.applied_by}
    done: list = []
    keys: set = set()
    remaining = states[:]
    while remaining:
        progressed = False
        for state in list(remaining):
            k = state.kustomization
            needs = {d for d in k.depends_on} | ({parent_of[k.key]} if parent_of.get(k.key) else set())
            if needs <= keys:
                done.append(state)
                keys.add(k.key)
                remaining.remove(state)
                progressed = True
        if not progressed:  # a cycle or a missing dependency: flux check reports it; apply the rest as listed
            done += remaining
            break
    return done
