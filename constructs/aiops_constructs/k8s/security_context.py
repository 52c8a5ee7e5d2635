"""The security context of every pod the platform's constructs make (a helper, not a construct).

What Pod Security's `restricted` level requires ("Pod Security Standards", Kubernetes docs) is
set on the pod and on each container: not root (`runAsNonRoot` with a numeric `runAsUser`, so
the kubelet can check it before the image's own user is known), no privilege escalation, every
capability dropped, the container runtime's default seccomp profile. Beyond the level: a
read-only root filesystem with an `emptyDir` at each path the workload writes (unless the
environment turns it off explicitly), no service-account token unless the pod talks to the API,
and `imagePullPolicy: Always`, so a pod never starts from an image another tenant's pod pulled
onto a shared node with credentials this one does not have (the layers stay cached; the pull
only checks the manifest).
"""

from __future__ import annotations

from typing import Any

from aiops.model.pod_security import PodSecurity

SECCOMP = {"type": "RuntimeDefault"}


def container_security_context(security: PodSecurity) -> dict[str, Any]:
    """What each container sets itself (Pod Security checks these per container)."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": security.read_only_root_filesystem,
        "runAsNonRoot": True,
        "runAsUser": security.run_as_user,
        "runAsGroup": security.run_as_group,
        "seccompProfile": dict(SECCOMP),
    }


def pod_security_context(security: PodSecurity) -> dict[str, Any]:
    """The pod's defaults, which also cover containers an operator adds (KubeRay's init container)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": security.run_as_user,
        "runAsGroup": security.run_as_group,
        "fsGroup": security.run_as_group,
        "seccompProfile": dict(SECCOMP),
    }


def _volume_name(path: str) -> str:
    return "writable" + path.replace("/", "-").replace("_", "-").replace(".", "-").lower()


def writable_mounts(security: PodSecurity) -> list[dict[str, str]]:
    """The mounts of the writable paths' emptyDirs that `secure` adds to the pod, for a
    container an operator adds to it later (KubeRay's autoscaler sidecar)."""
    return [{"name": _volume_name(path), "mountPath": path} for path in security.writable_paths]


def secure(pod_spec: dict[str, Any], security: PodSecurity, *, service_account_token: bool = False) -> None:
    """Set the pod's and every container's security context, mount an emptyDir at each of
    `security.writable_paths` in every container, and mount a service-account token only when
    `service_account_token` (the pod calls the Kubernetes API)."""
    containers = [*pod_spec.get("initContainers", []), *pod_spec["containers"]]
    if not containers:
        raise ValueError("secure: the pod spec has no containers")
    pod_spec["securityContext"] = pod_security_context(security)
    pod_spec["automountServiceAccountToken"] = service_account_token
    mounted = {mount["mountPath"] for container in containers for mount in container.get("volumeMounts", [])}
    for path in security.writable_paths:
        if path in mounted:
            raise ValueError(f"secure: {path} is already mounted; leave it out of writable_paths")
        pod_spec.setdefault("volumes", []).append({"name": _volume_name(path), "emptyDir": {}})
    for container in containers:
        container["imagePullPolicy"] = "Always"
        container["securityContext"] = container_security_context(security)
        container.setdefault("volumeMounts", []).extend(writable_mounts(security))


POD_SECURITY_LEVELS = ("restricted", "baseline", "privileged")
POD_SECURITY_LABEL = "pod-security.kubernetes.io/"


def pod_security_labels(enforce: str, *, report: str | None = None) -> dict[str, str]:
    """The Pod Security admission labels of a namespace: `enforce` refuses pods that break the
    level; `warn` (to whoever applies) and `audit` (to the audit log) report against `report`,
    by default the same level, so a namespace held to less than restricted still shows the gap."""
    report = report or enforce
    for level in (enforce, report):
        if level not in POD_SECURITY_LEVELS:
            raise ValueError(f"pod_security_labels: '{level}' is not a Pod Security level ({', '.join(POD_SECURITY_LEVELS)})")
    return {f"{POD_SECURITY_LABEL}enforce": enforce, f"{POD_SECURITY_LABEL}warn": report, f"{POD_SECURITY_LABEL}audit": report}
