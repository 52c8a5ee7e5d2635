"""`cdk8s synth` and `cdktn synth`, run through their real CLIs, do what `aiops synth` does."""

from __future__ import annotations

import json

from aiops.synth.dist_tree import read_tree
from conftest import BIN, copy_project, run


def test_cdk8s_synth_rewrites_dist_and_lists_the_manifests(tmp_path, reference_synthesis):
    project = copy_project(tmp_path / "project", with_dist=False)
    result = run([str(BIN / "cdk8s"), "synth"], project, check=True)
    assert read_tree(project / "dist") == reference_synthesis.files
    manifests = {p for p in reference_synthesis.files if p.suffix == ".yaml" and p.name != "kustomization.yaml"}
    assert read_tree(project / "cdk8s.out") == {p: reference_synthesis.files[p] for p in manifests}
    assert "  - cdk8s.out/aws-primary/infrastructure/configs/node-pools.yaml" in result.stdout.splitlines()
    assert "upgrade" not in result.stderr.lower() and "end-of-life" not in result.stderr


def test_cdktn_synth_writes_cdktf_out_and_dist(tmp_path, reference_synthesis):
    project = copy_project(tmp_path / "project", with_dist=False)
    run([str(BIN / "cdktn"), "synth"], project, check=True, env={"TF_CLI_CONFIG_FILE": ""})
    assert read_tree(project / "dist") == reference_synthesis.files
    manifest = json.loads((project / "cdktf.out" / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["aws-primary", "aws-primary-traffic", "azure-dr", "gcp-burst"]
    for stack, environment, folder in (("aws-primary", "aws-primary", "eks"), ("aws-primary-traffic", "aws-primary", "traffic"),
                                       ("azure-dr", "azure-dr", "aks"), ("gcp-burst", "gcp-burst", "gke")):
        native = (project / "cdktf.out" / manifest["stacks"][stack]["synthesizedStackPath"]).read_bytes()
        assert native == (project / "dist" / environment / "terraform" / folder / "cdk.tf.json").read_bytes()


def test_cdktf_json_declares_the_target_versions_the_app_uses():
    from aiops.synth.terraform import TARGET_VERSIONS
    from conftest import REPO

    assert json.loads((REPO / "cdktf.json").read_text())["targetVersions"] == TARGET_VERSIONS
