"""A no-op `aiops synth --check` answers from the digest of its inputs, and only then."""

from __future__ import annotations

import shutil
from pathlib import Path

import aiops
from aiops.synth import stamp
from conftest import aiops as run_aiops
from conftest import copy_project, quiet_lines

ENV = ("--env", "azure-dr")  # the quickest environment to synthesize; the record is per arguments
FROM_DIGEST = "dist is up to date (nothing that feeds synthesis changed since the last full check; `--full` checks again)"


def test_no_op_check_answers_from_the_digest_and_any_change_forces_the_real_one(tmp_path):
    project = copy_project(tmp_path / "project")
    full = run_aiops("synth", "--check", *ENV, cwd=project)  # no record yet: a real check, which records one
    assert full.returncode == 0 and full.stdout.splitlines()[-1].startswith("dist is up to date (71 files, checked in ")
    again = run_aiops("synth", "--check", *ENV, cwd=project)
    assert (again.returncode, again.stdout.strip()) == (0, FROM_DIGEST)
    assert quiet_lines(again.stderr) == [] and "synthesized" not in again.stdout  # no synthesis ran
    # --full never reads it
    assert "checked in" in run_aiops("synth", "--check", "--full", *ENV, cwd=project).stdout
    # a hand edit in dist/: the real check runs and finds it
    queues = project / "dist" / "azure-dr" / "infrastructure" / "configs" / "teams.yaml"
    queues.write_text(queues.read_text() + "# edited\n")
    edited = run_aiops("synth", "--check", *ENV, cwd=project)
    assert edited.returncode == 1 and "  differs  dist/azure-dr/infrastructure/configs/teams.yaml" in edited.stderr
    # ... and a failed check leaves no record behind: restoring the file needs a real check again
    queues.write_text(queues.read_text().replace("# edited\n", ""))
    assert "checked in" in run_aiops("synth", "--check", *ENV, cwd=project).stdout
    assert run_aiops("synth", "--check", *ENV, cwd=project).stdout.strip() == FROM_DIGEST
    # an environment edit that changes nothing in dist/ still forces a real check
    env = project / "environments" / "azure-dr.yaml"
    env.write_text(env.read_text() + "# a comment\n")
    assert "checked in" in run_aiops("synth", "--check", *ENV, cwd=project).stdout


def test_the_digest_covers_code_catalog_locks_and_arguments(tmp_path, monkeypatch):
    project = tmp_path / "project"
    for name in ("environments", "dist"):
        (project / name).mkdir(parents=True)
    (project / "environments" / "a.yaml").write_text("name: a\n")
    package = tmp_path / "aiops"
    shutil.copytree(Path(aiops.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(aiops, "__file__", str(package / "__init__.py"))

    def digest(arguments=("x",)):
        return stamp.inputs_digest(project, project / "environments", project / "dist", list(arguments))

    first = digest()
    assert digest() == first  # deterministic
    changes = [
        lambda: (package / "synth" / "kubernetes.py").write_text((package / "synth" / "kubernetes.py").read_text() + "\n# x\n"),
        lambda: (package / "data" / "instance_types.yaml").write_text((package / "data" / "instance_types.yaml").read_text() + "\n"),
        lambda: (project / "requirements.lock").write_text("uv==1\n"),
        lambda: (project / "package-lock.json").write_text("{}\n"),
        lambda: (project / "catalog").mkdir() or (project / "catalog" / "instance_types.yaml").write_text("clouds: {}\n"),
        lambda: (project / "manifests").mkdir() or (project / "manifests" / "m.yaml").write_text("a: 1\n"),
        lambda: (project / "dist" / "f.yaml").write_text("x\n"),
    ]
    seen = {first}
    for change in changes:
        change()
        now = digest()
        assert now not in seen
        seen.add(now)
    assert digest(("y",)) not in seen  # other arguments (--env, --out) are another record
