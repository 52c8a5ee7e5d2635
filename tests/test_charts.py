"""tools/charts.lock and `aiops charts pin` / `aiops charts install`, for real: charts made and
packaged with the pinned Helm, served by a Helm chart repository on loopback (`helm repo index`
over the packages, Python's http.server), pulled with the pinned Helm.

An OCI repository (Kueue's chart is published at oci://registry.k8s.io) cannot be served here:
that needs an OCI registry, which nothing on this machine provides. `helm pull oci://...` takes
the other branch of `aiops.charts.fetch.helm_pull` and is not exercised by these tests."""

from __future__ import annotations

import hashlib
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import BIN, REPO, run

HELM = BIN / "helm"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def helm(*args: str, cwd: Path):
    return run([str(HELM), *args], cwd, check=True)


def package(tmp: Path, name: str, version: str, destination: Path, note: str = "") -> Path:
    """A chart made by `helm create`, packaged by `helm package` at this version."""
    source = tmp / "sources" / f"{name}-{version}-{len(note)}"
    source.parent.mkdir(parents=True, exist_ok=True)
    helm("create", str(source), cwd=tmp)
    (source / "Chart.yaml").write_text((source / "Chart.yaml").read_text().replace(f"name: {source.name}", f"name: {name}"))
    if note:
        (source / "templates" / "NOTES.txt").write_text(note)
    destination.mkdir(parents=True, exist_ok=True)
    helm("package", str(source), "--version", version, "--destination", str(destination), cwd=tmp)
    return destination / f"{name}-{version}.tgz"


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        type(self).requests.append(self.path)


@pytest.fixture
def repository(tmp_path):
    """A Helm chart repository at http://127.0.0.1:<port>/charts serving alpha 1.2.3 and beta 0.4.0."""
    root = tmp_path / "served"
    served = root / "charts"
    package(tmp_path, "alpha", "1.2.3", served)
    package(tmp_path, "beta", "0.4.0", served)
    _Quiet.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    url = f"http://127.0.0.1:{server.server_address[1]}/charts"
    helm("repo", "index", str(served), "--url", url, cwd=tmp_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url, served
    server.shutdown()
    server.server_close()


def lock_text(url: str, mirror_alpha: str, mirror_beta: str, alpha: str = "unknown", beta: str = "unknown") -> str:
    return (
        "# a comment the pin keeps\n"
        f"alpha-1.2.3.tgz {mirror_alpha} {alpha} {url} alpha 1.2.3\n"
        "\n"
        f"beta-0.4.0.tgz {mirror_beta} {beta} {url} beta 0.4.0\n"
    )


@pytest.fixture
def mirror(tmp_path):
    """The mirror: the same charts repackaged (other bytes, as this project's mirror is)."""
    folder = tmp_path / "mirror"
    alpha = package(tmp_path, "alpha", "1.2.3", folder, note="repackaged")
    beta = package(tmp_path, "beta", "0.4.0", folder, note="repackaged too")
    return folder, sha256(alpha), sha256(beta)


def aiops_charts(*args: str, cwd: Path):
    return run([str(BIN / "aiops"), "charts", *args], cwd)


def test_pin_writes_the_published_digests_and_the_network_install_checks_them(tmp_path, repository, mirror):
    url, served = repository
    folder, mirror_alpha, mirror_beta = mirror
    lock = tmp_path / "charts.lock"
    lock.write_text(lock_text(url, mirror_alpha, mirror_beta))
    result = aiops_charts("pin", "--lock", str(lock), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    alpha, beta = sha256(served / "alpha-1.2.3.tgz"), sha256(served / "beta-0.4.0.tgz")
    assert alpha != mirror_alpha  # the published package is not the mirror's
    assert lock.read_text() == lock_text(url, mirror_alpha, mirror_beta, alpha, beta)
    assert result.stdout.splitlines() == [
        f"alpha 1.2.3: published sha256 {alpha} (pulled from {url})",
        f"beta 0.4.0: published sha256 {beta} (pulled from {url})",
        f"wrote {lock}: 2 published digests pinned; review the change and commit it",
    ]
    assert "/charts/index.yaml" in _Quiet.requests and "/charts/alpha-1.2.3.tgz" in _Quiet.requests  # really pulled

    again = aiops_charts("pin", "--lock", str(lock), cwd=tmp_path)
    assert (again.returncode, again.stdout.splitlines()[-1]) == (0, f"{lock} unchanged")

    cache = tmp_path / "cache"
    installed = aiops_charts("install", "--from", "network", "--lock", str(lock), "--into", str(cache), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert {p.name: sha256(p) for p in cache.iterdir()} == {"alpha-1.2.3.tgz": alpha, "beta-0.4.0.tgz": beta}
    # The mirror's packages are checked against the other column.
    from_mirror = aiops_charts("install", "--from", str(folder), "--lock", str(lock), "--into", str(cache), cwd=tmp_path)
    assert from_mirror.returncode == 0, from_mirror.stderr
    assert {p.name: sha256(p) for p in cache.iterdir()} == {"alpha-1.2.3.tgz": mirror_alpha, "beta-0.4.0.tgz": mirror_beta}


def test_the_charts_download_by_default_only_once_every_published_digest_is_pinned(tmp_path, repository, mirror):
    """What the set-up does without AIOPS_CHART_MIRROR (scripts/bootstrap.sh asks
    `python -m aiops.charts.source`): nothing while a digest is unknown, the network once all are."""
    url, _ = repository
    _, mirror_alpha, mirror_beta = mirror
    lock = tmp_path / "charts.lock"

    def default_source() -> str:
        result = run([str(BIN / "python"), "-m", "aiops.charts.source", str(lock)], tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        return result.stdout

    lock.write_text(lock_text(url, mirror_alpha, mirror_beta, beta="0" * 64))  # alpha's still unknown
    assert default_source() == ""
    lock.write_text(lock_text(url, mirror_alpha, mirror_beta, "1" * 64, "0" * 64))
    assert default_source() == "network\n"
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text()
    assert 'chart_source=${AIOPS_CHART_MIRROR:-$("$VENV/bin/python" -m aiops.charts.source tools/charts.lock)}' in bootstrap
    assert '--from "$chart_source"' in bootstrap


def test_a_repository_serving_other_bytes_is_refused(tmp_path, repository, mirror):
    url, served = repository
    _, mirror_alpha, mirror_beta = mirror
    lock = tmp_path / "charts.lock"
    lock.write_text(lock_text(url, mirror_alpha, mirror_beta))
    assert aiops_charts("pin", "--lock", str(lock), cwd=tmp_path).returncode == 0
    pinned_text = lock.read_text()
    pinned = sha256(served / "alpha-1.2.3.tgz")
    # The repository now serves another alpha 1.2.3 (re-published with the same version).
    package(tmp_path, "alpha", "1.2.3", served, note="changed upstream")
    helm("repo", "index", str(served), "--url", url, cwd=tmp_path)
    now = sha256(served / "alpha-1.2.3.tgz")
    assert now != pinned

    refused = aiops_charts("pin", "--lock", str(lock), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"aiops charts pin: {lock}:2: alpha-1.2.3.tgz pulled from {url} has sha256 {now}, but the lock pins {pinned} as its "
        "published digest; refusing to replace it (the repository serves other bytes for alpha 1.2.3 than when it was pinned: "
        "find out why, then write unknown in its place to pin it again)\n"
    )
    assert lock.read_text() == pinned_text

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "old.tgz").write_text("an earlier cache")
    install = aiops_charts("install", "--from", "network", "--lock", str(lock), "--into", str(cache), cwd=tmp_path)
    assert install.returncode == 2
    assert install.stderr == (
        f"aiops charts install: {lock}:2: alpha-1.2.3.tgz pulled from {url} has sha256 {now}, but the lock pins {pinned} as its "
        "published-sha256; refusing to use it (the repository serves other bytes for alpha 1.2.3 than when the digest was "
        "pinned: find out why before you pin it again)\n"
    )
    assert not cache.exists()  # no partial cache, and no stale one either


def test_the_network_install_refuses_charts_without_a_published_digest(tmp_path, repository, mirror):
    url, _ = repository
    _, mirror_alpha, mirror_beta = mirror
    lock = tmp_path / "charts.lock"
    lock.write_text(lock_text(url, mirror_alpha, mirror_beta, beta="0" * 64))
    result = aiops_charts("install", "--from", "network", "--lock", str(lock), "--into", str(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"aiops charts install: {lock}:2: alpha 1.2.3 from {url} has no published digest (published-sha256 is unknown)\n"
        f"AIOPS_CHART_MIRROR=network pulls each chart from its repository, and {lock} pins only the sha256 of this project's "
        "mirror packages (repackaged, so other bytes) for these: a pulled package could not be checked. Pin the published "
        "digests on a machine that reaches the repositories with `.venv/bin/aiops charts pin` (it pulls each chart's pinned "
        f"version with the pinned Helm and writes its sha256 into {lock}), review and commit the lock; or set "
        "AIOPS_CHART_MIRROR to a folder holding the mirror's packages\n"
    )
    assert _Quiet.requests == []  # refused before anything was pulled
    assert not (tmp_path / "cache").exists()


def test_a_mirror_package_that_differs_is_refused(tmp_path, repository, mirror):
    url, served = repository
    folder, mirror_alpha, mirror_beta = mirror
    lock = tmp_path / "charts.lock"
    lock.write_text(lock_text(url, mirror_beta, mirror_beta))  # alpha pinned at beta's digest
    result = aiops_charts("install", "--from", str(folder), "--lock", str(lock), "--into", str(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"aiops charts install: {lock}:2: alpha-1.2.3.tgz in the mirror {folder} has sha256 {mirror_alpha}, but the lock pins "
        f"{mirror_beta} as its mirror-sha256; refusing to use it\n"
    )


@pytest.mark.parametrize("line, message", [
    ("alpha-1.2.3.tgz " + "a" * 64 + " https://example.org alpha 1.2.3",
     "5 fields, but a chart line has 6: file  mirror-sha256  published-sha256  repository  chart  version (write unknown for a published digest not pinned yet)"),
    ("alpha-1.2.3.tgz " + "a" * 64 + " sha256:abc https://example.org alpha 1.2.3",
     "published-sha256 'sha256:abc' is neither a sha256 (64 lowercase hex digits) nor unknown"),
    ("alpha-1.2.tgz " + "a" * 64 + " unknown https://example.org alpha 1.2.3",
     "the file alpha-1.2.tgz is not alpha-1.2.3.tgz, the name Helm gives chart alpha version 1.2.3"),
])
def test_a_wrong_lock_line_is_named_by_its_line(tmp_path, line, message):
    lock = tmp_path / "charts.lock"
    lock.write_text(f"# pins\n{line}\n")
    result = aiops_charts("pin", "--lock", str(lock), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"aiops charts pin: {lock}:2: {message}\n")


def test_the_projects_lock_never_passes_a_mirror_digest_off_as_published():
    """The mirror's packages were repackaged, so their bytes are not the published ones: a
    published digest is either learned by `aiops charts pin` or `unknown` (as all are today: this
    machine cannot reach the chart repositories, so a set-up without a mirror skips the charts and
    the simulation tests skip, saying why: simulate_fixtures.needs_the_chart_cache)."""
    from aiops.charts import read_lock

    charts = read_lock(REPO / "tools" / "charts.lock")
    assert len(charts) == 8
    assert [c.chart for c in charts if c.published_sha256 == c.mirror_sha256] == []


def test_the_projects_mirror_digests_match_the_mirror():
    from aiops.charts import read_lock

    mirror = os.environ.get("AIOPS_CHART_MIRROR")
    if not mirror or mirror == "network":
        pytest.skip("needs AIOPS_CHART_MIRROR set to the mirror folder (this project's CI: ../shared/upstream/charts)")
    charts = read_lock(REPO / "tools" / "charts.lock")
    assert {c.file: c.mirror_sha256 for c in charts} == {c.file: sha256(Path(mirror) / c.file) for c in charts}
