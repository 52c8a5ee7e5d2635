"""What the NetworkPolicies of dist/ mean: which pod can open a TCP connection to which port.

The simulation has no CNI, so nothing there enforces NetworkPolicy; these tests read the
committed policies as the Kubernetes documentation defines them ("Network Policies": a pod is
isolated for ingress once a policy of its namespace selects it; a connection is then allowed
when some policy selecting it allows the source and the port; a podSelector alone means the
policy's own namespace, a namespaceSelector and podSelector in one entry mean both). The pods
carry the labels their controllers give them: the Deployments' template labels from dist/, and
KubeRay's and the Dask operator's own labels; test_simulate.py checks on the real KubeRay pods
that every Ray policy selects them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml

from conftest import REPO

NAMESPACE_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items()))))


def matches(selector: dict | None, labels: dict) -> bool:
    """A label selector; an empty one selects everything (as in a NetworkPolicy)."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values):
            return False
        if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def _peer_allows(peer: dict, policy_namespace: str, source: Pod) -> bool:
    if "ipBlock" in peer:
        return False  # pod-to-pod traffic only
    namespace_labels = {NAMESPACE_NAME: source.namespace}  # the API server's own label on every namespace
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif source.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or matches(peer["podSelector"], source.labels)


def reaches(policies: list[dict], source: Pod, target: Pod, port: int) -> bool:
    selecting = [p for p in policies if p["metadata"]["namespace"] == target.namespace and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                 and matches(p["spec"]["podSelector"], target.labels)]
    if not selecting:
        return True  # not isolated
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            sources = rule.get("from")
            ports = rule.get("ports")
            if (not sources or any(_peer_allows(peer, target.namespace, source) for peer in sources)) and (
                not ports or any(p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports)
            ):
                return True
    return False


def _documents(environment: str, path: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((REPO / "dist" / environment / path).read_text()) if d]


def policies(environment: str) -> list[dict]:
    return _documents(environment, "infrastructure/configs/network-policies.yaml")


def template_labels(environment: str, app: str, kind: str) -> dict:
    (obj,) = [d for d in _documents(environment, f"apps/{app}") if d["kind"] == kind]
    return obj


def deployment_pod(environment: str, file: str) -> Pod:
    deployment = template_labels(environment, file, "Deployment")
    return Pod(deployment["metadata"]["namespace"], deployment["spec"]["template"]["metadata"]["labels"])


def ray_pods(environment: str) -> tuple[Pod, Pod]:
    """A head and a worker, with KubeRay's labels (ray.io/cluster, node-type, group) and the templates'."""
    cluster = template_labels(environment, "ray-cluster.yaml", "RayCluster")
    name, namespace, spec = cluster["metadata"]["name"], cluster["metadata"]["namespace"], cluster["spec"]
    head = {**spec["headGroupSpec"]["template"]["metadata"]["labels"], "ray.io/cluster": name, "ray.io/node-type": "head", "ray.io/group": "headgroup"}
    group = spec["workerGroupSpecs"][0]
    worker = {**group["template"]["metadata"]["labels"], "ray.io/cluster": name, "ray.io/node-type": "worker", "ray.io/group": group["groupName"]}
    return Pod(namespace, head), Pod(namespace, worker)


def dask_pods(environment: str) -> tuple[Pod, Pod]:
    """A scheduler and a worker, with the Dask operator's labels."""
    cluster = template_labels(environment, "dask-cluster.yaml", "DaskCluster")
    name, namespace = cluster["metadata"]["name"], cluster["metadata"]["namespace"]
    return (Pod(namespace, {"dask.org/cluster-name": name, "dask.org/component": "scheduler"}),
            Pod(namespace, {"dask.org/cluster-name": name, "dask.org/component": "worker"}))


PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus-stack-prometheus"})
KUBERAY = Pod("kuberay-system", {"app.kubernetes.io/name": "kuberay-operator"})
DASK_OPERATOR = Pod("dask-operator", {"app.kubernetes.io/name": "dask-kubernetes-operator"})
GATEWAY = Pod("gateway", {"app.kubernetes.io/name": "envoy"})  # a client of the inference service in a namespace of its own


def notebook(namespace: str) -> Pod:
    return Pod(namespace, {"app": "notebook"})


@pytest.fixture(scope="module")
def aws():
    rules = policies("aws-primary")
    head, worker = ray_pods("aws-primary")
    scheduler, dask_worker = dask_pods("aws-primary")
    return {
        "policies": rules, "server": deployment_pod("aws-primary", "inference-service.yaml"), "training": deployment_pod("aws-primary", "training-workers.yaml"),
        "head": head, "worker": worker, "scheduler": scheduler, "dask_worker": dask_worker,
    }


def test_the_inference_port_is_open_to_the_cluster_and_nothing_else_is(aws):
    server = aws["server"]
    for client in (GATEWAY, notebook("data-eng"), notebook("ml-training"), notebook("ml-serving")):
        assert reaches(aws["policies"], client, server, 8000)
        assert not reaches(aws["policies"], client, server, 8001)


def test_the_training_workers_take_no_connection_but_prometheus(aws):
    training = aws["training"]
    for client in (GATEWAY, notebook("ml-training"), aws["head"], aws["worker"], KUBERAY):
        assert not reaches(aws["policies"], client, training, 8080)
    assert reaches(aws["policies"], PROMETHEUS, training, 8080)


def test_prometheus_scrapes_every_team_pod_and_only_prometheus_does(aws):
    for key in ("server", "training", "head", "worker", "scheduler", "dask_worker"):
        assert reaches(aws["policies"], PROMETHEUS, aws[key], 9090), key
    imposter = Pod("monitoring", {"app.kubernetes.io/name": "grafana"})
    assert not reaches(aws["policies"], imposter, aws["training"], 9090)
    assert not reaches(aws["policies"], Pod("other", PROMETHEUS.labels), aws["training"], 9090)


@pytest.mark.parametrize("port", [6379, 8265, 10001, 12345])  # GCS, dashboard, client, a port Ray picks for a worker
def test_ray_pods_of_one_cluster_reach_each_other_on_every_port(aws, port):
    head, worker = aws["head"], aws["worker"]
    other_worker = Pod(worker.namespace, {**worker.labels, "pod": "2"})
    assert reaches(aws["policies"], worker, head, port)
    assert reaches(aws["policies"], head, worker, port)
    assert reaches(aws["policies"], worker, other_worker, port)


def test_the_ray_head_serves_jobs_from_its_namespace_and_the_operator_only_on_its_client_ports(aws):
    head, worker = aws["head"], aws["worker"]
    for client in (notebook("ml-training"), KUBERAY):
        assert reaches(aws["policies"], client, head, 10001) and reaches(aws["policies"], client, head, 8265)
        assert not reaches(aws["policies"], client, head, 6379)
        assert not reaches(aws["policies"], client, worker, 12345)
    for stranger in (notebook("data-eng"), notebook("ml-serving"), GATEWAY):
        assert not reaches(aws["policies"], stranger, head, 10001)


def test_dask_scheduler_and_workers_connect_both_ways_and_clients_reach_only_the_scheduler(aws):
    scheduler, worker = aws["scheduler"], aws["dask_worker"]
    assert reaches(aws["policies"], worker, scheduler, 8786)
    assert reaches(aws["policies"], scheduler, worker, 40123)  # workers listen on a port they pick
    for client in (notebook("data-eng"), DASK_OPERATOR):
        assert reaches(aws["policies"], client, scheduler, 8786) and reaches(aws["policies"], client, scheduler, 8787)
        assert not reaches(aws["policies"], client, worker, 40123)
    for stranger in (notebook("ml-training"), aws["head"], GATEWAY):
        assert not reaches(aws["policies"], stranger, scheduler, 8786)


@pytest.mark.parametrize("environment", ["aws-primary", "azure-dr", "gcp-burst"])
def test_every_team_namespace_denies_ingress_by_default_and_every_policy_selects_a_pod(environment):
    rules = policies(environment)
    teams = [d["metadata"]["name"] for d in _documents(environment, "infrastructure/configs/teams.yaml") if d["kind"] == "Namespace"]
    denies = {p["metadata"]["namespace"] for p in rules if p["metadata"]["name"] == "default-deny-ingress" and p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}}
    assert denies == set(teams)
    pods: list[Pod] = [notebook(team) for team in teams]
    apps = {path.name for path in (REPO / "dist" / environment / "apps").iterdir()}
    for file in ("inference-service.yaml", "training-workers.yaml"):
        if file in apps:
            pods.append(deployment_pod(environment, file))
    if "ray-cluster.yaml" in apps:
        pods += ray_pods(environment)
    if "dask-cluster.yaml" in apps:
        pods += dask_pods(environment)
    for policy in rules:
        selected = [p for p in pods if p.namespace == policy["metadata"]["namespace"] and matches(policy["spec"]["podSelector"], p.labels)]
        assert selected, f"{policy['metadata']['namespace']}/{policy['metadata']['name']} selects no pod"
        if policy["spec"]["podSelector"]:
            assert all(p.labels != {"app": "notebook"} for p in selected), policy["metadata"]["name"]  # a workload's policy is the workload's only
