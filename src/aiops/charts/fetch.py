"""Getting the pinned chart packages: copied from a mirror folder, or pulled with the pinned Helm.

`install` fills the chart cache of `aiops simulate` (the set-up runs it as `aiops charts
install`); `pin.py` pulls the same way to learn the published digests. Helm runs with its cache,
configuration and data folders in a scratch folder, so that no repository the user has added,
and no earlier download, changes what is pulled.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiops.charts import NETWORK, ChartError, LockedChart


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def helm_pull(helm: Path, chart: LockedChart, destination: Path) -> Path:
    """Pull the chart's pinned version from its repository into `destination`; the package's path."""
    destination.mkdir(parents=True, exist_ok=True)
    if chart.repository.startswith("oci://"):  # an OCI repository names the chart itself (Kueue's)
        command = [str(helm), "pull", chart.repository, "--version", chart.version, "--destination", str(destination)]
    else:
        command = [str(helm), "pull", chart.chart, "--repo", chart.repository, "--version", chart.version, "--destination", str(destination)]
    with tempfile.TemporaryDirectory(prefix="aiops-helm-home-") as home:
        environment = {**os.environ, **{f"HELM_{kind}_HOME": str(Path(home) / kind.lower()) for kind in ("CACHE", "CONFIG", "DATA")}}
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ChartError(f"{chart.where}: `helm pull` of {chart.describe()} from {chart.repository} did not finish: {exc}") from None
    if result.returncode != 0:
        raise ChartError(f"{chart.where}: `helm pull` of {chart.describe()} from {chart.repository} failed: {result.stderr.strip()}")
    package = destination / chart.file
    if not package.is_file():
        made = ", ".join(sorted(p.name for p in destination.iterdir())) or "nothing"
        raise ChartError(f"{chart.where}: `helm pull` of {chart.describe()} from {chart.repository} wrote {made}, not {chart.file}")
    return package


def unpinned_message(charts: list[LockedChart]) -> str:
    lines = [f"{c.where}: {c.describe()} from {c.repository} has no published digest (published-sha256 is unknown)" for c in charts]
    lock = charts[0].lock
    return (
        "\n".join(lines) + "\n"
        f"AIOPS_CHART_MIRROR=network pulls each chart from its repository, and {lock} pins only the sha256 of this project's "
        "mirror packages (repackaged, so other bytes) for these: a pulled package could not be checked. Pin the published "
        "digests on a machine that reaches the repositories with `.venv/bin/aiops charts pin` (it pulls each chart's pinned "
        f"version with the pinned Helm and writes its sha256 into {lock}), review and commit the lock; or set "
        "AIOPS_CHART_MIRROR to a folder holding the mirror's packages"
    )


def install(charts: list[LockedChart], source: str, into: Path, helm: Callable[[], Path], log: Callable[[str], None] = print) -> None:
    """Fill `into` with every locked package, from the mirror folder `source` or from the network
    (`source` is "network"), each checked against its pin. Built beside `into` and swapped in, so a
    failure leaves no partial cache (and no previous one: the set-up runs again)."""
    if source == NETWORK:
        unpinned = [c for c in charts if c.published_sha256 is None]
        if unpinned:
            raise ChartError(unpinned_message(unpinned))
    elif not Path(source).is_dir():
        raise ChartError(f"AIOPS_CHART_MIRROR={source} is neither a folder nor {NETWORK}")
    into = into.resolve()
    into.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".aiops-charts-", dir=into.parent))
    try:
        for chart in charts:
            if source == NETWORK:
                package = helm_pull(helm(), chart, build)
                expected, pin = chart.published_sha256, "published-sha256"
            else:
                mirrored = Path(source) / chart.file
                if not mirrored.is_file():
                    raise ChartError(f"{chart.where}: {chart.file} is not in the mirror {source}")
                package = build / chart.file
                shutil.copyfile(mirrored, package)
                expected, pin = chart.mirror_sha256, "mirror-sha256"
            actual = sha256_of(package)
            if actual != expected:
                origin = f"pulled from {chart.repository}" if source == NETWORK else f"in the mirror {source}"
                raise ChartError(
                    f"{chart.where}: {chart.file} {origin} has sha256 {actual}, but the lock pins {expected} as its {pin}; "
                    "refusing to use it" + (f" (the repository serves other bytes for {chart.describe()} than when the digest was pinned: "
                                            "find out why before you pin it again)" if source == NETWORK else "")
                )
            log(f"{chart.file}: sha256 checked ({pin})")
    except BaseException:
        # The lock's packages could not all be checked: an older cache would render other versions.
        shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(into, ignore_errors=True)
        raise
    shutil.rmtree(into, ignore_errors=True)
    os.rename(build, into)
