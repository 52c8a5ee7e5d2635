"""Terraform JSON: a CDK Terrain App with one stack per environment."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from cdktn import App

from aiops.layout import TERRAFORM_FILE, TERRAFORM_VERSIONS_FILE, EnvironmentLayout
from aiops.model import Environment
from aiops_constructs.terraform.cluster_stack import ClusterStack, versions_tf


# The Terraform-compatible runtimes the stacks are written for. S3-native state locking
# (`use_lockfile`) needs 1.10. cdktf.json declares the same (tests/test_terraform_app.py).
TARGET_VERSIONS = {"terraform": ">=1.10.0", "opentofu": ">=1.10.0"}


def build_terraform_app(environments: list[Environment], outdir: Path, traffic: dict | None = None) -> tuple[App, dict[str, PurePosixPath]]:
    """The cdktn App (as `cdktn synth` runs it) and the dist/ folder of each of its stacks: one
    cluster stack per environment, and a traffic stack (Route 53 failover records or a Traffic Manager profile) for each
    primary with a standby that takes its traffic (`traffic`, from aiops.failover.resolve)."""
    app = App(outdir=str(outdir), context={"targetVersions": TARGET_VERSIONS})
    folders: dict[str, PurePosixPath] = {}
    for environment in environments:
        stack_id = f"{environment.name}"
        pairs = (traffic or {}).get(environment.name)
        stack = ClusterStack(app, stack_id, environment=environment, primary_of_pair=bool(pairs))
        folders[stack_id] = EnvironmentLayout(environment.name).terraform_stack(stack.stack_name)
        if pairs:
            from aiops_constructs.terraform.traffic.stack import TrafficStack

            traffic_stack = TrafficStack(app, f"{environment.name}-traffic", environment=environment, pairs=pairs)
            folders[f"{environment.name}-traffic"] = EnvironmentLayout(environment.name).terraform_stack(traffic_stack.stack_name)
    return app, folders


def synthesize_terraform(environments: list[Environment], outdir: Path, traffic: dict | None = None) -> dict[PurePosixPath, bytes]:
    """Run the cdktn synthesis into `outdir` (a regular cdktf.out) and return each stack's JSON and versions.tf."""
    app, folders = build_terraform_app(environments, outdir, traffic)
    app.synth()
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    out: dict[PurePosixPath, bytes] = {}
    for stack_id, stack in manifest["stacks"].items():
        out[folders[stack_id] / TERRAFORM_FILE] = (outdir / stack["synthesizedStackPath"]).read_bytes()
        out[folders[stack_id] / TERRAFORM_VERSIONS_FILE] = versions_tf().encode()
    return out
