"""PriorityClasses: inference outranks batch training, which outranks data processing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
USER_PRIORITY_MAX = 1_000_000_000  # larger values are reserved for system-* classes


@dataclass(frozen=True)
class PriorityClassProps:
    name: str
    value: int
    description: str
    preempts: bool = True  # False: preemptionPolicy Never (waits instead of evicting others)


INFERENCE = "aiops-inference"
TRAINING = "aiops-training"
BATCH = "aiops-batch"

PLATFORM_PRIORITY_CLASSES = (
    PriorityClassProps(INFERENCE, 100_000, "Online inference: scheduled first, and may preempt training and batch pods for GPUs."),
    PriorityClassProps(TRAINING, 10_000, "Training workers and Ray clusters: below inference, above batch data work."),
    PriorityClassProps(BATCH, 1_000, "Data processing such as Dask: waits for room instead of preempting anything.", preempts=False),
)


class PriorityClasses(Construct):
    """Cluster-wide `PriorityClass`es (none is the global default: unlabelled pods stay at 0)."""

    def __init__(self, scope: Construct, id: str, *, classes: Sequence[PriorityClassProps] = PLATFORM_PRIORITY_CLASSES) -> None:
        super().__init__(scope, id)
        names = [c.name for c in classes]
        values = [c.value for c in classes]
        for priority in classes:
            if not _NAME.match(priority.name) or priority.name.startswith("system-"):
                raise ValueError(f"PriorityClasses: '{priority.name}' is not a valid name for a user PriorityClass")
            if names.count(priority.name) > 1:
                raise ValueError(f"PriorityClasses: '{priority.name}' is given twice")
            if values.count(priority.value) > 1:
                raise ValueError(f"PriorityClasses: value {priority.value} is given twice; equal priorities would not order anything")
            if not 0 <= priority.value <= USER_PRIORITY_MAX:
                raise ValueError(f"PriorityClasses: value {priority.value} of '{priority.name}' is outside 0..{USER_PRIORITY_MAX}")
            obj = ApiObject(
                self,
                priority.name,
                api_version="scheduling.k8s.io/v1",
                kind="PriorityClass",
                metadata={"name": priority.name},
            )
            obj.add_json_patch(JsonPatch.add("/value", priority.value))
            obj.add_json_patch(JsonPatch.add("/globalDefault", False))
            obj.add_json_patch(JsonPatch.add("/preemptionPolicy", "PreemptLowerPriority" if priority.preempts else "Never"))
            obj.add_json_patch(JsonPatch.add("/description", priority.description))
