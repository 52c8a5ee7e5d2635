"""`aiops charts pin`: learn the published digest of every chart in tools/charts.lock.

Each chart's pinned version is pulled from its repository with the pinned Helm (as the set-up
with AIOPS_CHART_MIRROR=network pulls it), and the package's sha256 is written into the lock's
published-sha256 column. A digest already pinned is checked, never replaced: a repository that
now serves other bytes for the same version is refused, and the lock keeps what it had (to pin
again on purpose, write `unknown` in its place first). Needs network access to the chart
repositories; review the changed lock and commit it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiops.charts import ChartError, LockedChart, read_lock, with_published
from aiops.charts.fetch import helm_pull, sha256_of


@dataclass
class PinResult:
    pinned: list[LockedChart]  # published digests written now
    unchanged: list[LockedChart]  # already pinned, and the repository still serves those bytes
    errors: list[str]  # charts that could not be pinned, with why


def pin(lock: Path, helm: Path, names: list[str] | None = None, log: Callable[[str], None] = print) -> PinResult:
    charts = read_lock(lock)
    if names:
        known = {c.chart for c in charts}
        unknown = sorted(set(names) - known)
        if unknown:
            raise ChartError(f"{lock} has no chart {', '.join(unknown)} (it has {', '.join(sorted(known))})")
        charts = [c for c in charts if c.chart in names]
    result = PinResult([], [], [])
    digests: dict[int, str] = {}
    with tempfile.TemporaryDirectory(prefix="aiops-charts-pin-") as scratch:
        for chart in charts:
            try:
                package = helm_pull(helm, chart, Path(scratch) / str(chart.line))
            except ChartError as exc:
                result.errors.append(str(exc))
                continue
            digest = sha256_of(package)
            if chart.published_sha256 is None:
                digests[chart.line] = digest
                result.pinned.append(chart)
                log(f"{chart.describe()}: published sha256 {digest} (pulled from {chart.repository})")
            elif chart.published_sha256 == digest:
                result.unchanged.append(chart)
                log(f"{chart.describe()}: unchanged, sha256 {digest}")
            else:
                result.errors.append(
                    f"{chart.where}: {chart.file} pulled from {chart.repository} has sha256 {digest}, but the lock pins "
                    f"{chart.published_sha256} as its published digest; refusing to replace it (the repository serves other bytes "
                    f"for {chart.describe()} than when it was pinned: find out why, then write unknown in its place to pin it again)"
                )
    if digests:
        with_published(lock, digests)
    return result
