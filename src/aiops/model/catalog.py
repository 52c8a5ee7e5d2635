"""The instance-type catalog: vCPU, memory, GPUs and price of every machine type we use.

The facts live in `aiops/data/instance_types.yaml` (package data) so that they are reviewed
like code; this module types and indexes them. Capacity checks (queues, validators) and cost
reports (`aiops cost`, `aiops diff`) read the same objects, so their numbers agree.

Plain frozen dataclasses, read with a strict little reader (unknown or missing keys and wrong
types are errors) rather than pydantic: `aiops validate` and `aiops diff` read the catalog on
every run, and importing pydantic and building models would cost them more than the rest of
their Python work together (see scripts/bench_validate.py).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args, get_type_hints

import yaml

Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")


class CatalogError(ValueError):
    """The catalog file itself is malformed (a mistake in src/aiops/data/instance_types.yaml)."""


@dataclass(frozen=True)
class Price:
    hourly_usd: float
    region: str
    source: str
    date: str


@dataclass(frozen=True)
class Gpu:
    model: str
    count: int
    memory_gi_b: int


@dataclass(frozen=True)
class Retirement:
    date: str
    source: str
    replacement: str


@dataclass(frozen=True)
class InstanceType:
    vcpu: int
    memory_gi_b: float
    price: Price
    gpu: Gpu | None = None
    retirement: Retirement | None = None


@dataclass(frozen=True)
class Accelerator:
    """A GPU that attaches to a machine instead of being part of its type (Google Cloud)."""

    model: str
    memory_gi_b: int
    max_per_instance: int
    machine_families: tuple[str, ...]
    price: Price


@dataclass(frozen=True)
class CloudCatalog:
    instance_types: dict[str, InstanceType]
    accelerators: dict[str, Accelerator]


@dataclass(frozen=True)
class Catalog:
    hours_per_month: int
    clouds: dict[Cloud, CloudCatalog]

    def instance_type(self, cloud: Cloud, name: str) -> InstanceType | None:
        return self.clouds[cloud].instance_types.get(name)

    def accelerator(self, cloud: Cloud, name: str) -> Accelerator | None:
        return self.clouds[cloud].accelerators.get(name)

    def instance_type_names(self, cloud: Cloud) -> list[str]:
        return sorted(self.clouds[cloud].instance_types)

    def accelerator_names(self, cloud: Cloud) -> list[str]:
        return sorted(self.clouds[cloud].accelerators)


# YAML key of each field: camelCase, with the units spelled as in the file.
_KEYS = {"hourly_usd": "hourlyUSD", "memory_gi_b": "memoryGiB"}


def _key(field: str) -> str:
    if field in _KEYS:
        return _KEYS[field]
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def _read(cls: type, data: Any, where: str) -> Any:
    """An instance of a catalog dataclass from YAML data, refusing anything unexpected."""
    if not isinstance(data, dict):
        raise CatalogError(f"{where}: expected a mapping, got {data!r}")
    hints = get_type_hints(cls)
    known = {_key(f.name): f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(known)}")
    values = {}
    for key, field in known.items():
        if key not in data:
            if field.default is not MISSING:  # optional (defaults to None)
                continue
            raise CatalogError(f"{where}: missing key {key}")
        values[field.name] = _value(hints[field.name], data[key], f"{where}.{key}")
    return cls(**values)


def _value(hint: Any, value: Any, where: str) -> Any:
    optional = [a for a in get_args(hint) if a is not type(None)]
    if type(None) in get_args(hint):
        return None if value is None else _value(optional[0], value, where)
    if is_dataclass(hint):
        return _read(hint, value, where)
    if hint is str:
        if not isinstance(value, str):
            raise CatalogError(f"{where}: expected a string, got {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise CatalogError(f"{where}: expected a positive whole number, got {value!r}")
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise CatalogError(f"{where}: expected a positive number, got {value!r}")
        return float(value)
    if get_args(hint) == (str, ...):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise CatalogError(f"{where}: no reader for {hint}")  # pragma: no cover (a new field type)


def parse_catalog(data: Any, where: str = "instance_types.yaml") -> Catalog:
    if not isinstance(data, dict) or set(data) != {"hoursPerMonth", "clouds"}:
        raise CatalogError(f"{where}: expected exactly the keys hoursPerMonth and clouds")
    clouds: dict[Cloud, CloudCatalog] = {}
    for cloud, body in (data["clouds"] or {}).items():
        if cloud not in CLOUDS:
            raise CatalogError(f"{where}: clouds.{cloud}: unknown cloud; allowed: {', '.join(CLOUDS)}")
        if not isinstance(body, dict) or not set(body) <= {"instanceTypes", "accelerators"}:
            raise CatalogError(f"{where}: clouds.{cloud}: expected instanceTypes and optionally accelerators")
        clouds[cloud] = CloudCatalog(
            {name: _read(InstanceType, item, f"{where}: clouds.{cloud}.instanceTypes.{name}") for name, item in (body.get("instanceTypes") or {}).items()},
            {name: _read(Accelerator, item, f"{where}: clouds.{cloud}.accelerators.{name}") for name, item in (body.get("accelerators") or {}).items()},
        )
    hours = data["hoursPerMonth"]
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
        raise CatalogError(f"{where}: hoursPerMonth: expected a positive whole number, got {hours!r}")
    return Catalog(hours, clouds)


@cache
def load_catalog() -> Catalog:
    text = resources.files("aiops").joinpath("data/instance_types.yaml").read_text(encoding="utf-8")
    return parse_catalog(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
