"""Props checking shared by the Terraform constructs.

A construct checks its props when it is built and refuses what its cloud cannot take, with the
construct's path, the field, what is wrong and how to fix it, in the same shape as an error in
an environment file (`where: field: message` and a `fix:` line). The cloud rules themselves
live in `aiops.model.cloud_rules`, shared with the model's validators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from constructs import Construct

from aiops.model import NodePool
from aiops.model.catalog import Cloud
from aiops.model.cloud_rules import Violation, pool_violations, zone_violation


class InvalidProps(ValueError):
    """A construct refused its props."""

    def __init__(self, construct: Construct, field: str, message: str, hint: str) -> None:
        self.path, self.field, self.message, self.hint = construct.node.path, field, message, hint
        super().__init__(f"{self.path}: {field}: {message}\n    fix: {hint}")


def field_path(parts: Iterable[str | int]) -> str:
    """('pool', 'gpu', 'count') -> 'pool.gpu.count'; ('zones', 1) -> 'zones[1]'."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def refuse(construct: Construct, violation: Violation | None, *, field: tuple[str | int, ...] = ()) -> None:
    """Raise InvalidProps for a broken cloud rule; `field` is the props field the rule checked."""
    if violation is not None:
        raise InvalidProps(construct, field_path((*field, *violation.at)), violation.message, violation.hint)


def check_pool(construct: Construct, cloud: Cloud, pool: NodePool, *, field: str = "pool") -> None:
    """A node pool must fit its cloud: name, instance type, GPUs (see aiops.model.cloud_rules)."""
    gpu_type, gpu_count = pool.gpu_asked()
    for violation in pool_violations(
        cloud, name=pool.name, instance_type=pool.instance_type, gpu_type=gpu_type, gpu_count=gpu_count, system=pool.system, taints=len(pool.taints), min_size=pool.min,
        capacity_type=pool.capacity_type, alternatives=pool.alternative_instance_types, time_slicing=pool.sharing()[0], mig=pool.sharing()[1],
    ):
        refuse(construct, violation, field=(field,))


def check_zones(construct: Construct, cloud: Cloud, region: str, zones: tuple[str, ...] | list[str], *, field: str = "zones") -> None:
    refuse(construct, zone_violation(cloud, region, list(zones)), field=(field,))


def terraform_id(*parts: str) -> str:
    """A Terraform logical id from readable parts: 'gpu-training', 'nvidia.com/gpu' -> 'gpu_training_nvidia_com_gpu'.

    Every resource gets an explicit logical id (cdktn would otherwise append a hash of its
    construct path), so the JSON is the same from any folder and reads like hand-written HCL.
    """
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_") for part in parts if part)


def unique_ids(construct: Construct, field: str, ids: Mapping[str, str]) -> None:
    """Refuse two keys (e.g. tag keys) that would get the same logical id."""
    seen: dict[str, str] = {}
    for key, logical_id in ids.items():
        if logical_id in seen:
            raise InvalidProps(
                construct,
                field,
                f"'{seen[logical_id]}' and '{key}' would both become the Terraform id '{logical_id}'",
                "rename one of them so they differ in more than punctuation",
            )
        seen[logical_id] = key
