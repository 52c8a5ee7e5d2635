"""Pod security for workloads the platform did not generate: privilege, root, hostPath, and
namespaces without a Pod Security Admission level.

Which namespaces may run what is read from the tree's own Namespace objects, as Pod Security
Admission reads them: `pod-security.kubernetes.io/enforce: privileged` allows everything,
`baseline` allows root but no privilege or hostPath, `restricted` neither. kube-system, where the
clouds run their own node agents, is allowed everything. A namespace the tree does not define is
held to the strictest reading: nothing here says it is labelled for privilege.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiops.tree.shapes import mapping, sequence
from aiops.validate.context import Context, finding, upper_first
from aiops.validate.findings import NAMESPACE_POD_SECURITY, POD_HOST_PATH, POD_PRIVILEGED, POD_RESTRICTED, POD_ROOT, Finding

ENFORCE = "pod-security.kubernetes.io/enforce"
SYSTEM_NAMESPACES = frozenset({"kube-system"})  # the clouds' own agents (CNI, CSI, device plugins)
UNLABELLED_SYSTEM = frozenset({"kube-system", "kube-public", "kube-node-lease"})  # Kubernetes' own, not ours to label
ROOT_LEVELS = frozenset({"privileged", "baseline"})
HOST_NAMESPACES = (("hostNetwork", "network"), ("hostPID", "process (PID)"), ("hostIPC", "IPC"))
# The capabilities Pod Security's baseline level allows a container to add (Kubernetes "Pod Security Standards").
BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
)


def _levels(ctx: Context) -> dict[tuple[str | None, str], str | None]:
    """(environment, namespace) -> its enforce level (None: unlabelled), for the tree's Namespaces."""
    return {
        (manifest.environment, manifest.name): mapping(mapping(manifest.body.get("metadata")).get("labels")).get(ENFORCE)
        for manifest in ctx.of_kind("", "Namespace")
    }


def _where(namespace: str, level: str | None, what: str) -> str:
    """'namespace ml-training, whose Pod Security level is restricted' / '..., which is not labelled for privilege'."""
    return f"namespace {namespace}, " + (f"whose Pod Security level is {level}" if level else f"which is not labelled for {what}")


def pod_privileges(ctx: Context) -> Iterator[Finding]:
    levels = _levels(ctx)
    for template in ctx.templates:
        namespace = template.manifest.namespace or "default"
        level = levels.get((template.manifest.environment, namespace))
        if namespace in SYSTEM_NAMESPACES:
            continue
        where = _where(namespace, level, "privilege")
        if level != "privileged":
            for field, what in HOST_NAMESPACES:
                if template.spec.get(field) is True:
                    yield finding(
                        POD_PRIVILEGED, template.manifest, (*template.path, field),
                        f"{upper_first(template.pods())} share the node's {what} namespace ({field}: true) in {where}: "
                        "they see and reach the node's own traffic and processes, past every NetworkPolicy",
                        f"remove {field}, or run the workload in a namespace labelled {ENFORCE}: privileged that exists for node agents",
                    )
            for path, container in template.containers():
                who = upper_first(template.container_name(container))
                context = mapping(container.get("securityContext"))
                if context.get("privileged") is True:
                    yield finding(
                        POD_PRIVILEGED, template.manifest, (*path, "securityContext", "privileged"),
                        f"{who} runs privileged in {where}: it gets every capability and the node's devices, so it can take over "
                        "the node and every pod on it",
                        "remove privileged: true (a GPU container needs only its nvidia.com/gpu limit: the device plugin hands it the "
                        f"device), or run it in a namespace labelled {ENFORCE}: privileged that exists for node agents",
                    )
                added = sorted({str(c) for c in sequence(mapping(context.get("capabilities")).get("add"))} - BASELINE_CAPABILITIES)
                if added:
                    yield finding(
                        POD_PRIVILEGED, template.manifest, (*path, "securityContext", "capabilities", "add"),
                        f"{who} adds {', '.join(added)} in {where}: beyond what Pod Security's baseline allows, enough to escape "
                        "the container",
                        f"remove {', '.join(added)} from capabilities.add, or run it in a namespace labelled {ENFORCE}: privileged",
                    )
        if level not in ROOT_LEVELS:
            pod_user = mapping(template.spec.get("securityContext")).get("runAsUser")
            for path, container in template.containers():
                context = mapping(container.get("securityContext"))
                user = context.get("runAsUser", pod_user)
                if user == 0 and not isinstance(user, bool):
                    at = (*path, "securityContext", "runAsUser") if "runAsUser" in context else (*template.path, "securityContext", "runAsUser")
                    yield finding(
                        POD_ROOT, template.manifest, at,
                        f"{upper_first(template.container_name(container))} runs as root (runAsUser: 0) in {_where(namespace, level, 'root')}: "
                        "a process that escapes the container is root on the node",
                        f"run as a non-root user (runAsNonRoot: true, runAsUser: 1000 or the image's own user), or label the namespace "
                        f"{ENFORCE}: baseline if its workloads must run as root",
                    )
        if level != "privileged":
            for index, volume in enumerate(sequence(template.spec.get("volumes"))):
                host = mapping(mapping(volume).get("hostPath"))
                if host:
                    name = mapping(volume).get("name", "?")
                    yield finding(
                        POD_HOST_PATH, template.manifest, (*template.path, "volumes", index, "hostPath"),
                        f"{upper_first(template.pods())} mount the node's {host.get('path', '?')} (hostPath volume '{name}') in {_where(namespace, level, 'hostPath')}: "
                        "they read, and unless readOnly change, the node's own files, and the pods of every tenant on it",
                        "use an emptyDir (scratch space), a PersistentVolumeClaim (data) or a ConfigMap/Secret (configuration); node "
                        f"agents that need the host's files belong in a namespace labelled {ENFORCE}: privileged",
                    )


# What the restricted level allows (Kubernetes "Pod Security Standards", restricted profile).
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"})
RESTRICTED_ADD = frozenset({"NET_BIND_SERVICE"})
RESTRICTED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})


def _restricted_problems(pod: dict, container: dict) -> list[str]:
    """What the restricted level refuses in one container (with its pod's defaults), in PSA's words."""
    context, pod_context = mapping(container.get("securityContext")), mapping(pod.get("securityContext"))
    problems = []
    if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true")
    if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
        problems.append("runAsUser is 0")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = mapping(context.get("capabilities"))
    if "ALL" not in [str(c) for c in sequence(capabilities.get("drop"))]:
        problems.append("capabilities.drop does not list ALL")
    added = sorted({str(c) for c in sequence(capabilities.get("add"))} - RESTRICTED_ADD)
    if added:
        problems.append(f"capabilities.add has {', '.join(added)}")
    seccomp = mapping(context.get("seccompProfile")) or mapping(pod_context.get("seccompProfile"))
    if seccomp.get("type") not in RESTRICTED_SECCOMP:
        problems.append("no seccompProfile of type RuntimeDefault or Localhost")
    return problems


def restricted_pods(ctx: Context) -> Iterator[Finding]:
    """Pods the restricted level would refuse: for a Deployment, a RayCluster or a DaskCluster the
    object itself is accepted, and its controller then fails to create any pod."""
    levels = _levels(ctx)
    for template in ctx.templates:
        namespace = template.manifest.namespace or "default"
        if levels.get((template.manifest.environment, namespace)) != "restricted":
            continue
        for path, container in template.containers():
            problems = _restricted_problems(template.spec, container)
            if problems:
                yield finding(
                    POD_RESTRICTED, template.manifest, (*path, "securityContext") if "securityContext" in container else path,
                    f"{upper_first(template.container_name(container))} breaks Pod Security's restricted level of namespace {namespace} "
                    f"({'; '.join(problems)}): admission rejects the pods, so its controller creates none",
                )
        for index, volume in enumerate(sequence(template.spec.get("volumes"))):
            kinds = sorted(set(mapping(volume)) - {"name", "hostPath"} - RESTRICTED_VOLUMES)  # hostPath: pod-host-path
            if kinds:
                yield finding(
                    POD_RESTRICTED, template.manifest, (*template.path, "volumes", index),
                    f"{upper_first(template.pods())} use a {kinds[0]} volume ('{mapping(volume).get('name', '?')}'), which Pod Security's "
                    f"restricted level of namespace {namespace} forbids: admission rejects the pods, so their controller creates none",
                    "use a configMap, secret, projected, emptyDir, ephemeral or persistentVolumeClaim volume instead",
                )


def namespace_levels(ctx: Context) -> Iterator[Finding]:
    for namespace in ctx.of_kind("", "Namespace"):
        if namespace.name in UNLABELLED_SYSTEM:
            continue
        labels = mapping(mapping(namespace.body.get("metadata")).get("labels"))
        if ENFORCE not in labels:
            yield finding(
                NAMESPACE_POD_SECURITY, namespace, ("metadata", "labels") if labels else ("metadata",),
                f"has no {ENFORCE} label, so Pod Security admission applies the cluster's default there, which on EKS, AKS and "
                "GKE enforces nothing: a privileged pod or a hostPath mount is admitted",
                f"add the label {ENFORCE}: restricted (baseline where its workloads need root, privileged only for node agents), "
                "and the same level as pod-security.kubernetes.io/warn and /audit",
            )


CHECKS = (pod_privileges, restricted_pods, namespace_levels)
