"""Who can reach and administer a cluster's control plane: the `controlPlane:` section.

The API server is private unless the environment says otherwise. A public endpoint must name
the networks that may reach it (`authorizedCidrs`); one open to every address needs
`openToInternet: true` in the file, so that it is always a decision someone wrote down, never
a default or an omission. `admins` are the principals that get cluster-admin from the stack
itself (EKS access entries, AKS Entra ID admin groups, GKE project IAM members), instead of
whoever happened to apply it first.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from aiops.model.base import StrictModel, error

EVERY_ADDRESS = ("0.0.0.0/0", "::/0")

# What each cloud takes as an admin principal, with an example for the fix line.
_ADMIN_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$"), "an IAM role or user ARN such as arn:aws:iam::111122223333:role/platform-admin"),
    "azure": (re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), "the object id of an Entra ID group, such as 00000000-0000-0000-0000-000000000000"),
    "gcp": (re.compile(r"^(group|user|serviceAccount):[^@\s]+@[^@\s]+$"), "an IAM member such as group:platform-admins@example.org"),
}


class ControlPlane(StrictModel):
    """The API endpoint and the cluster's administrators."""

    endpoint: Literal["private", "public"] = Field(
        default="private",
        description="private: the API server is reachable only from the cluster's network; public: also from authorizedCidrs.",
    )
    authorized_cidrs: list[str] = Field(default=[], description="Networks (CIDR) that may reach a public endpoint, e.g. the VPN's or CI's egress.")
    open_to_internet: bool = Field(default=False, description="A public endpoint open to every address, on purpose (no authorizedCidrs).")
    admins: list[str] = Field(default=[], description="Principals that get cluster-admin: IAM ARNs (aws), Entra ID group object ids (azure), IAM members (gcp).")

    @field_validator("authorized_cidrs")
    @classmethod
    def _cidrs_are_networks(cls, cidrs: list[str]) -> list[str]:
        for index, cidr in enumerate(cidrs):
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise error("cidr", f"'{cidr}' is not a CIDR block", at=(index,), hint="write an address range such as 203.0.113.0/24") from None
            if str(network) != cidr:
                raise error("cidr", f"'{cidr}' is not the network address of its range", at=(index,), hint=f"write {network}")
            if cidr in EVERY_ADDRESS:
                raise error(
                    "cidr",
                    f"'{cidr}' is every address, so the list restricts nothing",
                    at=(index,),
                    hint="list the networks that need the API (VPN, CI), or, to open the endpoint to everyone on purpose, remove authorizedCidrs and set openToInternet: true",
                )
            if network.version == 6:
                raise error("cidr", f"'{cidr}' is an IPv6 range; the clusters' API endpoints take IPv4 ranges only", at=(index,), hint="list IPv4 ranges")
        return cidrs

    @model_validator(mode="after")
    def _public_means_to_whom(self) -> ControlPlane:
        if self.endpoint == "private":
            if self.authorized_cidrs:
                raise error("endpoint", "authorizedCidrs is set but the endpoint is private, so nothing outside the cluster's network can use it", at=("authorizedCidrs",), hint="set endpoint: public to let these networks in, or remove authorizedCidrs")
            if self.open_to_internet:
                raise error("endpoint", "openToInternet is true but the endpoint is private", at=("openToInternet",), hint="set endpoint: public, or remove openToInternet")
        elif self.open_to_internet and self.authorized_cidrs:
            raise error("endpoint", "openToInternet and authorizedCidrs contradict each other", at=("openToInternet",), hint="keep authorizedCidrs (the endpoint then accepts only them) and remove openToInternet")
        elif not self.open_to_internet and not self.authorized_cidrs:
            raise error(
                "endpoint",
                "a public endpoint needs the networks allowed to reach it, and none are listed: it would be open to every address",
                at=("endpoint",),
                hint="add authorizedCidrs: [<your VPN or CI egress>/32, ...], or use endpoint: private; to open it to everyone on purpose, add openToInternet: true",
            )
        return self

    @property
    def public(self) -> bool:
        return self.endpoint == "public"

    @property
    def public_cidrs(self) -> list[str]:
        """The networks a public endpoint accepts (every address only with openToInternet)."""
        if not self.public:
            return []
        return list(self.authorized_cidrs) if self.authorized_cidrs else ["0.0.0.0/0"]


def admin_violation(cloud: str, admins: list[str]) -> tuple[int, str, str] | None:
    """(index, message, fix) of the first admin principal the cloud cannot take, or None."""
    pattern, example = _ADMIN_FORMS[cloud]
    for index, admin in enumerate(admins):
        if not pattern.match(admin):
            return index, f"'{admin}' is not an admin principal {cloud} takes", f"write {example}"
    return None
