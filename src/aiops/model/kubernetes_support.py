"""The dated table of standard Kubernetes support per cloud (src/aiops/data/kubernetes_support.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Support:
    cloud: str
    service: str
    version: str
    start: date
    end: date
    source: str


@dataclass(frozen=True)
class SupportTable:
    checked: date
    entries: dict[tuple[str, str], Support]

    def support(self, cloud: str, version: str) -> Support | None:
        return self.entries.get((cloud, version))

    def versions(self, cloud: str) -> list[str]:
        return sorted((v for c, v in self.entries if c == cloud), key=lambda v: tuple(int(p) for p in v.split(".")))

    def supported(self, cloud: str, on: date) -> list[str]:
        return [v for v in self.versions(cloud) if self.entries[(cloud, v)].start <= on <= self.entries[(cloud, v)].end]

    def service(self, cloud: str) -> str:
        return next((s.service for (c, _), s in self.entries.items() if c == cloud), cloud)


@cache
def load_support_table() -> SupportTable:
    text = resources.files("aiops").joinpath("data/kubernetes_support.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    entries: dict[tuple[str, str], Support] = {}
    for cloud, block in data["clouds"].items():
        for version, dates in block["versions"].items():
            entries[(cloud, str(version))] = Support(
                cloud, block["service"], str(version), date.fromisoformat(dates["start"]), date.fromisoformat(dates["end"]), block["source"],
            )
    return SupportTable(date.fromisoformat(data["checked"]), entries)
