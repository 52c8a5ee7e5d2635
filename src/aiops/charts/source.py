"""Where the set-up takes the charts from when AIOPS_CHART_MIRROR does not say.

Like the schema cache, the chart cache downloads by default: from the charts' own repositories
(`network`), each package checked against the published sha256 that tools/charts.lock pins. A
lock with a published digest still `unknown` cannot be checked, so until `aiops charts pin` (or
the "Pin chart digests" workflow) has written them all there is no default and the set-up skips
the step, saying why; a mirror folder (AIOPS_CHART_MIRROR=DIR) works either way.

`python -m aiops.charts.source [LOCK]` prints `network` when that is the default, else nothing
(scripts/bootstrap.sh reads it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiops.charts import LOCK_FILE, NETWORK, ChartError, LockedChart, read_lock


def unpinned(charts: list[LockedChart]) -> list[LockedChart]:
    """The charts whose published digest nobody has learned yet."""
    return [chart for chart in charts if chart.published_sha256 is None]


def default_source(charts: list[LockedChart]) -> str | None:
    return NETWORK if charts and not unpinned(charts) else None


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else LOCK_FILE
    try:
        source = default_source(read_lock(lock))
    except ChartError as exc:
        print(f"aiops charts: {exc}", file=sys.stderr)
        return 2
    if source:
        print(source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
