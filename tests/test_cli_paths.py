"""`aiops --version`, commands run from any folder of the project, and unknown names."""

from __future__ import annotations

import re
import shutil

from aiops import __version__
from conftest import REPO, aiops, copy_project


def test_version():
    result = aiops("--version", cwd=REPO)
    assert (result.returncode, result.stdout) == (0, f"aiops {__version__}\n")


def test_commands_find_the_project_from_a_subfolder(tmp_path):
    project = copy_project(tmp_path / "project")
    shutil.copytree(REPO / "schemas", project / "schemas")
    (project / "pyproject.toml").write_text("")
    inside = project / "dist" / "aws-primary" / "apps"
    validate = aiops("validate", cwd=inside)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert re.match(r"aiops validate: no findings in 55 files", validate.stdout.splitlines()[-1]), validate.stdout
    assert aiops("schemas", "export", "--check", cwd=inside).stdout == "../../../schemas/environment.schema.json is up to date\n"
    cost = aiops("cost", cwd=inside)
    assert cost.returncode == 0 and "aws-primary" in cost.stdout
    environments = aiops("validate", "../../../environments", cwd=inside)
    assert environments.returncode == 0  # paths given are the user's, relative to where they are
    # synth --check reads the project's environments/ and dist/ (refusing an unknown name at once)
    check = aiops("synth", "--check", "--env", "nosuch", cwd=inside)
    assert check.returncode == 2
    assert check.stderr.splitlines()[1:] == [
        "../../../environments/nosuch.yaml: no environment 'nosuch' (no such file)",
        "    fix: the environments in ../../../environments/ are: aws-primary, azure-dr, gcp-burst",
    ]


def test_unknown_environment_lists_the_known_ones(tmp_path):
    result = aiops("synth", "--env", "aws-primery", cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "aiops synth: 1 error(s) in the environment files; nothing was written.",
        "environments/aws-primery.yaml: no environment 'aws-primery' (no such file)",
        "    fix: did you mean 'aws-primary'? the environments in environments/ are: aws-primary, azure-dr, gcp-burst",
    ]


def test_synth_runs_in_parallel_only_where_the_cores_allow(monkeypatch):
    import os

    from aiops.commands.synth import default_jobs

    import aiops.commands.synth as synth_command

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    for busy, jobs in ((0.0, 3), (0.4, 2), (1.2, 1), (6.0, 1)):
        monkeypatch.setattr(synth_command, "busy_cores", lambda busy=busy: busy)
        assert default_jobs() == jobs, busy


def test_the_busy_cores_are_read_from_the_machine_now():
    """/proc/stat over a short interval: between none and every core busy; a core kept busy by
    another process counts (the load average of the last minute would not see it yet)."""
    import os
    import subprocess
    import sys

    from aiops.commands.synth import busy_cores

    assert 0.0 <= busy_cores(0.05) <= os.cpu_count()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert busy_cores(0.5) >= 0.8
    finally:
        spinner.kill()
        spinner.wait()
