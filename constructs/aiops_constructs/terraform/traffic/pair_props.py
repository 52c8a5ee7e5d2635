"""The checks every traffic policy's props share (Route 53, Traffic Manager, Cloud DNS): one
client name in its zone, a readiness path, a TTL the three DNS services all accept, and two
different environments. Each construct adds what only its service needs."""

from __future__ import annotations

from constructs import Construct

from aiops_constructs.terraform.props import InvalidProps


def check_pair_props(construct: Construct, *, client_name: str, zone: str, zone_kind: str, health_path: str, ttl: int,
                     primary: str, standby: str) -> None:
    """`zone_kind` names the zone as its cloud does ("hosted zone", "DNS zone")."""
    if not client_name.endswith(f".{zone}"):
        raise InvalidProps(construct, "client_name", f"'{client_name}' is not in the {zone_kind} '{zone}'", f"use a name ending in .{zone}")
    if not health_path.startswith("/"):
        raise InvalidProps(construct, "health_path", f"'{health_path}' is not an HTTP path", "give the readiness path, starting with '/'")
    if not 10 <= ttl <= 3600:
        raise InvalidProps(construct, "ttl", f"a TTL of {ttl} s", "use 10 to 3600 seconds")
    if primary == standby:
        raise InvalidProps(construct, "standby", "the primary and the standby are the same", "give the standby its own environment")
