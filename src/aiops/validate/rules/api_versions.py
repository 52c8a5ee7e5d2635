"""Deprecated and removed API versions, with the version to move to.

Custom resources: read from the pinned CRDs themselves (the cache index records, per version,
whether it is served and whether it is deprecated, with the CRD's own warning), so Flux
v2beta1 HelmReleases, Kueue v1beta1 and KubeRay v1alpha1 are judged by the CRDs the platform
installs. Kubernetes kinds: the removals of the Kubernetes deprecated-API migration guide
(kubernetes.io/docs/reference/using-api/deprecation-guide), against the version of the object's
environment (validate/targets.py) or --kubernetes-version.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiops.validate.context import Context, finding
from aiops.validate.findings import API_DEPRECATED, API_REMOVED, Finding

# (group/version, kind or "*") -> (deprecated in, removed in, move to)
KUBERNETES_REMOVALS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("extensions/v1beta1", "Deployment"): ("1.9", "1.16", "apps/v1"),
    ("extensions/v1beta1", "DaemonSet"): ("1.9", "1.16", "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet"): ("1.9", "1.16", "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy"): ("1.9", "1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "Ingress"): ("1.14", "1.22", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.11", "1.16", "Pod Security Admission (no replacement kind)"),
    ("apps/v1beta1", "*"): ("1.9", "1.16", "apps/v1"),
    ("apps/v1beta2", "*"): ("1.9", "1.16", "apps/v1"),
    ("networking.k8s.io/v1beta1", "*"): ("1.19", "1.22", "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): ("1.16", "1.22", "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*"): ("1.16", "1.22", "admissionregistration.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): ("1.14", "1.22", "scheduling.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*"): ("1.19", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): ("1.14", "1.22", "coordination.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "*"): ("1.19", "1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): ("1.21", "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "*"): ("1.21", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "*"): ("1.19", "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.22", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.23", "1.26", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "1.25", "Pod Security Admission (no replacement kind)"),
    ("node.k8s.io/v1beta1", "*"): ("1.20", "1.25", "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): ("1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): ("1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): ("1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
}


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _move_to(group: str, versions: list[dict]) -> str | None:
    served = [v for v in versions if v.get("served")]
    best = next((v for v in served if v.get("storage") and not v.get("deprecated")), None)
    best = best or next((v for v in served if not v.get("deprecated")), None)
    return f"{group}/{best['name']}" if best else None


def api_versions(ctx: Context) -> Iterator[Finding]:
    for manifest in ctx.manifests:
        target = ctx.kubernetes_version_of(manifest.file).rsplit(".", 1)[0]  # the manifest's environment's cluster
        group, version, kind = manifest.group, manifest.api_version.rpartition("/")[2], manifest.kind
        crd = ctx.crd_index(group, kind) if group else None
        if crd is not None:
            versions = crd.get("versions") or []
            known = next((v for v in versions if v.get("name") == version), None)
            move_to = _move_to(group, versions)
            if known is None or not known.get("served"):
                served = ", ".join(v["name"] for v in versions if v.get("served")) or "none"
                yield finding(
                    API_REMOVED, manifest, ("apiVersion",),
                    f"{manifest.api_version} {kind} is not served by the {kind} CRD of {crd.get('source')} (it serves {served}); "
                    "the API server rejects the object",
                    f"change apiVersion to {move_to} (check the field changes in the operator's upgrade notes)" if move_to else None,
                    kind_version=(manifest.api_version, kind),
                )
            elif known.get("deprecated"):
                warning = known.get("warning") or f"{manifest.api_version} {kind} is deprecated"
                yield finding(
                    API_DEPRECATED, manifest, ("apiVersion",),
                    f"{manifest.api_version} {kind} is deprecated in {crd.get('source')}: {warning.rstrip('.')}",
                    f"change apiVersion to {move_to}" if move_to else None,
                )
            continue
        removal = KUBERNETES_REMOVALS.get((manifest.api_version, kind)) or KUBERNETES_REMOVALS.get((manifest.api_version, "*"))
        if removal is None:
            continue
        deprecated_in, removed_in, move_to = removal
        if _minor(target) >= _minor(removed_in):
            yield finding(
                API_REMOVED, manifest, ("apiVersion",),
                f"{manifest.api_version} {kind} was removed in Kubernetes {removed_in}; a {target} cluster rejects it",
                f"change apiVersion to {move_to}" if "/" in move_to else f"replace it with {move_to}",
                kind_version=(manifest.api_version, kind),
            )
        elif _minor(target) >= _minor(deprecated_in):
            yield finding(
                API_DEPRECATED, manifest, ("apiVersion",),
                f"{manifest.api_version} {kind} is deprecated since Kubernetes {deprecated_in} and removed in {removed_in}",
                f"change apiVersion to {move_to}" if "/" in move_to else f"replace it with {move_to}",
            )


CHECKS = (api_versions,)
