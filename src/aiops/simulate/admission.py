"""What admission refused, read back from the API server: the Pod Security level each namespace
enforces, and every pod a controller could not create because admission (Pod Security, a
ResourceQuota, a LimitRange) said no, in the API server's own words.

A Deployment, a RayCluster or a DaskCluster is accepted whatever its pods look like; their
pods are checked when the controller creates them, and a refusal is only an event on the
owner (`FailedCreate` from the ReplicaSet, DaemonSet, StatefulSet and Job controllers; KubeRay's
`FailedToCreate...Pod`), so that is where the simulation reads it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from aiops.simulate.api import Api

ENFORCE = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True)
class Refusal:
    namespace: str
    owner: str  # Kind/name of the object whose pods were refused (the Deployment for a ReplicaSet's)
    by: str  # pod-security | quota | limit-range | admission
    message: str  # the API server's words, from the first refusal
    count: int  # refusals (events, with their repeat counts)

    def as_dict(self) -> dict:
        return asdict(self)


def namespace_levels(api: Api) -> dict[str, str | None]:
    """Every namespace and the Pod Security level it enforces (None: not labelled)."""
    return {ns["metadata"]["name"]: (ns["metadata"].get("labels") or {}).get(ENFORCE) for ns in api.items("/api/v1/namespaces")}


def _by(message: str) -> str:
    if "violates PodSecurity" in message:
        return "pod-security"
    if "exceeded quota" in message or "must specify" in message:
        return "quota"
    if "per Container" in message or "per Pod" in message:
        return "limit-range"
    return "admission"


def refusals(api: Api) -> list[Refusal]:
    """The pods admission refused, one entry per owner and kind of refusal."""
    replica_sets: dict[tuple[str, str], str] = {}
    for rs in api.items("/apis/apps/v1/replicasets"):
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("controller"):
                replica_sets[(rs["metadata"]["namespace"], rs["metadata"]["name"])] = f"{ref['kind']}/{ref['name']}"
    found: dict[tuple[str, str, str], Refusal] = {}
    events = sorted(api.items("/api/v1/events"), key=lambda e: (e.get("firstTimestamp") or e.get("eventTime") or "", e["metadata"]["name"]))
    for event in events:
        message = str(event.get("message") or "")
        if "forbidden" not in message or "pods" not in message:
            continue
        involved = event.get("involvedObject") or {}
        namespace = str(involved.get("namespace") or event["metadata"].get("namespace") or "")
        owner = f"{involved.get('kind')}/{involved.get('name')}"
        if involved.get("kind") == "ReplicaSet":
            owner = replica_sets.get((namespace, str(involved.get("name"))), owner)
        key = (namespace, owner, _by(message))
        count = int(event.get("count") or 1)
        previous = found.get(key)
        found[key] = Refusal(namespace, owner, key[2], previous.message if previous else message, count + (previous.count if previous else 0))
    return sorted(found.values(), key=lambda r: (r.namespace, r.owner, r.by))
