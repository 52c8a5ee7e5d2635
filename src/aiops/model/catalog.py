"""The instance-type catalog: vCPU, memory, GPUs and price of every machine type we use.

The facts live in `aiops/data/instance_types.yaml` (package data) so that they are reviewed
like code; this module only types and indexes them. Capacity checks (queues, validators) and
cost reports (`aiops cost`, `aiops diff`) read the same objects, so their numbers agree.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from ruamel.yaml import YAML

Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class Price(_Fact):
    hourly_usd: float = Field(gt=0, alias="hourlyUSD")
    region: str
    source: str
    date: str


class Gpu(_Fact):
    model: str
    count: int = Field(ge=1)
    memory_gi_b: int = Field(alias="memoryGiB")


class Retirement(_Fact):
    date: str
    source: str
    replacement: str


class InstanceType(_Fact):
    vcpu: int = Field(ge=1)
    memory_gi_b: float = Field(alias="memoryGiB")
    gpu: Gpu | None = None
    price: Price
    retirement: Retirement | None = None


class Accelerator(_Fact):
    """A GPU that attaches to a machine instead of being part of its type (Google Cloud)."""

    model: str
    memory_gi_b: int = Field(alias="memoryGiB")
    max_per_instance: int = Field(ge=1)
    machine_families: tuple[str, ...]
    price: Price


class CloudCatalog(_Fact):
    instance_types: dict[str, InstanceType]
    accelerators: dict[str, Accelerator] = {}


class Catalog(_Fact):
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


@cache
def load_catalog() -> Catalog:
    text = resources.files("aiops").joinpath("data/instance_types.yaml").read_text(encoding="utf-8")
    return Catalog.model_validate(YAML(typ="safe").load(text))
