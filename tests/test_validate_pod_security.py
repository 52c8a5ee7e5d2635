"""The pod-security rules of `aiops validate`, for workloads the platform did not generate: each
fired by a Deployment dropped into a copy of the reference dist/, with its exact message and fix,
and silent once the workload is fixed or moved to a namespace labelled for what it does."""

from __future__ import annotations

import pytest

from validate_helpers import dist_copy, dump, of_rule, run_validate, write

ALL_RULES = frozenset()  # run_validate leaves out rules dist/ does not meet yet; these tests run every rule
POD_RULES = ("pod-privileged", "pod-runs-as-root", "pod-host-path", "pod-security-restricted")


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return dist_copy(tmp_path, git=True)


def agent(namespace: str = "ml-training", *, pod: dict | None = None, container: dict | None = None, volumes: list | None = None) -> dict:
    """A node-agent-like Deployment someone added by hand: pinned image, requests and limits set."""
    spec = {
        "containers": [
            {
                "name": "agent",
                "image": "ghcr.io/example-org/node-agent:1.2.3",
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
                **(container or {}),
            }
        ],
        **(pod or {}),
    }
    if volumes:
        spec["volumes"] = volumes
        spec["containers"][0]["volumeMounts"] = [{"name": v["name"], "mountPath": f"/host/{v['name']}"} for v in volumes]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "node-agent", "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app": "node-agent"}}, "template": {"metadata": {"labels": {"app": "node-agent"}}, "spec": spec}},
    }


def findings_of(report) -> list[tuple[str, int, str]]:
    return [(f.rule.id, f.line, f.message) for f in report.findings if f.rule.id in POD_RULES]


def test_a_privileged_root_host_mounting_agent_in_a_team_namespace(tree):
    deployment = agent(
        pod={"hostNetwork": True, "securityContext": {"runAsUser": 0}},
        container={"securityContext": {"privileged": True, "capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}},
        volumes=[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
    )
    write(tree / "aws-primary/apps/node-agent.yaml", dump(deployment))
    report = run_validate("dist", skip=ALL_RULES)
    where = "namespace ml-training, whose Pod Security level is restricted"  # the team namespace's own label (teams.yaml)
    assert findings_of(report) == [
        ("pod-security-restricted", 25, "Container 'agent' breaks Pod Security's restricted level of namespace ml-training (runAsNonRoot is not true; "
         "runAsUser is 0; allowPrivilegeEscalation is not false; capabilities.drop does not list ALL; capabilities.add has SYS_ADMIN; no seccompProfile "
         "of type RuntimeDefault or Localhost): admission rejects the pods, so its controller creates none"),
        ("pod-privileged", 26, f"Container 'agent' runs privileged in {where}: it gets every capability and the node's devices, so it can take over the node and every pod on it"),
        ("pod-privileged", 28, f"Container 'agent' adds SYS_ADMIN in {where}: beyond what Pod Security's baseline allows, enough to escape the container"),
        ("pod-privileged", 34, f"Its pods share the node's network namespace (hostNetwork: true) in {where}: they see and reach the node's own traffic and processes, past every NetworkPolicy"),
        ("pod-runs-as-root", 36, f"Container 'agent' runs as root (runAsUser: 0) in {where}: a process that escapes the container is root on the node"),
        ("pod-host-path", 39, f"Its pods mount the node's /var/run/docker.sock (hostPath volume 'docker') in {where}: they read, and unless readOnly change, the node's own files, and the pods of every tenant on it"),
    ]
    assert {f.object for f in report.findings if f.rule.id in POD_RULES} == {"Deployment/ml-training/node-agent"}
    by_rule = {f.rule.id: f.hint for f in report.findings}
    assert by_rule["pod-host-path"].startswith("use an emptyDir (scratch space), a PersistentVolumeClaim (data)")
    assert "a GPU container needs only its nvidia.com/gpu limit" in next(f.hint for f in report.findings if "runs privileged" in f.message)
    assert by_rule["pod-runs-as-root"] == (
        "run as a non-root user (runAsNonRoot: true, runAsUser: 1000 or the image's own user), or label the namespace "
        "pod-security.kubernetes.io/enforce: baseline if its workloads must run as root"
    )
    assert {f.level for f in report.findings if f.rule.id in POD_RULES} == {"error"}


def test_the_same_agent_fixed_or_where_its_namespace_allows_it(tree):
    path = tree / "aws-primary/apps/node-agent.yaml"
    # Fixed: a non-root user, no privilege, every capability dropped, the runtime's seccomp profile, an emptyDir.
    fixed = agent(pod={"securityContext": {"runAsUser": 1000, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}},
                  container={"securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}},
                  volumes=[{"name": "scratch", "emptyDir": {}}])
    write(path, dump(fixed))
    assert findings_of(run_validate("dist", skip=ALL_RULES)) == []
    # Unfixed, but in a namespace labelled for node agents (privileged allows it all) ...
    risky = agent(
        "node-agents",
        pod={"hostPID": True},
        container={"securityContext": {"privileged": True, "runAsUser": 0}},
        volumes=[{"name": "root", "hostPath": {"path": "/"}}],
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "node-agents", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    write(path, dump(namespace, risky))
    assert findings_of(run_validate("dist", skip=ALL_RULES)) == []
    # ... or in kube-system, where the clouds run their own agents.
    write(path, dump(agent("kube-system", pod={"hostNetwork": True})))
    assert findings_of(run_validate("dist", skip=ALL_RULES)) == []


def test_baseline_allows_root_but_not_privilege_and_a_namespace_elsewhere_counts_for_nothing(tree):
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}
    deployment = agent("legacy", container={"securityContext": {"runAsUser": 0, "privileged": True}})
    write(tree / "aws-primary/apps/legacy.yaml", dump(namespace, deployment))
    report = run_validate("dist", skip=ALL_RULES)
    assert [(rule, message.split(": ", 1)[0]) for rule, _, message in findings_of(report)] == [
        ("pod-privileged", "Container 'agent' runs privileged in namespace legacy, whose Pod Security level is baseline")
    ]
    # The label of another environment's namespace of the same name does not apply here.
    write(tree / "azure-dr/apps/legacy.yaml", dump(deployment))
    assert [f.file for f in of_rule(run_validate("dist", skip=ALL_RULES), "pod-runs-as-root")] == ["dist/azure-dr/apps/legacy.yaml"]


def test_namespaces_without_a_pod_security_level(tree):
    path = tree / "aws-primary/apps/tenant.yaml"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-a", "labels": {"team": "a"}}}
    write(path, dump(namespace))
    [finding] = [f for f in of_rule(run_validate("dist", skip=ALL_RULES), "namespace-pod-security") if f.file == "dist/aws-primary/apps/tenant.yaml"]
    assert (finding.object, finding.line, finding.level) == ("Namespace/tenant-a", 5, "warning")  # at its labels
    assert finding.message == (
        "has no pod-security.kubernetes.io/enforce label, so Pod Security admission applies the cluster's default there, which on "
        "EKS, AKS and GKE enforces nothing: a privileged pod or a hostPath mount is admitted"
    )
    assert finding.hint.startswith("add the label pod-security.kubernetes.io/enforce: restricted")
    namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    write(path, dump(namespace))
    assert [f for f in of_rule(run_validate("dist", skip=ALL_RULES), "namespace-pod-security") if f.file == "dist/aws-primary/apps/tenant.yaml"] == []
    # Kubernetes' own namespaces are not ours to label.
    write(path, dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}))
    assert [f for f in of_rule(run_validate("dist", skip=ALL_RULES), "namespace-pod-security") if f.file == "dist/aws-primary/apps/tenant.yaml"] == []


RESTRICTED = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-b", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}


def test_what_the_restricted_level_would_refuse(tree):
    path = tree / "aws-primary/apps/tenant.yaml"
    write(path, dump(RESTRICTED, agent("tenant-b", volumes=[{"name": "nfs", "nfs": {"server": "10.0.0.2", "path": "/data"}}])))
    assert findings_of(run_validate("dist", skip=ALL_RULES)) == [
        ("pod-security-restricted", 23, "Container 'agent' breaks Pod Security's restricted level of namespace tenant-b (runAsNonRoot is not true; "
         "allowPrivilegeEscalation is not false; capabilities.drop does not list ALL; no seccompProfile of type RuntimeDefault or Localhost): "
         "admission rejects the pods, so its controller creates none"),
        ("pod-security-restricted", 36, "Its pods use a nfs volume ('nfs'), which Pod Security's restricted level of namespace tenant-b forbids: "
         "admission rejects the pods, so their controller creates none"),
    ]
    # What the restricted level asks for, partly at pod level (inherited), partly per container.
    hardened = agent(
        "tenant-b",
        pod={"securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}},
        container={"securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}},
        volumes=[{"name": "scratch", "emptyDir": {}}],
    )
    write(path, dump(RESTRICTED, hardened))
    assert findings_of(run_validate("dist", skip=ALL_RULES)) == []
    # A container that overrides the pod's non-root setting is refused on its own.
    hardened["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    write(path, dump(RESTRICTED, hardened))
    assert sorted((rule, message.split(" (", 1)[1].split(")", 1)[0]) for rule, _, message in findings_of(run_validate("dist", skip=ALL_RULES))) == [
        ("pod-runs-as-root", "runAsUser: 0"),
        ("pod-security-restricted", "runAsUser is 0"),
    ]
