"""The set-up command installed the pinned command-line tools into the project."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import BIN, REPO, needs_the_chart_cache, run


def test_kubeconform_is_the_pinned_version():
    assert run([str(BIN / "kubeconform"), "-v"], REPO, check=True).stdout.strip() == "v0.7.0"


def test_kustomize_is_the_pinned_version():
    assert run([str(BIN / "kustomize"), "version"], REPO, check=True).stdout.strip() == "v5.8.1"


def test_node_is_one_jsii_and_cdktn_support():
    major, minor, _ = run([str(BIN / "node"), "-p", "process.versions.node"], REPO, check=True).stdout.strip().split(".")
    assert (int(major), int(minor)) >= (22, 19)


def test_the_simulations_control_plane_is_the_pinned_release():
    folder = REPO / ".venv" / "libexec" / "aiops" / "kubernetes-1.36"
    for program in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert run([str(folder / program), "--version"], REPO, check=True).stdout.strip() == "Kubernetes v1.36.3", program
    assert run([str(BIN / "etcd"), "--version"], REPO, check=True).stdout.splitlines()[0] == "etcd Version: 3.6.16"
    assert run([str(BIN / "kwok"), "--version"], REPO, check=True).stdout.startswith("kwok version v0.8.0 ")


def test_the_charts_the_simulation_renders_are_the_ones_the_platform_pins():
    from aiops_constructs.k8s import charts

    from aiops.charts import read_lock

    # the repository too: `aiops charts pin` and the network set-up pull from where the HelmRelease does;
    # a chart the offline mirror lacks has no mirror digest to lock (charts.NOT_IN_MIRROR)
    unmirrored = {(source.url, source.chart, source.version) for source in charts.NOT_IN_MIRROR}
    pinned = {(source.url, source.chart, source.version) for source in vars(charts).values() if isinstance(source, charts.ChartSource)} - unmirrored
    locked = {(c.repository, c.chart, c.version) for c in read_lock(REPO / "tools" / "charts.lock")}  # read_lock checks each file name
    assert locked == pinned
    # what the simulation reports as not rendered is really absent from the mirror
    assert {(chart, version) for _url, chart, version in unmirrored} == {("aws-load-balancer-controller", "3.5.0")}
    mirror = os.environ.get("AIOPS_CHART_MIRROR")
    if mirror and mirror != "network":
        assert not [p.name for p in Path(mirror).glob("aws-load-balancer-controller-*.tgz")]


def test_the_host_run_operators_are_the_pinned_modules():
    from aiops.simulate.host_operators import KUBERAY_HOST_VERSION

    assert f"require github.com/ray-project/kuberay/ray-operator {KUBERAY_HOST_VERSION}" in (REPO / "tools/go/ray-operator/go.mod").read_text()
    from aiops_constructs.k8s import charts

    assert f"require sigs.k8s.io/kueue v{charts.KUEUE.version}" in (REPO / "tools/go/kueue/go.mod").read_text()


def test_which_chart_installs_which_crds_comes_from_the_charts():
    """The set-up renders every pinned chart with Helm and records its CRDs' groups and where the
    chart keeps them (crds/ folders can be skipped with install.crds: Skip; templates cannot)."""
    needs_the_chart_cache()
    from aiops.flux.apis import chart_crds
    from aiops.flux.chart_crds import read_index

    assert read_index() == {
        "cluster-autoscaler": {}, "metrics-server": {}, "prometheus-adapter": {},
        "dask-kubernetes-operator": {"kubernetes.dask.org": "crds-folder"},
        "gpu-operator": {"nfd.k8s-sigs.io": "crds-folder", "nvidia.com": "crds-folder"},
        "kube-prometheus-stack": {"monitoring.coreos.com": "crds-folder"},
        "kuberay-operator": {"ray.io": "crds-folder"},
        "kueue": {"kueue.x-k8s.io": "templates"},
    }
    assert chart_crds()["kueue"].installed_by({"spec": {"install": {"crds": "Skip"}}})  # templates: Skip does not stop them
    assert not chart_crds()["kuberay-operator"].installed_by({"spec": {"install": {"crds": "Skip"}}})
