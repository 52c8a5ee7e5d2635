"""The pod-security settings of an environment file: the defaults, what may be relaxed (and
only by writing it down), and the message of each mistake, with file, line and column."""

from __future__ import annotations

import pytest

from aiops.model import load_environment
from test_environment_errors import errors_of
from test_workloads_errors import VALID


def test_workloads_run_restricted_by_default_and_ray_as_its_images_user(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    workloads = load_environment(tmp_path / "demo.yaml").workloads
    assert (workloads.training.security.run_as_user, workloads.training.security.read_only_root_filesystem) == (10001, True)
    assert (workloads.ray.security.run_as_user, workloads.ray.security.run_as_group) == (1000, 100)
    assert workloads.dask.security.writable_paths == ["/tmp"]
    assert [team.pod_security for team in workloads.teams] == ["restricted"]


def test_a_writable_root_filesystem_is_a_written_decision(tmp_path):
    text = VALID.replace("    autoscaling: {minReplicas: 1, maxReplicas: 10, gpuUtilization: 80, cpuUtilization: 70}\n",
                         "    autoscaling: {minReplicas: 1, maxReplicas: 10, gpuUtilization: 80, cpuUtilization: 70}\n"
                         "    security: {readOnlyRootFilesystem: false, runAsUser: 1000}\n", 1)
    (tmp_path / "demo.yaml").write_text(text)
    security = load_environment(tmp_path / "demo.yaml").workloads.training.security
    assert (security.read_only_root_filesystem, security.run_as_user, security.run_as_group) == (False, 1000, 10001)


SECURITY_AT = "    autoscaling: {minReplicas: 1, maxReplicas: 10, gpuUtilization: 80, cpuUtilization: 70}\n"


@pytest.mark.parametrize(("security", "expected"), [
    pytest.param("{runAsUser: 0}", "demo.yaml:45:27: workloads.training.security.runAsUser: runAsUser 0 is root, which Pod Security's restricted "
                 "level refuses and the platform never runs\n    fix: use the image's own non-root user (its UID), or leave runAsUser out for 10001", id="root"),
    pytest.param("{writablePaths: [/dev/shm]}",
                 "demo.yaml:45:32: workloads.training.security.writablePaths[0]: /dev/shm is mounted by the platform (an in-memory emptyDir) "
                 "where a workload needs it\n    fix: remove it from writablePaths", id="dev-shm"),
    pytest.param("{writablePaths: [/tmp, /tmp]}",
                 "demo.yaml:45:38: workloads.training.security.writablePaths[1]: '/tmp' is listed twice\n    fix: list each path once", id="twice"),
    pytest.param("{privileged: true}", "demo.yaml:45:16: workloads.training.security.privileged: unknown field 'privileged'\n"
                 "    fix: allowed fields here: runAsUser, runAsGroup, readOnlyRootFilesystem, writablePaths", id="no-privileged"),
])
def test_pod_security_mistakes(tmp_path, security, expected):
    assert errors_of(tmp_path, VALID.replace(SECURITY_AT, SECURITY_AT + f"    security: {security}\n", 1)) == [expected]


def test_a_team_namespace_is_never_privileged(tmp_path):
    errors = errors_of(tmp_path, VALID.replace("      queues: [training]\n", "      queues: [training]\n      podSecurity: privileged\n", 1))
    assert len(errors) == 1
    assert errors[0].startswith("demo.yaml:35:20: workloads.teams[0].podSecurity: must be one of 'restricted' or 'baseline', got the string 'privileged'")
