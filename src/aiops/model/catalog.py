"""The instance-type catalog: vCPU, memory, GPUs and price of every machine type we use.

The defaults live in `aiops/data/instance_types.yaml` (package data) so that they are reviewed
like code. A project adds or overrides types in its own `catalog/instance_types.yaml` (same
format; `hoursPerMonth` optional; a type listed there replaces the packaged one whole), which
the `aiops` commands read from the project root (`use_repository_catalog`) and `aiops diff` /
`aiops cost --rev` read at each revision (`using_catalog`). Prices are per region: either one
`price:` (with its `region`) or `prices:` keyed by region, each with its source and date; this
module types and indexes them. Capacity checks (queues, validators) and cost
reports (`aiops cost`, `aiops diff`) read the same objects, so their numbers agree.

Plain frozen dataclasses, read with a strict little reader (unknown or missing keys and wrong
types are errors) rather than pydantic: `aiops validate` and `aiops diff` read the catalog on
every run, and importing pydantic and building models would cost them more than the rest of
their Python work together (see scripts/bench_validate.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

import yaml

Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")
REPOSITORY_CATALOG = "catalog/instance_types.yaml"  # the project's own types, relative to its root


class CatalogError(ValueError):
    """The catalog file itself is malformed (src/aiops/data/instance_types.yaml or a project catalog/instance_types.yaml)."""


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
    # MIG: each profile the GPU can be cut into (A100, H100), with how many fit on one GPU
    # (e.g. 1g.10gb: 7); None: the GPU has no MIG.
    mig_profiles: dict[str, int] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Retirement:
    date: str
    source: str
    replacement: str


class _PricedByRegion:
    """Prices of a catalog item by region and capacity type (instance types and accelerators)."""

    price: Price
    regional_prices: dict[str, Price]
    spot_prices: dict[str, Price]

    def price_in(self, region: str) -> Price | None:
        """The on-demand price in this region, when the catalog has one (never another region's)."""
        return self.regional_prices.get(region) or (self.price if self.price is not None and self.price.region == region else None)

    def price_for(self, region: str, capacity_type: str = "onDemand") -> Price | None:
        """The on-demand or spot price in this region (None: the catalog has none there)."""
        return self.spot_prices.get(region) if capacity_type == "spot" else self.price_in(region)


@dataclass(frozen=True)
class InstanceType(_PricedByRegion):
    vcpu: int
    memory_gi_b: float
    price: Price  # the first region's on-demand price (where a report has no region to go by)
    gpu: Gpu | None = None
    retirement: Retirement | None = None
    regional_prices: dict[str, Price] = field(default_factory=dict, compare=False, hash=False, repr=False, metadata={"yaml": False})
    spot_prices: dict[str, Price] = field(default_factory=dict, compare=False, hash=False, repr=False, metadata={"yaml": False})


@dataclass(frozen=True)
class Accelerator(_PricedByRegion):
    """A GPU that attaches to a machine instead of being part of its type (Google Cloud)."""

    model: str
    memory_gi_b: int
    max_per_instance: int
    machine_families: tuple[str, ...]
    # None: the machine types it comes with carry it in their own price (A2's A100s), so a pool
    # is never billed for it apart (aiops.tree.pools.PoolFacts.price_parts).
    price: Price | None = None
    regional_prices: dict[str, Price] = field(default_factory=dict, compare=False, hash=False, repr=False, metadata={"yaml": False})
    spot_prices: dict[str, Price] = field(default_factory=dict, compare=False, hash=False, repr=False, metadata={"yaml": False})


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
    known = {_key(f.name): f for f in fields(cls) if f.metadata.get("yaml", True)}
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
    if get_args(hint) == (str, int):
        if not isinstance(value, dict) or not value:
            raise CatalogError(f"{where}: expected a mapping of names to positive whole numbers, got {value!r}")
        return {str(k): _value(int, v, f"{where}.{k}") for k, v in value.items()}
    if get_args(hint) == (str, ...):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise CatalogError(f"{where}: no reader for {hint}")  # pragma: no cover (a new field type)


def _by_region(prices: Any, where: str) -> dict[str, Price]:
    if not isinstance(prices, dict) or not prices:
        raise CatalogError(f"{where}: expected a mapping of region to price, like us-east-1: {{hourlyUSD: 1.0, source: ..., date: ...}}")
    regional = {}
    for region, body in prices.items():
        if not isinstance(body, dict):
            raise CatalogError(f"{where}.{region}: expected a mapping with hourlyUSD, source and date")
        regional[str(region)] = _read(Price, {**body, "region": str(region)}, f"{where}.{region}")
    return regional


def _regional(item: Any, where: str) -> tuple[Any, dict[str, Price], dict[str, Price]]:
    """An entry with `prices: {<region>: {hourlyUSD, source, date}}` as `price:` (the first) and
    the on-demand prices by region, and its `spotPrices:` (same shape) by region; an entry with
    one `price:` as it is."""
    if not isinstance(item, dict):
        return item, {}, {}
    spot = _by_region(item["spotPrices"], f"{where}.spotPrices") if "spotPrices" in item else {}
    item = {k: v for k, v in item.items() if k != "spotPrices"}
    if "prices" not in item:
        return item, {}, spot
    if "price" in item:
        raise CatalogError(f"{where}: give either price or prices (by region), not both")
    regional = _by_region(item["prices"], f"{where}.prices")
    first = next(iter(regional.values()))
    rest = {k: v for k, v in item.items() if k != "prices"}
    return {**rest, "price": {"hourlyUSD": first.hourly_usd, "region": first.region, "source": first.source, "date": first.date}}, regional, spot


def _entry(cls: type, item: Any, where: str) -> Any:
    item, regional, spot = _regional(item, where)
    entry = _read(cls, item, where)
    return replace(entry, regional_prices=regional, spot_prices=spot) if regional or spot else entry


def parse_catalog(data: Any, where: str = "instance_types.yaml", *, partial: bool = False) -> Catalog:
    """The catalog in `data`; `partial`: a project's additions (hoursPerMonth and clouds optional)."""
    keys = set(data) if isinstance(data, dict) else None
    if keys is None or (partial and not keys <= {"hoursPerMonth", "clouds"}) or (not partial and keys != {"hoursPerMonth", "clouds"}):
        expected = "only the keys hoursPerMonth and clouds" if partial else "exactly the keys hoursPerMonth and clouds"
        raise CatalogError(f"{where}: expected {expected}")
    clouds: dict[Cloud, CloudCatalog] = {}
    for cloud, body in (data.get("clouds") or {}).items():
        if cloud not in CLOUDS:
            raise CatalogError(f"{where}: clouds.{cloud}: unknown cloud; allowed: {', '.join(CLOUDS)}")
        if not isinstance(body, dict) or not set(body) <= {"instanceTypes", "accelerators"}:
            raise CatalogError(f"{where}: clouds.{cloud}: expected instanceTypes and optionally accelerators")
        clouds[cloud] = CloudCatalog(
            {name: _entry(InstanceType, item, f"{where}: clouds.{cloud}.instanceTypes.{name}") for name, item in (body.get("instanceTypes") or {}).items()},
            {name: _entry(Accelerator, item, f"{where}: clouds.{cloud}.accelerators.{name}") for name, item in (body.get("accelerators") or {}).items()},
        )
    hours = data.get("hoursPerMonth", 1 if partial else None)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
        raise CatalogError(f"{where}: hoursPerMonth: expected a positive whole number, got {hours!r}")
    return Catalog(hours, clouds)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def packaged_catalog() -> Catalog:
    return parse_catalog(_yaml(resources.files("aiops").joinpath("data/instance_types.yaml").read_text(encoding="utf-8")))


@cache
def _merged(overlay: tuple[str, str] | None) -> Catalog:
    base = packaged_catalog()
    if overlay is None:
        return base
    text, where = overlay
    data = _yaml(text) or {}
    extra = parse_catalog(data, where, partial=True)
    clouds = dict(base.clouds)
    for cloud, body in extra.clouds.items():
        clouds[cloud] = CloudCatalog({**base.clouds[cloud].instance_types, **body.instance_types},
                                     {**base.clouds[cloud].accelerators, **body.accelerators})
    hours = data.get("hoursPerMonth", base.hours_per_month) if isinstance(data, dict) else base.hours_per_month
    return Catalog(hours, clouds)


_overlay: tuple[str, str] | None = None  # (text, where) of the project's catalog in effect


def load_catalog() -> Catalog:
    """The packaged catalog with the project's additions in effect (see use_repository_catalog)."""
    return _merged(_overlay)


def repository_catalog_text() -> tuple[str, str] | None:
    """The project's catalog in effect, as (text, where), to hand to another process."""
    return _overlay


def use_catalog_text(overlay: tuple[str, str] | None) -> None:
    global _overlay
    _merged(overlay)  # a malformed file fails here, where it is named
    _overlay = overlay


def use_repository_catalog(root: Path | None) -> None:
    """Use `<root>/catalog/instance_types.yaml` when it exists (none: the packaged catalog alone)."""
    path = Path(root) / REPOSITORY_CATALOG if root is not None else None
    use_catalog_text((path.read_text(encoding="utf-8"), REPOSITORY_CATALOG) if path is not None and path.is_file() else None)


@contextmanager
def using_catalog(text: str | None, where: str = REPOSITORY_CATALOG) -> Iterator[Catalog]:
    """The catalog of a revision (its catalog/instance_types.yaml text, or None) for a while."""
    previous = _overlay
    use_catalog_text((text, where) if text is not None else None)
    try:
        yield load_catalog()
    finally:
        use_catalog_text(previous)
