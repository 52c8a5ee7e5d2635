"""Cross-cloud failover: which environment stands by for which, and what synthesis makes of it.

An environment's `failover:` section (aiops.model.failover) names its primary. Synthesis needs
both files of every pair: the standby is built at serving scale when its switch is `active`
(serving.py), and the primary's Terraform holds the global traffic policy that sends clients to
one or the other (Route 53 failover records for a primary on AWS, a Traffic Manager profile on
Azure) (TrafficPair, built by aiops_constructs.terraform.traffic). So
`resolve` reads, besides the environments being synthesized, the other side of each of their
pairs, checks the pairs (checks.py) and returns what synthesis builds from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiops.model.environment import Environment
from aiops.model.errors import SourceError


MAX_RELATIVE_NAME = 63  # a DNS label


def relative_name(client_name: str) -> str:
    """A Traffic Manager profile's name under trafficmanager.net (a primary on Azure): the client
    name with its dots as dashes. Traffic Manager names are global; the client name is one the
    organization owns."""
    return client_name.replace(".", "-")


@dataclass(frozen=True)
class TrafficPair:
    """One failover pair (Route 53 records or a Traffic Manager profile): the props of the
    primary's traffic stack, one per standby."""

    primary: str
    standby: str
    workload: str
    hosted_zone: str
    client_name: str
    standby_endpoint: str
    health_path: str
    ttl: int
    active: bool  # the switch: the primary's record is held unhealthy, clients go to the standby
    standby_address: str | None = None  # a primary on Google Cloud: Cloud DNS checks external endpoints by address


@dataclass(frozen=True)
class Resolved:
    environments: list[Environment]  # as synthesis builds them, in the order given
    traffic: dict[str, tuple[TrafficPair, ...]] = field(default_factory=dict)  # primary -> its pairs
    errors: list[SourceError] = field(default_factory=list)


def _standby_for(file: Path) -> str | None:
    """`failover.standbyFor` of a file, read without validating it (to find the pairs)."""
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe").load(file.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - a broken file is reported when it is loaded, if it is needed
        return None
    failover = data.get("failover") if isinstance(data, dict) else None
    value = failover.get("standbyFor") if isinstance(failover, dict) else None
    return value if isinstance(value, str) else None


def related(directory: Path, names: Iterable[str]) -> list[str]:
    """`names` and the other side of each of their failover pairs (files of `directory`)."""
    from aiops.model.loader import environment_files

    links = {file.stem: _standby_for(file) for file in environment_files(directory)}
    wanted = set(names)
    for name in list(wanted):
        if links.get(name) in links:
            wanted.add(links[name])  # type: ignore[arg-type]
        wanted |= {standby for standby, primary in links.items() if primary == name}
    return sorted(wanted)


def pairs_of(primary: Environment, standbys: Iterable[Environment]) -> tuple[TrafficPair, ...]:
    pairs = []
    for standby in standbys:
        failover = standby.failover
        if failover is None or failover.standby_for != primary.name or failover.traffic is None:
            continue
        serving = standby.workloads.inference
        assert serving is not None and serving.readiness_path is not None  # the model checked it
        traffic = failover.traffic
        pairs.append(TrafficPair(
            primary=primary.name, standby=standby.name, workload=serving.name, hosted_zone=traffic.hosted_zone,
            client_name=traffic.client_name, standby_endpoint=traffic.standby_endpoint,
            health_path=serving.readiness_path, ttl=traffic.ttl, active=failover.active, standby_address=traffic.standby_address,
        ))
    return tuple(pairs)


def client_name(environment: Environment, pairs: Iterable[TrafficPair] = ()) -> str | None:
    """The name clients reach `environment`'s serving workload by, when it is one side of a
    failover pair (a standby with `traffic`, or a primary with such a standby): its Ingress
    then serves TLS for that name."""
    failover = environment.failover
    if failover is not None and failover.traffic is not None:
        return failover.traffic.client_name
    return next((pair.client_name for pair in pairs if pair.primary == environment.name), None)


def resolve(directory: Path, environments: list[Environment]) -> Resolved:
    """What synthesis builds `environments` from: the pairs' other sides are loaded from
    `directory` (InvalidEnvironment when one of them does not load), the pairs checked, a
    standby in `active` state put at serving scale, and each primary given its traffic pairs."""
    from aiops.failover.checks import failover_errors
    from aiops.failover.serving import serving_environment
    from aiops.model.loader import load_environment

    by_name = {e.name: e for e in environments}
    for name in related(directory, by_name):
        if name not in by_name and (Path(directory) / f"{name}.yaml").is_file():
            by_name[name] = load_environment(Path(directory) / f"{name}.yaml")
    errors = failover_errors(by_name.values(), directory)
    if errors:
        return Resolved(list(environments), {}, errors)
    built = []
    for environment in environments:
        failover = environment.failover
        built.append(serving_environment(environment, by_name[failover.standby_for]) if failover else environment)
    traffic = {e.name: pairs for e in environments if (pairs := pairs_of(e, by_name.values()))}
    return Resolved(built, traffic, [])
