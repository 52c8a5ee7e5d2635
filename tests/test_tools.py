"""The set-up command installed the pinned command-line tools into the project."""

from __future__ import annotations

from conftest import BIN, REPO, run


def test_kubeconform_is_the_pinned_version():
    assert run([str(BIN / "kubeconform"), "-v"], REPO, check=True).stdout.strip() == "v0.7.0"


def test_kustomize_is_the_pinned_version():
    assert run([str(BIN / "kustomize"), "version"], REPO, check=True).stdout.strip() == "v5.8.1"


def test_node_is_one_jsii_and_cdktn_support():
    major, minor, _ = run([str(BIN / "node"), "-p", "process.versions.node"], REPO, check=True).stdout.strip().split(".")
    assert (int(major), int(minor)) >= (22, 19)
