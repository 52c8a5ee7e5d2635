"""The failover model: a standby's `failover:` section, refused at file:line when it is wrong,
within its own file (the model) and against its primary's (aiops.failover.checks); and the
switch, `state: active`, as the environment synthesis builds the standby from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiops.failover import resolve
from aiops.model import InvalidEnvironment, load_environments
from conftest import REPO


def _folder(tmp_path: Path, environment: str, old: str, new: str) -> Path:
    folder = tmp_path / "environments"
    shutil.copytree(REPO / "environments", folder)
    path = folder / f"{environment}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return folder


def _errors(tmp_path: Path, monkeypatch, environment: str, old: str, new: str) -> list[str]:
    folder = _folder(tmp_path, environment, old, new)
    monkeypatch.chdir(tmp_path)
    try:
        environments = load_environments(Path("environments"))
    except InvalidEnvironment as exc:
        return [str(e) for e in exc.errors]
    return [str(e) for e in resolve(Path("environments"), environments).errors]


FILE_MISTAKES = {
    "standby of itself": (
        ("standbyFor: aws-primary", "standbyFor: azure-dr"),
        "environments/azure-dr.yaml:51:15: failover.standbyFor: environment 'azure-dr' cannot be the standby of itself\n"
        "    fix: name the primary environment this one takes over from",
    ),
    "workload the standby does not run": (
        ("workloads: [model-server]", "workloads: [model-servr]"),
        "environments/azure-dr.yaml:52:15: failover.workloads[0]: 'model-servr' is not a workload of this environment; "
        "a standby runs its own copy of each workload it stands in for\n"
        "    fix: did you mean 'model-server'? add a copy of it under workloads (same name and namespace as on aws-primary), "
        "at the standby's scale; this environment runs: model-server",
    ),
    "client name outside the zone": (
        ("clientName: models.ml.example.org", "clientName: models.example.org"),
        "environments/azure-dr.yaml:56:17: failover.traffic.clientName: clientName 'models.example.org' is not in the hosted zone 'ml.example.org'\n"
        "    fix: use a name that ends in .ml.example.org, like models.ml.example.org",
    ),
    "the primary's load balancer typed by hand": (
        ("    standbyEndpoint:", "    primaryEndpoint: k8s-aiopsserving-0123456789.us-east-1.elb.amazonaws.com\n    standbyEndpoint:"),
        "environments/azure-dr.yaml:59:22: failover.traffic.primaryEndpoint: primaryEndpoint is no longer written by hand: "
        "the traffic stack looks the primary's ALB up by the tags the AWS Load Balancer Controller puts on it\n"
        "    fix: remove primaryEndpoint",
    ),
    "the client name as the standby's endpoint": (
        ("standbyEndpoint: aiops-azure-dr-serving.eastus.cloudapp.azure.com", "standbyEndpoint: models.ml.example.org"),
        "environments/azure-dr.yaml:59:22: failover.traffic.standbyEndpoint: standbyEndpoint is the client name itself\n"
        "    fix: give the standby's ingress load balancer (<label>.<region>.cloudapp.azure.com), which the client name points at",
    ),
    "a state that is not a switch position": (
        ("state: standby", "state: failed-over"),
        "environments/azure-dr.yaml:53:10: failover.state: must be one of 'standby' or 'active', got the string 'failed-over'\n"
        "    fix: write standby (the standby's own scale) or active (failed over: serving scale, clients sent here)",
    ),
    "serving workload without a health path": (
        ("    readinessPath: /v2/health/ready\n", ""),
        "environments/azure-dr.yaml:71:3: workloads.inference: the traffic policy (Route 53 or Traffic Manager) checks the health of 'model-server' on its readinessPath, and it has none\n"
        "    fix: give the inference service a port and a readinessPath (the HTTP path that answers 200 when it can serve)",
    ),
}

PAIR_MISTAKES = {
    "unknown primary": (
        ("azure-dr", "standbyFor: aws-primary", "standbyFor: aws-primry"),
        "environments/azure-dr.yaml:51:15: failover.standbyFor: no environment 'aws-primry' in environments/\n"
        "    fix: did you mean 'aws-primary'? name the primary's environment (environments: aws-primary, gcp-burst)",
    ),
    "pool too small for the primary's maximum": (
        ("azure-dr", "    max: 20 #", "    max: 6 #"),
        "environments/azure-dr.yaml:32:10: nodePools[1].max: pool 'gpu' (Standard_NC8as_T4_v3) holds at most 6 node(s), and taking over from "
        "aws-primary at its maxReplicas needs 20 (model-server: 20 replicas at 1 per node = 20 node(s))\n"
        "    fix: raise max to 20: the standby must hold what it stands in for at the primary's maximum (it stays at min until a failover)",
    ),
    "another image than the primary's": (
        ("azure-dr", "image: ghcr.io/example-org/model-server:1.0.0", "image: ghcr.io/example-org/model-server:1.0.1"),
        "environments/azure-dr.yaml:75:12: workloads.inference.image: 'model-server' runs ghcr.io/example-org/model-server:1.0.0 on aws-primary "
        "but ghcr.io/example-org/model-server:1.0.1 here; after a failover clients would get another version\n"
        "    fix: use ghcr.io/example-org/model-server:1.0.0, and change both files in the same commit when the version moves",
    ),
    "an image in the primary cloud's private registry": (
        ("azure-dr", "image: ghcr.io/example-org/model-server:1.0.0", "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/model-server:1.0.0"),
        "environments/azure-dr.yaml:75:12: workloads.inference.image: 'model-server' pulls 111122223333.dkr.ecr.us-east-1.amazonaws.com/model-server:1.0.0 "
        "from aws-primary's ECR, which a failover away from aws cannot reach, and no managed service replicates ECR to azure\n"
        "    fix: push the image to a registry both clouds reach (as ghcr.io/example-org/model-server), or mirror it into azure's registry "
        "and use that reference here (the README's Failover runbook)",
    ),
    "another namespace than the primary's": (
        ("azure-dr", "    - name: ml-serving\n  inference:\n    name: model-server\n    namespace: ml-serving\n",
         "    - name: ml-serve\n  inference:\n    name: model-server\n    namespace: ml-serve\n"),
        "environments/azure-dr.yaml:73:16: workloads.inference.namespace: 'model-server' runs in namespace 'ml-serving' on aws-primary but in 'ml-serve' here\n"
        "    fix: use namespace ml-serving: clients, secrets and policies name it",
    ),
    "a workload the primary does not run": (
        ("aws-primary", "name: model-server", "name: model-serving"),
        "environments/azure-dr.yaml:52:15: failover.workloads[0]: 'aws-primary' runs no workload 'model-server'\n"
        "    fix: did you mean 'model-serving'? list the workloads this environment takes over from aws-primary "
        "(it runs: ml-training-workers, model-serving, aiops-ray-cluster, aiops-dask)",
    ),
}


@pytest.mark.parametrize("mistake", FILE_MISTAKES)
def test_the_model_refuses_a_failover_section_at_its_line(tmp_path, monkeypatch, mistake):
    (old, new), expected = FILE_MISTAKES[mistake]
    assert _errors(tmp_path, monkeypatch, "azure-dr", old, new) == [expected]


def test_a_serving_workload_needs_traffic(tmp_path, monkeypatch):
    folder = _folder(tmp_path, "azure-dr", "state: standby\n", "state: standby\n")
    text = (folder / "azure-dr.yaml").read_text()
    start, end = text.index("  traffic:\n"), text.index("  replication:\n")
    (folder / "azure-dr.yaml").write_text(text[:start] + text[end:])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidEnvironment) as caught:
        load_environments(Path("environments"))
    assert [str(e) for e in caught.value.errors] == [
        "environments/azure-dr.yaml:50:1: failover: 'model-server' serves requests, so its failover needs `traffic`: "
        "the name clients use and this cluster's ingress endpoint\n"
        "    fix: add traffic: {hostedZone: ..., clientName: ..., standbyEndpoint: ...}"
    ]


@pytest.mark.parametrize("mistake", PAIR_MISTAKES)
def test_the_pair_is_refused_at_the_standbys_line(tmp_path, monkeypatch, mistake):
    change, expected = PAIR_MISTAKES[mistake]
    assert _errors(tmp_path, monkeypatch, *change) == [expected]


def test_a_standby_of_a_standby_is_refused(tmp_path, monkeypatch):
    errors = _errors(tmp_path, monkeypatch, "aws-primary", "  region: us-east-1\n",
                     "  region: us-east-1\nfailover: {standbyFor: gcp-burst, workloads: [aiops-ray-cluster]}\n")
    assert "environments/azure-dr.yaml:51:15: failover.standbyFor: 'aws-primary' is itself the standby of 'gcp-burst'\n" \
           "    fix: name the environment that serves in the first place; a standby of a standby would take over from a cluster that is not serving" in errors


def test_a_primary_on_google_cloud_needs_the_standbys_address(tmp_path, monkeypatch):
    """A primary on Google Cloud's traffic policy is a Cloud DNS failover routing policy, which
    health-checks endpoints outside Google Cloud by address only: the standby must give
    standbyAddress (the other cases are in test_failover_traffic_gcp.py)."""
    errors = _errors(tmp_path, monkeypatch, "azure-dr", "standbyFor: aws-primary", "standbyFor: gcp-burst")
    assert errors == [
        "environments/azure-dr.yaml:52:15: failover.workloads[0]: 'gcp-burst' runs no workload 'model-server'\n"
        "    fix: list the workloads this environment takes over from gcp-burst (it runs: aiops-ray-burst)",
        "environments/azure-dr.yaml:54:3: failover.traffic: the primary 'gcp-burst' is on gcp: Cloud DNS failover routing health-checks "
        "endpoints outside Google Cloud only by IP address (routing_policy.primary_backup with external_endpoints), and this standby "
        "gives no standbyAddress\n"
        "    fix: add standbyAddress: the IPv4 address of this cluster's ingress load balancer (on AKS the app routing add-on's public IP, "
        "the one tagged k8s-azure-service=app-routing-system/nginx in the cluster's node resource group)",
    ]


def test_the_pool_check_counts_pods_per_node_from_allocatable(reference_environments):
    """Pods per node by GPUs, CPU and memory of what a node offers to pods (aiops.model.allocatable,
    the figures the simulation's nodes get), not by GPUs alone."""
    from aiops.failover.checks import pods_per_node
    from aiops.model.failover import ScaledGroup
    from aiops.model.workloads import ComputeResources

    standby = reference_environments["azure-dr"]
    gpu = standby.pool("gpu")
    one_gpu = ScaledGroup("replicas", "gpu", ComputeResources(cpu="2", memory="8Gi", gpus=1), 2, 6, None)
    assert pods_per_node(standby, gpu, one_gpu) == 1  # 1 T4 per node
    cpu_only = ScaledGroup("replicas", "gpu", ComputeResources(cpu="2", memory="8Gi"), 2, 6, None)
    # 8 vCPU less AKS's 180m kube-reserved and the daemon sets of a GPU node (node_overhead: 475m)
    # = 7.345 CPU -> 3 pods of 2 CPU (memory would allow 5).
    assert pods_per_node(standby, gpu, cpu_only) == 3


def test_active_state_puts_the_standby_at_the_primarys_serving_scale(tmp_path, monkeypatch):
    folder = _folder(tmp_path, "azure-dr", "state: standby", "state: active")
    resolved = resolve(folder, load_environments(folder))
    assert resolved.errors == []
    standby = next(e for e in resolved.environments if e.name == "azure-dr")
    scaling = standby.workloads.inference.autoscaling
    assert (scaling.min_replicas, scaling.max_replicas) == (3, 20)  # aws-primary's model-server bounds
    gpu = standby.pool("gpu")
    assert (gpu.min, gpu.desired, gpu.max) == (3, 3, 20)  # 3 nodes up for the primary's 3 replicas
    assert standby.pool("system").min == 1  # pools that run no standby workload stay as written
    assert resolved.traffic["aws-primary"][0].active is True


def test_standby_state_is_the_file_as_written(reference_environments):
    resolved = resolve(REPO / "environments", list(reference_environments.values()))
    assert resolved.environments == list(reference_environments.values())
    (pair,) = resolved.traffic["aws-primary"]
    assert (pair.standby, pair.client_name, pair.health_path, pair.active) == ("azure-dr", "models.ml.example.org", "/v2/health/ready", False)


def test_a_mirror_in_the_standbys_registry_is_the_same_image(tmp_path, monkeypatch):
    errors = _errors(tmp_path, monkeypatch, "azure-dr", "image: ghcr.io/example-org/model-server:1.0.0",
                     "image: aiopsdr.azurecr.io/example-org/model-server:1.0.0")
    assert errors == []
