"""The three simulations of a test session (session fixtures, shared by test_simulate.py,
test_simulate_admission.py and test_simulate_failover.py through conftest's pytest_plugins):
the three reference environments as a user runs them (`aiops simulate --format json` in the
repository), a copy of gcp-burst with faults injected, each of which must be caught in the
scheduler's, a controller's or the API server's own words, and azure-dr failed over (its
`failover.state: active`, synthesized in a scratch project).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, GitScratch, aiops, copy_project, needs_the_chart_cache


FAULTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: no-such-pool, namespace: ml-training}
spec:
  replicas: 1
  selector: {matchLabels: {app: no-such-pool}}
  template:
    metadata: {labels: {app: no-such-pool}}
    spec:
      nodeSelector: {workload-type: no-such-pool}
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: c, image: "busybox:1.37", securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gpu-on-cpu-pool, namespace: ml-training}
spec:
  replicas: 1
  selector: {matchLabels: {app: gpu-on-cpu-pool}}
  template:
    metadata: {labels: {app: gpu-on-cpu-pool}}
    spec:
      nodeSelector: {cloud.google.com/gke-nodepool: cpu-system}
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: c, image: "busybox:1.37", securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {limits: {nvidia.com/gpu: 1}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bigger-than-any-node, namespace: default}  # no LimitRange there: the scheduler judges it
spec:
  replicas: 1
  selector: {matchLabels: {app: bigger-than-any-node}}
  template:
    metadata: {labels: {app: bigger-than-any-node}}
    spec:
      containers: [{name: c, image: "busybox:1.37", resources: {requests: {cpu: "64", memory: 1Gi}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded, namespace: ml-training}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: c, image: "busybox:1.37", securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: privileged, namespace: ml-training}
spec:
  replicas: 1
  selector: {matchLabels: {app: privileged}}
  template:
    metadata: {labels: {app: privileged}}
    spec:
      containers: [{name: c, image: "busybox:1.37", securityContext: {privileged: true}, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bigger-than-the-team-pools, namespace: ml-training}
spec:
  replicas: 1
  selector: {matchLabels: {app: bigger-than-the-team-pools}}
  template:
    metadata: {labels: {app: bigger-than-the-team-pools}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: c, image: "busybox:1.37", securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {requests: {cpu: "64", memory: 1Gi}, limits: {cpu: "64", memory: 1Gi}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: more-gpus-than-the-team-has, namespace: ml-training}
spec:
  replicas: 1
  selector: {matchLabels: {app: more-gpus-than-the-team-has}}
  template:
    metadata: {labels: {app: more-gpus-than-the-team-has}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: c, image: "busybox:1.37", securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {limits: {nvidia.com/gpu: 17}}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: blocks-every-drain, namespace: ml-training}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: guarded}}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: no-quota}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [cpu, memory]
      flavors:
        - name: cpu-system
          resources:
            - {name: cpu, nominalQuota: "0"}
            - {name: memory, nominalQuota: "0"}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: no-quota, namespace: ml-training}
spec: {clusterQueue: no-quota}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: waits-for-quota
  namespace: ml-training
  labels: {kueue.x-k8s.io/queue-name: no-quota}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1.37", resources: {requests: {cpu: "1", memory: 1Gi}}}]
"""


def git_repository(folder: Path) -> None:
    """`folder` as a git repository of one commit (what `aiops simulate` reads)."""
    repository = GitScratch(folder)
    repository.git("init", "--quiet", "--initial-branch", "main")
    repository.commit("tree")


@pytest.fixture(scope="session")
def reference_simulation():
    """`aiops simulate --format json` over every reference environment, as a user runs it."""
    needs_the_chart_cache()
    result = aiops("simulate", "--format", "json", cwd=REPO)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return {env["environment"]: env for env in report["environments"]}, report, result.returncode


@pytest.fixture(scope="session")
def fault_simulation(tmp_path_factory):
    """gcp-burst with one fault of each kind added to its apps layer, in a repository of its own."""
    needs_the_chart_cache()
    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(REPO / "dist" / "gcp-burst", root / "dist" / "gcp-burst")
    apps = root / "dist" / "gcp-burst" / "apps"
    (apps / "faults.yaml").write_text(FAULTS)
    kustomization = apps / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().rstrip("\n") + "\n  - faults.yaml\n")
    git_repository(root)
    result = aiops("simulate", "--format", "json", "--env", "gcp-burst", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    return json.loads(result.stdout)["environments"][0]


@pytest.fixture(scope="session")
def failover_simulation(tmp_path_factory):
    """azure-dr with its failover switch on: synthesized (`aiops synth --env azure-dr`, which reads
    aws-primary too) in a scratch project, then simulated."""
    needs_the_chart_cache()
    project = copy_project(tmp_path_factory.mktemp("failover") / "project")
    standby = project / "environments" / "azure-dr.yaml"
    standby.write_text(standby.read_text().replace("  state: standby\n", "  state: active\n", 1))
    synth = aiops("synth", "--env", "azure-dr", cwd=project)
    assert synth.returncode == 0, synth.stderr
    git_repository(project)
    result = aiops("simulate", "--format", "json", "--env", "azure-dr", cwd=project)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["environments"][0]


def pass_of(env: dict, name: str) -> dict:
    return next(p for p in env["passes"] if p["pass"] == name)


def pods_of(env_pass: dict, namespace: str, owner: str) -> list[dict]:
    return [p for p in env_pass["pods"] if p["namespace"] == namespace and p["owner"] == owner]
