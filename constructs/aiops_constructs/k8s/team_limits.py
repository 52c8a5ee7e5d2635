"""A team namespace's ResourceQuota and LimitRange: what it may hold, outside Kueue too."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.quantity import QUANTITY_RE, parse_quantity
from aiops.model.workloads import GPU_RESOURCE

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class TeamLimitsProps:
    """`quota`: the most the namespace's pods may request in all (cpu, memory, nvidia.com/gpu);
    `container_max`: the most one container may ask for (cpu, memory), also the limit of a
    container that sets none; `default_request`: the request of a container that sets none.
    `container_max` None: no maximum and no default limit (a team without pools, whose quota is
    zero anyway)."""

    namespace: str
    quota: Mapping[str, str]
    container_max: Mapping[str, str] | None
    default_request: Mapping[str, str] = field(default_factory=lambda: {"cpu": "100m", "memory": "128Mi"})


class TeamLimits(Construct):
    """A `ResourceQuota` on the requests of every pod in the namespace, and a `LimitRange`.

    The quota holds `requests.cpu`, `requests.memory` and `requests.nvidia.com/gpu` (what they
    are is the caller's: aiops.synth.team_security derives them from the environment so that a
    team without a GPU pool cannot take a GPU by creating pods outside Kueue, and so that the
    quota never refuses what Kueue admits or holds). The quota counts a pod from its creation,
    also while Kueue keeps it gated.

    The LimitRange gives requests to containers that set none (a quota on requests refuses
    those) and refuses a container bigger than the largest node of the team's pools, in the API
    server's words, instead of leaving it Pending forever. A container without limits gets that
    maximum as its limit: a smaller default would be below the request of a container that sets
    only requests, and the API server (and Kueue, which applies LimitRanges to the jobs it
    queues) would refuse it. It sets no GPU maximum: a LimitRange `max` becomes the default limit
    of every container that sets none, which would give every container a GPU.
    """

    def __init__(self, scope: Construct, id: str, *, props: TeamLimitsProps) -> None:
        super().__init__(scope, id)
        who = f"TeamLimits '{props.namespace}'"
        if not _NAME.match(props.namespace):
            raise ValueError(f"{who}: namespace '{props.namespace}' is not a valid namespace name")
        if set(props.quota) != {"cpu", "memory", GPU_RESOURCE}:
            raise ValueError(f"{who}: quota must give cpu, memory and {GPU_RESOURCE}, got {sorted(props.quota)}")
        parts = ("container_max", "default_request") if props.container_max is not None else ("default_request",)
        for part in parts:
            if set(getattr(props, part)) != {"cpu", "memory"}:
                raise ValueError(f"{who}: {part} must give cpu and memory, got {sorted(getattr(props, part))}")
        for part in ("quota", *parts):
            for resource, amount in getattr(props, part).items():
                if not QUANTITY_RE.match(amount):
                    raise ValueError(f"{who}: {part}[{resource}] '{amount}' is not a Kubernetes quantity")
        if props.container_max is not None:
            for resource in ("cpu", "memory"):
                if parse_quantity(props.default_request[resource]) > parse_quantity(props.container_max[resource]):
                    raise ValueError(
                        f"{who}: default_request[{resource}] ({props.default_request[resource]}) is above container_max ({props.container_max[resource]})"
                    )

        metadata = {"name": "team-quota", "namespace": props.namespace}
        quota = ApiObject(self, "quota", api_version="v1", kind="ResourceQuota", metadata=metadata)
        quota.add_json_patch(JsonPatch.add("/spec", {"hard": {f"requests.{name}": props.quota[name] for name in ("cpu", "memory", GPU_RESOURCE)}}))
        item: dict = {"type": "Container", "defaultRequest": dict(props.default_request)}
        if props.container_max is not None:
            item |= {"default": dict(props.container_max), "max": dict(props.container_max)}
        limits = ApiObject(self, "limits", api_version="v1", kind="LimitRange", metadata={"name": "team-limits", "namespace": props.namespace})
        limits.add_json_patch(JsonPatch.add("/spec", {"limits": [item]}))
