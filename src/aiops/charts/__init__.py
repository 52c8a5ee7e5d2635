"""tools/charts.lock: the Helm chart packages `aiops simulate` renders, each pinned by two sha256.

One line a chart:

    file  mirror-sha256  published-sha256  repository  chart  version

`mirror-sha256` is the digest of the package in this project's offline mirror (the CI's
shared/upstream/charts, repackaged from the charts' sources, so its bytes are its own);
`published-sha256` is the digest of the package the chart's repository serves, which a user
with network pulls. A published digest nobody has learned yet is written `unknown`: the set-up
refuses to pull such a chart (`install.py`) until `aiops charts pin` (`pin.py`) has pulled it
with the pinned Helm and written its digest here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = Path("tools/charts.lock")
UNKNOWN = "unknown"
NETWORK = "network"  # AIOPS_CHART_MIRROR=network: pull from the repositories instead of a mirror folder
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = ("file", "mirror-sha256", "published-sha256", "repository", "chart", "version")


class ChartError(Exception):
    """A lock line is wrong, a pull failed or a package does not match its pin; the message says which."""


@dataclass(frozen=True)
class LockedChart:
    lock: str  # the lock file, as named to the user
    line: int
    file: str
    mirror_sha256: str
    published_sha256: str | None  # None: not pinned yet (`unknown` in the lock)
    repository: str
    chart: str
    version: str

    @property
    def where(self) -> str:
        return f"{self.lock}:{self.line}"

    def describe(self) -> str:
        return f"{self.chart} {self.version}"


def read_lock(path: Path) -> list[LockedChart]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChartError(f"{path}: {exc.strerror or exc}") from None
    charts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        where = f"{path}:{number}"
        if len(fields) != len(_FIELDS):
            raise ChartError(f"{where}: {len(fields)} fields, but a chart line has {len(_FIELDS)}: {'  '.join(_FIELDS)} "
                             f"(write {UNKNOWN} for a published digest not pinned yet)")
        file, mirror, published, repository, chart, version = fields
        if not _SHA256.match(mirror):
            raise ChartError(f"{where}: mirror-sha256 {mirror!r} is not a sha256 (64 lowercase hex digits)")
        if published != UNKNOWN and not _SHA256.match(published):
            raise ChartError(f"{where}: published-sha256 {published!r} is neither a sha256 (64 lowercase hex digits) nor {UNKNOWN}")
        if file != f"{chart}-{version}.tgz":
            raise ChartError(f"{where}: the file {file} is not {chart}-{version}.tgz, the name Helm gives chart {chart} version {version}")
        charts.append(LockedChart(str(path), number, file, mirror, None if published == UNKNOWN else published, repository, chart, version))
    return charts


def with_published(path: Path, digests: dict[int, str]) -> None:
    """Write published digests into the lock: line number -> sha256; every other byte stays."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, digest in digests.items():
        raw = lines[number - 1]
        fields = raw.split()
        fields[2] = digest
        ending = raw[len(raw.rstrip("\r\n")):]
        lines[number - 1] = " ".join(fields) + ending
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text("".join(lines), encoding="utf-8")
    temporary.replace(path)
