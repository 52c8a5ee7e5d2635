"""HelmReleases rendered with Helm from their pinned charts, as helm-controller would install them.

helm-controller cannot be built here (the Go module proxy does not serve it), so the
simulation does its part with the real Helm: `helm template` of the chart package pinned in
tools/charts.lock, with the release's name and namespace, `spec.values`, the CRDs when
`spec.install.crds` is not Skip, the environment's Kubernetes version and every API version
the simulated API server serves (what helm-controller's Capabilities would hold). The objects
are then created as helm-controller v1.6.3's Helm 4 creates them (server-side apply with
force, as helm-controller's field manager, no dry run; the CRDs one at a time and waited for
first; see tools/go/flux-apply/helm.go), and waited for as helm-controller waits (kstatus,
within `spec.timeout`). Install hooks are applied after the
chart's other objects; test hooks are left out, as helm-controller runs them only when
`spec.test.enable` is set. `valuesFrom` is not read (it lives in the cluster).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aiops.simulate.binaries import MissingBinary, tool

HOOK = "helm.sh/hook"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1 as the API server reads it: a lone `=` (the `value` type of YAML 1.1, which
    PyYAML refuses) is a string, as in the Prometheus operator's CRDs."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class HelmError(Exception):
    """A HelmRelease that cannot be rendered (its chart is not pinned, Helm refused it, ...)."""


@dataclass
class Release:
    name: str  # metadata.name of the HelmRelease
    namespace: str  # metadata.namespace
    release_name: str
    target_namespace: str
    chart: str
    version: str
    values: dict[str, Any]
    include_crds: bool
    timeout: str
    depends_on: list[tuple[str, str]]
    wait: bool
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"HelmRelease/{self.namespace}/{self.name}"


def charts_dir() -> Path:
    folder = Path(sys.executable).parent.parent / "share" / "aiops" / "charts"
    if not folder.is_dir():
        raise MissingBinary("the Helm charts of aiops simulate are not installed: run `make setup` (tools/charts.lock)")
    return folder


def release_of(body: dict[str, Any], sources: list[dict[str, Any]]) -> Release:
    """The Release a HelmRelease object describes; `sources` are the objects applied with it
    (the OCIRepository a chartRef points at is among them)."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace") or "default")
    if spec.get("chartRef"):
        ref = spec["chartRef"]
        source = next((s for s in sources if s.get("kind") == ref.get("kind") and (s.get("metadata") or {}).get("name") == ref.get("name")
                       and ((s.get("metadata") or {}).get("namespace") or "default") == (ref.get("namespace") or namespace)), None)
        if source is None:
            raise HelmError(f"HelmRelease/{namespace}/{name}: its chartRef {ref.get('kind')}/{ref.get('name')} is not applied with it")
        chart = str((source.get("spec") or {}).get("url", "")).rstrip("/").rsplit("/", 1)[-1]
        version = str(((source.get("spec") or {}).get("ref") or {}).get("tag", ""))
    else:
        chart_spec = ((spec.get("chart") or {}).get("spec")) or {}
        chart, version = str(chart_spec.get("chart", "")), str(chart_spec.get("version", ""))
    target = str(spec.get("targetNamespace") or namespace)
    release_name = str(spec.get("releaseName") or (f"{spec['targetNamespace']}-{name}" if spec.get("targetNamespace") else name))
    install = spec.get("install") or {}
    notes = []
    if spec.get("valuesFrom"):
        notes.append("valuesFrom is not read (its ConfigMaps and Secrets live in the cluster); only spec.values are")
    return Release(
        name, namespace, release_name, target, chart, version, dict(spec.get("values") or {}),
        str(install.get("crds") or "Create") != "Skip", str(spec.get("timeout") or "5m"),
        [(str(d.get("namespace") or namespace), str(d.get("name"))) for d in spec.get("dependsOn") or []],
        not install.get("disableWait", False), notes,
    )


def chart_file(release: Release) -> Path:
    path = charts_dir() / f"{release.chart}-{release.version}.tgz"
    if not path.exists():
        pinned = sorted(p.name for p in charts_dir().glob("*.tgz"))
        raise HelmError(f"{release.describe()}: chart {release.chart} {release.version} is not pinned in tools/charts.lock (pinned: {', '.join(pinned)})")
    return path


def render(release: Release, kubernetes_version: str, api_versions: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """The release's (CRDs, objects, install hooks), as `helm template` renders them."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as values:
        yaml.safe_dump(release.values, values)
    try:
        argv = [str(tool("helm")), "template", release.release_name, str(chart_file(release)), "--namespace", release.target_namespace,
                "--kube-version", kubernetes_version, "--values", values.name]
        if release.include_crds:
            argv.append("--include-crds")
        for version in api_versions:
            argv += ["--api-versions", version]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        Path(values.name).unlink(missing_ok=True)
    if result.returncode != 0:
        raise HelmError(f"{release.describe()}: helm template failed: {result.stderr.strip()}")
    crds, objects, hooks = [], [], []
    for doc in yaml.load_all(result.stdout, Loader=_Loader):
        if not isinstance(doc, dict) or not doc.get("kind"):
            continue
        hook = ((doc.get("metadata") or {}).get("annotations") or {}).get(HOOK, "")
        if doc["kind"] == "CustomResourceDefinition" and not hook:
            crds.append(doc)
        elif not hook:
            objects.append(doc)
        elif any(phase.strip() in ("pre-install", "post-install") for phase in hook.split(",")):
            hooks.append(doc)
    return crds, objects, hooks


def install_order(releases: list[Release]) -> list[Release]:
    """Releases in spec.dependsOn order (helm-controller holds a release until its dependencies are Ready)."""
    by_key = {(r.namespace, r.name): r for r in releases}
    done: list[Release] = []
    seen: set[tuple[str, str]] = set()

    def visit(release: Release, path: tuple = ()) -> None:
        key = (release.namespace, release.name)
        if key in seen or key in path:
            return
        for dependency in release.depends_on:
            if dependency in by_key:
                visit(by_key[dependency], (*path, key))
        seen.add(key)
        done.append(release)

    for release in releases:
        visit(release)
    return done
