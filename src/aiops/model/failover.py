"""The `failover:` section: this environment stands in for another one's workloads.

A standby names the environment it stands by for (`standbyFor`), the workloads it stands in for
(by their `name`; it runs a copy of each, at its own, smaller scale) and the switch, `state`:

- `standby` (the default): the standby's workloads and pools are as its file says, and clients
  are sent to the primary while the primary's health check passes (the traffic policy fails
  over by itself when it does not);
- `active`: a failover, written in git. Synthesis scales the standby's copies to the primary's
  replica bounds and its pools to hold them (aiops.failover.serving), and the primary is put
  behind the standby in its traffic policy (its Route 53 record held unhealthy, or its Traffic
  Manager endpoint's priority moved behind the standby's) so that clients are sent to the
  standby whatever the primary's health (aiops_constructs.terraform.traffic).

`traffic` says how clients reach a serving workload: one name in a public DNS zone of the
primary's cloud, failed over by health between the primary's and the standby's ingress load
balancers (each behind an HTTPS health check of the workload's readiness path): Route 53
failover records when the primary is on AWS, an Azure Traffic Manager profile (and a CNAME to
it in an Azure DNS zone) when it is on Azure, a Cloud DNS failover routing policy on Google
Cloud (whose standby gives `standbyAddress`: aiops.failover.checks). The primary's load balancer is not written here: the
traffic stack looks it up (the ALB by the tags its controller puts on it,
aiops_constructs/load_balancer_controller_identity.py; the AKS add-on's public IP by the tag
AKS's cloud provider puts on it); the standby's is, since it is in another cloud, whose API the
primary's stack does not call. `replication` declares the state the
standby needs before it can serve: model artifacts, the images (read from the workloads
themselves) and secrets; aiops.failover.state says which of them a managed service keeps in
step and which the runbook must.

The rules that need only this file are here and on `Environment`; the ones that need the
primary's file too (does it run those workloads, can the standby's pools hold them at the
primary's maximum) are in aiops.failover.checks, run by `aiops synth` and `aiops validate
environments`, which read every environment file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aiops.model.base import DnsLabel, StrictModel, did_you_mean, error
from aiops.model.workloads import ComputeResources, Workloads

if TYPE_CHECKING:
    from aiops.model.environment import Environment

_HOSTNAME = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$"
Hostname = Annotated[str, StringConstraints(pattern=_HOSTNAME, max_length=253)]

FailoverState = Literal["standby", "active"]


class Traffic(StrictModel):
    """How clients reach the serving workloads: one name, failed over by the primary's traffic policy
    (Route 53 failover records on AWS, a Traffic Manager profile on Azure, a Cloud DNS failover
    routing policy on Google Cloud)."""

    hosted_zone: Hostname = Field(description="The public DNS zone the client name is in, in the primary's cloud: a Route 53 hosted zone (primary on AWS), an Azure DNS zone "
                                  "unique by name in the subscription (Azure) or a Cloud DNS public zone (Google Cloud), e.g. ml.example.org (it must exist; the stack looks it up).")
    client_name: Hostname = Field(description="The one name clients use, in hostedZone, e.g. models.ml.example.org.")
    standby_endpoint: Hostname = Field(
        description="DNS name of this cluster's ingress load balancer, health-checked by the primary's traffic policy: on AKS the app routing add-on's public IP "
        "with a DNS label, <label>.<region>.cloudapp.azure.com; on EKS the ALB's name, k8s-aiopsserving-<id>.<region>.elb.amazonaws.com. "
        "(The primary's load balancer is looked up; it is not written here.)"
    )
    standby_address: str | None = Field(
        default=None,
        description="IPv4 address of this cluster's ingress load balancer, for a primary on Google Cloud: Cloud DNS health-checks endpoints outside "
        "Google Cloud by address only (on AKS the app routing add-on's static public IP). Not used for a primary on AWS or Azure.",
    )
    ttl: int = Field(default=60, ge=10, le=3600, description="Seconds resolvers may keep an answer: how long clients can stay on a failed cloud after the traffic policy switches.")

    @field_validator("standby_address")
    @classmethod
    def _an_internet_ipv4_address(cls, value: str | None) -> str | None:
        import ipaddress

        if value is None:
            return value
        try:
            address = ipaddress.IPv4Address(value)
        except ValueError:
            raise error("ip_address", f"'{value}' is not an IPv4 address", hint="give the standby's ingress load balancer's public IPv4 address, like 198.51.100.20") from None
        if any(address in ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10")):
            raise error("ip_address", f"{value} is a private address, which Cloud DNS's health checks cannot reach from the internet",
                        hint="give the standby's ingress load balancer's public IPv4 address")
        return value

    @model_validator(mode="before")
    @classmethod
    def _primary_endpoint_is_looked_up(cls, data: Any) -> Any:
        if isinstance(data, dict) and "primaryEndpoint" in data:
            raise error(
                "primary_endpoint",
                "primaryEndpoint is no longer written by hand: the traffic stack looks the primary's ALB up by the tags the AWS Load Balancer Controller puts on it",
                at=("primaryEndpoint",),
                hint="remove primaryEndpoint",
            )
        return data

    @model_validator(mode="after")
    def _name_is_in_the_zone(self) -> Traffic:
        if not self.client_name.endswith(f".{self.hosted_zone}"):
            raise error(
                "client_name",
                f"clientName '{self.client_name}' is not in the hosted zone '{self.hosted_zone}'",
                at=("clientName",),
                hint=f"use a name that ends in .{self.hosted_zone}, like models.{self.hosted_zone}",
            )
        if self.standby_endpoint == self.client_name:
            raise error("endpoint", "standbyEndpoint is the client name itself", at=("standbyEndpoint",),
                        hint="give the standby's ingress load balancer (<label>.<region>.cloudapp.azure.com), which the client name points at")
        return self


class ModelArtifacts(StrictModel):
    """Where the model files are, on the primary's cloud and on the standby's."""

    name: DnsLabel = Field(description="What the artifacts are, e.g. the workload that loads them.")
    source: Annotated[str, StringConstraints(pattern=r"^(s3|gs)://[a-z0-9][-a-z0-9.]*[a-z0-9](/\S*)?$|^https://[a-z0-9]+\.blob\.core\.windows\.net/\S+$")] = Field(
        description="The primary's copy: s3://bucket/prefix, gs://bucket/prefix or https://<account>.blob.core.windows.net/<container>/<prefix>."
    )
    replica: Annotated[str, StringConstraints(pattern=r"^(s3|gs)://[a-z0-9][-a-z0-9.]*[a-z0-9](/\S*)?$|^https://[a-z0-9]+\.blob\.core\.windows\.net/\S+$")] = Field(
        description="The standby's copy, on its own cloud, which its workloads read after a failover."
    )


class Replication(StrictModel):
    """What the standby needs before it can serve, besides its workloads' images."""

    model_artifacts: list[ModelArtifacts] = Field(default=[], description="Model files the standby's workloads load, and where their replica is.")
    secrets: list[DnsLabel] = Field(
        default=[],
        description="Secrets the standby's workloads need (in their namespace), kept in step with the primary's by the runbook: no managed service copies secrets between clouds.",
    )


class Failover(StrictModel):
    """This environment is the standby of another for the workloads listed."""

    standby_for: DnsLabel = Field(description="The primary: the environment whose workloads this one stands in for.")
    workloads: list[DnsLabel] = Field(
        min_length=1,
        description="The workloads (by name) this environment runs a copy of and takes over; the standby's pools must hold them at the primary's maxReplicas.",
    )
    state: FailoverState = Field(
        default="standby",
        description="The switch. standby: the file's own (standby) scale, clients on the primary while it is healthy; "
        "active: the workloads at the primary's replica bounds, pools scaled to hold them, clients sent here.",
    )
    traffic: Traffic | None = Field(default=None, description="How clients reach the serving workloads (required when one of them is the inference service).")
    replication: Replication = Field(default=Replication(), description="Model artifacts and secrets the standby needs to serve.")

    @field_validator("workloads")
    @classmethod
    def _each_once(cls, workloads: list[str]) -> list[str]:
        for index, name in enumerate(workloads):
            if workloads.index(name) != index:
                raise error("duplicate_workload", f"workload '{name}' is listed twice", at=(index,), hint="list each workload once")
        return workloads

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class ScaledGroup:
    """One group of pods of a workload, as failover scales and checks it."""

    role: str  # "replicas", "head", "workers", "scheduler": the same group on both sides
    pool: str
    resources: ComputeResources
    min_replicas: int
    max_replicas: int
    bounds_at: tuple[str | int, ...] | None  # the block holding minReplicas/maxReplicas; None: one pod, not scaled


def workload_named(workloads: Workloads, name: str) -> tuple[str, Any] | None:
    """(key in the file, workload) of the workload called `name`, if this environment runs one."""
    for key, workload in workloads.named():
        if workload.name == name:
            return key, workload
    return None


def scaled_groups(workloads: Workloads, key: str) -> list[ScaledGroup]:
    """The groups of pods of the workload at `key` (training, inference, ray or dask)."""
    workload = getattr(workloads, key)
    if key in ("training", "inference"):
        scaling = workload.autoscaling
        return [ScaledGroup("replicas", workload.pool, workload.resources, scaling.min_replicas, scaling.max_replicas, ("workloads", key, "autoscaling"))]
    if key == "ray":
        workers = workload.workers
        return [
            ScaledGroup("head", workload.head.pool, workload.head.resources, 1, 1, None),
            ScaledGroup("workers", workers.pool, workers.resources, workers.min_replicas, workers.max_replicas, ("workloads", "ray", "workers")),
        ]
    workers = workload.workers
    return [
        ScaledGroup("scheduler", workload.pool, workload.scheduler.resources, 1, 1, None),
        ScaledGroup("workers", workload.pool, workers.resources, workers.min_replicas, workers.max_replicas, ("workloads", "dask", "workers")),
    ]


def failover_problem(environment: Environment) -> PydanticCustomError | None:
    """The first rule `failover:` breaks within its own file, if any (the ones that need the
    primary's file are in aiops.failover.checks)."""
    failover = environment.failover
    if failover is None:
        return None
    if failover.standby_for == environment.name:
        return error(
            "standby_for", f"environment '{environment.name}' cannot be the standby of itself",
            at=("failover", "standbyFor"), hint="name the primary environment this one takes over from",
        )
    runs = [workload.name for _, workload in environment.workloads.named()]
    serving = environment.workloads.inference
    for index, name in enumerate(failover.workloads):
        if name not in runs:
            return error(
                "standby_workload",
                f"'{name}' is not a workload of this environment; a standby runs its own copy of each workload it stands in for",
                at=("failover", "workloads", index),
                hint=f"{did_you_mean(name, runs)}add a copy of it under workloads (same name and namespace as on {failover.standby_for}), at the standby's scale"
                + (f"; this environment runs: {', '.join(runs)}" if runs else ""),
            )
    serves = serving is not None and serving.name in failover.workloads
    if serves and failover.traffic is None:
        return error(
            "traffic",
            f"'{serving.name}' serves requests, so its failover needs `traffic`: the name clients use and this cluster's ingress endpoint",
            at=("failover",),
            hint="add traffic: {hostedZone: ..., clientName: ..., standbyEndpoint: ...}",
        )
    if failover.traffic is not None and not serves:
        return error(
            "traffic",
            "traffic is for a serving workload, and none of failover.workloads is this environment's inference service",
            at=("failover", "traffic"),
            hint="remove traffic, or list the inference service under failover.workloads",
        )
    if serves and (serving.port is None or serving.readiness_path is None):
        return error(
            "health_check",
            f"the traffic policy (Route 53 or Traffic Manager) checks the health of '{serving.name}' on its readinessPath, and it has none",
            at=("workloads", "inference"),
            hint="give the inference service a port and a readinessPath (the HTTP path that answers 200 when it can serve)",
        )
    return None
