"""The failover rules that need both files: the standby's and its primary's.

`aiops synth` and `aiops validate environments` read every environment file, so they can hold a
standby against its primary; the model alone (one file) cannot. Each error points at the
standby's file and line (or the primary's, when the fault is there) and says how to fix it:

- `standbyFor` names an environment of the folder, which is not itself a standby;
- the primary runs each listed workload, of the same kind and in the same namespace, from the
  same image (repository and tag; a mirror in another registry is the same image), and the
  standby does not pull it from the primary cloud's private registry (after a failover
  clients must get the same service, from a registry that still answers);
- the standby's pools hold every listed workload at the primary's `maxReplicas`: nodes per
  pool from what one node offers to pods (aiops.model.allocatable, the cloud's documented
  reservations over the catalog's vCPU, memory and GPUs) against the pool's `max`;
- one standby with traffic per primary (its failover name has one primary and one standby
  endpoint), and what the primary's cloud's traffic policy needs of it: traffic_errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from aiops.model.allocatable import node_resources
from aiops.model.base import did_you_mean
from aiops.model.catalog import load_catalog
from aiops.model.environment import Environment, NodePool
from aiops.model.errors import SourceError
from aiops.model.failover import ScaledGroup, scaled_groups, workload_named
from aiops.model.quantity import parse_quantity

Where = Callable[[tuple], tuple[int | None, int | None]]


def pods_per_node(environment: Environment, pool: NodePool, group: ScaledGroup) -> int:
    """How many pods of `group` one node of `pool` holds, by GPUs, CPU, memory and max pods:
    the node's allocatable less what runs on every node (aiops.model.node_overhead's daemon
    sets, the figures Kueue's quotas are computed with)."""
    from aiops.model.node_overhead import node_daemons

    cloud = environment.cloud
    machine = load_catalog().instance_type(cloud, pool.instance_type)  # type: ignore[arg-type]
    if machine is None:
        return 0
    gpus = pool.gpu_count(cloud)  # type: ignore[arg-type]
    node = node_resources(cloud, pool.instance_type, machine.vcpu, machine.memory_gi_b, gpus)
    daemons = node_daemons(environment, pool)
    counts = [node.max_pods]
    resources = group.resources
    if resources.gpus:  # in what the node advertises: whole GPUs, time slices or MIG instances
        counts.append(pool.advertised(cloud).per_node(gpus) // resources.gpus)  # type: ignore[arg-type]
    counts.append(math.floor((node.allocatable_cpu_millis - daemons.cpu_millis) / (float(parse_quantity(resources.cpu)) * 1000) + 1e-9))
    counts.append(math.floor((node.allocatable_memory_bytes - daemons.memory_bytes) / float(parse_quantity(resources.memory)) + 1e-9))
    return max(min(counts), 0)


def nodes_for(environment: Environment, pool: NodePool, group: ScaledGroup, replicas: int) -> int | None:
    """Nodes of `pool` that `replicas` pods of `group` need; None when one node cannot hold one."""
    per_node = pods_per_node(environment, pool, group)
    return math.ceil(replicas / per_node) if per_node else None


class _Files:
    """Where each environment's fields are, read once per file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._where: dict[str, Where] = {}

    def shown(self, name: str) -> str:
        from aiops.model.loader import display_path

        return display_path(self.directory / f"{name}.yaml")

    def folder(self) -> str:
        from aiops.model.loader import display_path

        return display_path(self.directory)

    def error(self, name: str, loc: tuple, field: str, message: str, hint: str) -> SourceError:
        from aiops.model.loader import locate

        if name not in self._where:
            self._where[name] = locate(self.directory / f"{name}.yaml")
        line, column = self._where[name](loc)
        return SourceError(self.shown(name), line, column, message, hint, field)


def _field(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def pair_errors(standby: Environment, primary: Environment, files: _Files) -> list[SourceError]:
    """What is wrong with `standby` as the standby of `primary` (both already valid on their own)."""
    failover = standby.failover
    assert failover is not None
    errors: list[SourceError] = []

    def refuse(loc: tuple, message: str, hint: str, name: str = standby.name) -> None:
        errors.append(files.error(name, loc, _field(loc), message, hint))

    if primary.failover is not None:
        refuse(("failover", "standbyFor"), f"'{primary.name}' is itself the standby of '{primary.failover.standby_for}'",
               f"name the environment that serves in the first place; a standby of a standby would take over from a cluster that is not serving")
        return errors
    if failover.traffic is not None:
        traffic_errors(standby, primary, refuse)
    # Capacity: what the standby's pools must hold at the primary's maxReplicas, pool by pool.
    needed: dict[str, list[tuple[str, int, int, int]]] = {}  # pool -> (workload, replicas, per node, nodes)
    for index, name in enumerate(failover.workloads):
        at = ("failover", "workloads", index)
        theirs = workload_named(primary.workloads, name)
        ours = workload_named(standby.workloads, name)
        assert ours is not None  # the model checked that this environment runs it
        if theirs is None:
            runs = [w.name for _, w in primary.workloads.named()]
            refuse(at, f"'{primary.name}' runs no workload '{name}'",
                   f"{did_you_mean(name, runs)}list the workloads this environment takes over from {primary.name}" + (f" (it runs: {', '.join(runs)})" if runs else ""))
            continue
        (their_key, their_workload), (our_key, our_workload) = theirs, ours
        if their_key != our_key:
            refuse(("workloads", our_key, "name"), f"'{name}' is the {their_key} workload on {primary.name} but the {our_key} workload here",
                   f"run the copy under workloads.{their_key}, as on {primary.name}")
            continue
        if their_workload.namespace != our_workload.namespace:
            refuse(("workloads", our_key, "namespace"), f"'{name}' runs in namespace '{their_workload.namespace}' on {primary.name} but in '{our_workload.namespace}' here",
                   f"use namespace {their_workload.namespace}: clients, secrets and policies name it")
        for part, image_loc in _images(our_key):
            their_image, our_image = _image(their_workload, part), _image(our_workload, part)
            registry = registry_problem(our_image, primary.cloud, standby.cloud)
            if registry is not None:
                refuse(("workloads", our_key, *image_loc),
                       f"'{name}' pulls {our_image} from {primary.name}'s {registry}, which a failover away from {primary.cloud} cannot reach, "
                       f"and no managed service replicates {registry} to {standby.cloud}",
                       "push the image to a registry both clouds reach (as ghcr.io/example-org/model-server), "
                       f"or mirror it into {standby.cloud}'s registry and use that reference here (the README's Failover runbook)")
            elif _repository(their_image) != _repository(our_image):
                refuse(("workloads", our_key, *image_loc), f"'{name}' runs {their_image} on {primary.name} but {our_image} here; after a failover clients would get another version",
                       f"use {their_image}, and change both files in the same commit when the version moves")
        for theirs_group, ours_group in zip(scaled_groups(primary.workloads, their_key), scaled_groups(standby.workloads, our_key)):
            pool = standby.pool(ours_group.pool)
            per_node = pods_per_node(standby, pool, ours_group)
            if per_node == 0:
                continue  # the model refuses a pod larger than a node
            needed.setdefault(pool.name, []).append((f"{name} ({ours_group.role})" if ours_group.role != "replicas" else name,
                                                     theirs_group.max_replicas, per_node, math.ceil(theirs_group.max_replicas / per_node)))
    for pool_name, needs in needed.items():
        index = next(i for i, p in enumerate(standby.node_pools) if p.name == pool_name)
        pool = standby.node_pools[index]
        total = sum(nodes for *_, nodes in needs)
        if total > pool.max:
            what = "; ".join(f"{workload}: {replicas} replicas at {per} per node = {nodes} node(s)" for workload, replicas, per, nodes in needs)
            refuse(("nodePools", index, "max"),
                   f"pool '{pool_name}' ({pool.instance_type}) holds at most {pool.max} node(s), and taking over from {primary.name} at its maxReplicas needs {total} ({what})",
                   f"raise max to {total}: the standby must hold what it stands in for at the primary's maximum (it stays at min until a failover)")
    return errors


# A primary on Google Cloud: Cloud DNS's failover routing policy
# (google_dns_record_set.routing_policy.primary_backup, in the pinned google 8.7.0 schema with
# `health_check` and `external_endpoints`) health-checks endpoints outside Google Cloud only as
# "The Internet IP addresses to be health checked" (the provider's external_endpoints). So the
# standby's load balancer must have a fixed address, given as `standbyAddress`: an AKS add-on's
# static public IP does; an EKS standby's ALB does not (its addresses change; clients must use
# its DNS name), so that pairing is refused.
GCP_EXTERNAL_ENDPOINTS = "Cloud DNS failover routing health-checks endpoints outside Google Cloud only by IP address (routing_policy.primary_backup with external_endpoints)"


def traffic_errors(standby: Environment, primary: Environment, refuse: Callable[..., None]) -> None:
    """Refuse (through `refuse`) what of `standby.failover.traffic` depends on the primary's cloud."""
    from aiops.failover import MAX_RELATIVE_NAME, relative_name

    traffic = standby.failover.traffic  # type: ignore[union-attr]
    if primary.cloud == "gcp" and standby.cloud == "aws":
        refuse(("failover", "traffic"), f"the primary '{primary.name}' is on gcp: {GCP_EXTERNAL_ENDPOINTS}, and this standby's ALB has no fixed address",
               "put the standby on azure (the app routing add-on's static IP, as standbyAddress), or make the primary an aws or azure environment, "
               "whose traffic policy takes the ALB's name")
    elif primary.cloud == "gcp" and traffic.standby_address is None:
        refuse(("failover", "traffic"), f"the primary '{primary.name}' is on gcp: {GCP_EXTERNAL_ENDPOINTS}, and this standby gives no standbyAddress",
               "add standbyAddress: the IPv4 address of this cluster's ingress load balancer (on AKS the app routing add-on's public IP, "
               "the one tagged k8s-azure-service=app-routing-system/nginx in the cluster's node resource group)")
    elif primary.cloud == "azure" and len(relative_name(traffic.client_name)) > MAX_RELATIVE_NAME:
        refuse(("failover", "traffic", "clientName"),
               f"the Traffic Manager profile of '{traffic.client_name}' would be named {relative_name(traffic.client_name)}.trafficmanager.net, "
               f"and that name's first label has {len(relative_name(traffic.client_name))} characters, more than a DNS label's {MAX_RELATIVE_NAME}",
               "use a shorter client name")


# The private registries of each cloud, which the other clouds' nodes cannot pull from without
# credentials, and which no managed service replicates to another cloud (ECR replication is
# AWS-to-AWS, ACR geo-replication Azure-to-Azure, Artifact Registry's remote repositories do
# not pull from ECR or ACR).
PRIVATE_REGISTRIES = {
    "aws": (re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/"), "ECR"),
    "azure": (re.compile(r"^[a-z0-9]+\.azurecr\.io/"), "ACR"),
    "gcp": (re.compile(r"^([a-z0-9-]+-docker\.pkg\.dev|([a-z]+\.)?gcr\.io)/"), "Artifact Registry"),
}


def _repository(image: str) -> str:
    """An image without its registry host: a mirror (ECR -> ACR) keeps the repository and tag."""
    first, _, rest = image.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else image


def registry_problem(image: str, primary_cloud: str, standby_cloud: str) -> str | None:
    """Why the standby cannot pull `image` when the primary's cloud is down, if it cannot."""
    pattern, registry = PRIVATE_REGISTRIES[primary_cloud]
    if standby_cloud != primary_cloud and pattern.match(image):
        return registry
    return None


def _images(key: str) -> list[tuple[str, tuple[str, ...]]]:
    if key == "ray":
        return [("head", ("head", "image")), ("workers", ("workers", "image"))]
    return [("", ("image",))]


def _image(workload, part: str) -> str:
    return getattr(workload, part).image if part else workload.image


def failover_errors(environments: Iterable[Environment], directory: Path) -> list[SourceError]:
    """Every standby among `environments` against its primary (also in `environments`)."""
    by_name = {e.name: e for e in environments}
    files = _Files(directory)
    errors: list[SourceError] = []
    with_traffic: dict[str, str] = {}
    for environment in by_name.values():
        failover = environment.failover
        if failover is None:
            continue
        primary = by_name.get(failover.standby_for)
        if primary is None:
            known = sorted(n for n in by_name if n != environment.name)
            errors.append(files.error(environment.name, ("failover", "standbyFor"), "failover.standbyFor",
                                      f"no environment '{failover.standby_for}' in {files.folder()}/",
                                      f"{did_you_mean(failover.standby_for, known)}name the primary's environment" + (f" (environments: {', '.join(known)})" if known else "")))
            continue
        if failover.traffic is not None:
            if primary.name in with_traffic:
                errors.append(files.error(environment.name, ("failover", "traffic"), "failover.traffic",
                                          f"'{with_traffic[primary.name]}' already takes {primary.name}'s traffic; its failover name has one primary and one standby endpoint",
                                          "give traffic to one standby of each primary"))
                continue
            with_traffic[primary.name] = environment.name
        errors.extend(pair_errors(environment, primary, files))
    return sorted(errors, key=lambda e: (e.file, e.line or 0))
