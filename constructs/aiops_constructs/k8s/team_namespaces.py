"""Team namespaces, each with a Kueue LocalQueue for every queue the team submits to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops_constructs.k8s.node_pool_flavors import KUEUE_API_VERSION
from aiops_constructs.k8s.security_context import pod_security_labels

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
TEAM_LABEL = "aiops.example/team"
# On the namespaces of teams that submit to queues: Kueue manages these, and only these (its
# fail-closed pod webhook included); a team without queues (serving) never depends on Kueue.
KUEUE_MANAGED_LABEL = "aiops.example/kueue-managed"


@dataclass(frozen=True)
class TeamProps:
    name: str  # the namespace
    queues: tuple[str, ...] = ()  # ClusterQueues; the LocalQueue of each has the same name
    pod_security: str = "restricted"  # the Pod Security level enforced; baseline only where the team's images need root


class TeamNamespaces(Construct):
    """A `Namespace` per team and a `LocalQueue` per queue it uses.

    A job submits to the LocalQueue of its own namespace (`kueue.x-k8s.io/queue-name:
    <queue>`); the LocalQueue has the ClusterQueue's name, so the same label works in every
    team's namespace. Each namespace enforces its Pod Security level (restricted unless the
    environment says baseline for a team) and warns and audits at restricted.
    """

    def __init__(self, scope: Construct, id: str, *, teams: Sequence[TeamProps]) -> None:
        super().__init__(scope, id)
        seen: set[str] = set()
        for team in teams:
            if not _NAME.match(team.name):
                raise ValueError(f"TeamNamespaces: team name '{team.name}' is not a valid namespace name")
            if team.name in seen:
                raise ValueError(f"TeamNamespaces: team '{team.name}' is given twice")
            seen.add(team.name)
            if team.pod_security not in ("restricted", "baseline"):
                raise ValueError(f"TeamNamespaces: team '{team.name}' asks for Pod Security level '{team.pod_security}'; a team namespace is restricted or baseline")
            ApiObject(
                self,
                f"namespace-{team.name}",
                api_version="v1",
                kind="Namespace",
                metadata={"name": team.name, "labels": {TEAM_LABEL: team.name, **pod_security_labels(team.pod_security, report="restricted")}
                          | ({KUEUE_MANAGED_LABEL: "true"} if team.queues else {})},
            )
            for queue in team.queues:
                if not _NAME.match(queue):
                    raise ValueError(f"TeamNamespaces: queue name '{queue}' of team '{team.name}' is not a valid Kubernetes name")
                local = ApiObject(
                    self,
                    f"queue-{team.name}-{queue}",
                    api_version=KUEUE_API_VERSION,
                    kind="LocalQueue",
                    metadata={"name": queue, "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
                )
                local.add_json_patch(JsonPatch.add("/spec", {"clusterQueue": queue}))
