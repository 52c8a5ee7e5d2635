"""The `workloads:` section of an environment: what runs on the cluster, and on which pool.

Every workload names the node pool it runs on; the constructs derive its node selector and
tolerations from that pool, so they are never typed twice. Rules that only need this section
live on these models; rules that need the node pools, the cloud or the instance catalog are in
`check_workloads`, which `Environment` calls once its pools are valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from aiops.model.base import DnsLabel, StrictModel, did_you_mean, error
from aiops.model.pod_security import RAY_POD_SECURITY, PodSecurity, TeamPodSecurityLevel
from aiops.model.quantity import DASK_BYTES_RE, GIB, QUANTITY_RE, parse_dask_bytes, parse_quantity

if TYPE_CHECKING:
    from aiops.model.environment import Environment

GPU_RESOURCE = "nvidia.com/gpu"


def _quantity(value: str) -> str:
    if not QUANTITY_RE.match(value):
        raise error("quantity", f"'{value}' is not a Kubernetes quantity", hint='write a number with an optional unit, like "2", "500m" or "16Gi"')
    return value


def _memory(value: str) -> str:
    _quantity(value)
    if parse_quantity(value) < 2**20:
        raise error("quantity", f"'{value}' is {value} bytes of memory", hint=f"memory needs a unit, like {value}Gi or {value}Mi")
    return value


def _image(value: str) -> str:
    """An image reference pinned to a version: a tag other than `latest`, or a digest."""
    name, _, digest = value.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if not re.fullmatch(r"[a-z0-9]+([._:/-][a-z0-9]+)*", name.rsplit(":", 1)[0] if tag else name) or (digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest)):
        raise error("image", f"'{value}' is not an image reference", hint="write registry/repository:tag, like rayproject/ray:2.52.0-py311-cpu")
    if not digest and (tag is None or tag == "latest"):
        raise error(
            "image",
            f"image '{value}' is not pinned to a version",
            hint="give it a version tag (not 'latest') or a digest; an unpinned image changes under a running cluster",
        )
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
Image = Annotated[str, AfterValidator(_image)]
Percent = Annotated[int, Field(ge=1, le=100)]


class ComputeResources(StrictModel):
    """Requests of one container, with optional higher limits (a limit left out equals the request).

    GPUs are whole devices that Kubernetes cannot overcommit, so `gpus` is both the request
    and the limit of `nvidia.com/gpu`.
    """

    cpu: Quantity = Field(description='CPU request, e.g. "2" or "500m".')
    memory: MemoryQuantity = Field(description='Memory request, e.g. "8Gi".')
    cpu_limit: Quantity | None = Field(default=None, description="CPU limit; defaults to the request.")
    memory_limit: MemoryQuantity | None = Field(default=None, description="Memory limit; defaults to the request.")
    gpus: int = Field(default=0, ge=0, description="NVIDIA GPUs (request = limit).")

    @property
    def limits(self) -> tuple[str, str]:
        return (self.cpu_limit or self.cpu, self.memory_limit or self.memory)

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> ComputeResources:
        cpu_limit, memory_limit = self.limits
        if parse_quantity(cpu_limit) < parse_quantity(self.cpu):
            raise error("limits", f"cpuLimit ({cpu_limit}) is below the cpu request ({self.cpu})", at=("cpuLimit",), hint="a limit must be at least the request")
        if parse_quantity(memory_limit) < parse_quantity(self.memory):
            raise error("limits", f"memoryLimit ({memory_limit}) is below the memory request ({self.memory})", at=("memoryLimit",), hint="a limit must be at least the request")
        return self


class Autoscaling(StrictModel):
    """A HorizontalPodAutoscaler: replica bounds and the utilization targets it scales on.

    GPU utilization is DCGM's `DCGM_FI_DEV_GPU_UTIL`, served as a Pods metric by
    prometheus-adapter (metrics-server serves only CPU and memory).
    """

    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    gpu_utilization: Percent | None = Field(default=None, description="Target average GPU utilization of the pods, in percent.")
    cpu_utilization: Percent | None = Field(default=None, description="Target average CPU utilization (of the request), in percent.")

    @model_validator(mode="after")
    def _bounds_and_a_metric(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise error("replicas", f"minReplicas ({self.min_replicas}) is greater than maxReplicas ({self.max_replicas})", at=("minReplicas",), hint="use minReplicas <= maxReplicas")
        if self.gpu_utilization is None and self.cpu_utilization is None:
            raise error("autoscaling", "no metric to scale on", hint="set gpuUtilization, cpuUtilization or both (percent)")
        return self


class DeploymentWorkload(StrictModel):
    """A Deployment scaled by an HPA: the training workers or the inference service."""

    name: DnsLabel
    namespace: DnsLabel = Field(description="A team namespace (workloads.teams).")
    pool: str = Field(description="The node pool the pods run on; node selector and tolerations come from it.")
    image: Image
    args: list[str] = []
    port: int | None = Field(default=None, ge=1, le=65535, description="Container port, exposed by a ClusterIP Service.")
    readiness_path: Annotated[str, StringConstraints(pattern=r"^/\S*$")] | None = Field(default=None, description="HTTP path of the readiness probe on `port`.")
    resources: ComputeResources
    autoscaling: Autoscaling
    interruptible: bool | None = Field(
        default=None,
        description=(
            "Whether the pods may be stopped at short notice and resume (training that checkpoints): only interruptible "
            "workloads may run on a spot pool. Default: true for training, false for inference (which can never be)."
        ),
    )
    security: PodSecurity = Field(default=PodSecurity(), description="The user its containers run as and their writable paths (Pod Security restricted always).")

    @model_validator(mode="after")
    def _probe_needs_a_port(self) -> DeploymentWorkload:
        if self.readiness_path is not None and self.port is None:
            raise error("port", "readinessPath needs a port to probe", at=("readinessPath",), hint="add 'port: <container port>'")
        return self


class RayHead(StrictModel):
    pool: str
    image: Image
    resources: ComputeResources

    @model_validator(mode="after")
    def _head_takes_no_gpu(self) -> RayHead:
        if self.resources.gpus:
            raise error(
                "ray_head_gpu",
                f"the Ray head asks for {self.resources.gpus} GPU(s)",
                at=("resources", "gpus"),
                hint="the head runs the GCS, dashboard and autoscaler, and no tasks (num-cpus 0); remove gpus and put GPU work in the worker group",
            )
        return self


INTERRUPTIBLE_WORKERS = "Whether the workers may be stopped at short notice (the cluster reschedules their work): they may then run on a spot pool. Default: true."


class RayWorkerGroup(StrictModel):
    pool: str
    image: Image
    min_replicas: int = Field(ge=0)
    max_replicas: int = Field(ge=1)
    resources: ComputeResources
    interruptible: bool = Field(default=True, description=INTERRUPTIBLE_WORKERS)

    @model_validator(mode="after")
    def _bounds(self) -> RayWorkerGroup:
        if self.min_replicas > self.max_replicas:
            raise error("replicas", f"minReplicas ({self.min_replicas}) is greater than maxReplicas ({self.max_replicas})", at=("minReplicas",), hint="use minReplicas <= maxReplicas")
        return self


class RayClusterWorkload(StrictModel):
    """A KubeRay RayCluster: a CPU head and one autoscaled GPU worker group."""

    name: DnsLabel
    namespace: DnsLabel
    ray_version: Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")] = Field(description='Ray version of the images, e.g. "2.52.0".')
    head: RayHead
    workers: RayWorkerGroup
    security: PodSecurity = Field(default=RAY_POD_SECURITY, description="Of head and workers; the default is the Ray images' own user.")

    @model_validator(mode="after")
    def _images_run_the_ray_version(self) -> RayClusterWorkload:
        for part, image in (("head", self.head.image), ("workers", self.workers.image)):
            tag = image.partition("@")[0].rsplit("/", 1)[-1].partition(":")[2]
            if tag != self.ray_version and not tag.startswith(f"{self.ray_version}-"):
                raise error(
                    "ray_version",
                    f"image '{image}' does not run Ray {self.ray_version}",
                    at=(part, "image"),
                    hint=f"use an image tagged {self.ray_version} or {self.ray_version}-<variant>; head, workers and rayVersion must agree",
                )
        for part, resources in (("head", self.head.resources), ("workers", self.workers.resources)):
            for field, request, limit in (("cpuLimit", resources.cpu, resources.cpu_limit), ("memoryLimit", resources.memory, resources.memory_limit)):
                if limit is not None and parse_quantity(limit) != parse_quantity(request):
                    raise error(
                        "ray_resources",
                        f"{field} ({limit}) differs from the request ({request}); KubeRay sets Ray's resources from the limits, "
                        "so Ray would run more on the node than the scheduler reserved",
                        at=(part, "resources", field),
                        hint=f"give Ray containers requests equal to limits: set the request to {limit}, or remove {field}",
                    )
        return self


class DaskScheduler(StrictModel):
    resources: ComputeResources = ComputeResources(cpu="1", memory="4Gi")
    pool: str | None = Field(
        default=None,
        description="The pool of the scheduler, which holds the cluster's state and is never interruptible. Default: the Dask cluster's pool (which then cannot be spot).",
    )


class DaskWorkers(StrictModel):
    replicas: int = Field(ge=0, description="Workers at creation; the DaskAutoscaler moves them between the bounds.")
    min_replicas: int = Field(ge=0)
    max_replicas: int = Field(ge=1)
    resources: ComputeResources
    dask_memory_limit: Annotated[str, StringConstraints(pattern=DASK_BYTES_RE.pattern)] = Field(
        description="The worker's --memory-limit, in Dask's units (7GB = 7e9 bytes); it must stay below the container's memory limit."
    )
    interruptible: bool = Field(default=True, description=INTERRUPTIBLE_WORKERS)

    @model_validator(mode="after")
    def _bounds_and_memory(self) -> DaskWorkers:
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise error(
                "replicas",
                f"replicas ({self.replicas}) is outside minReplicas..maxReplicas ({self.min_replicas}..{self.max_replicas})",
                at=("replicas",),
                hint="use minReplicas <= replicas <= maxReplicas",
            )
        try:
            limit = parse_dask_bytes(self.dask_memory_limit)
        except ValueError:
            raise error("dask_memory", f"'{self.dask_memory_limit}' is not a Dask byte size", at=("daskMemoryLimit",), hint="write it like 7GB or 6GiB") from None
        container = parse_quantity(self.resources.limits[1])
        if limit >= container:
            raise error(
                "dask_memory",
                f"daskMemoryLimit ({self.dask_memory_limit} = {limit / GIB:.2f}Gi) is not below the container's memory limit ({self.resources.limits[1]})",
                at=("daskMemoryLimit",),
                hint="Dask must spill and pause before the kernel kills the container; keep it about 10% below the container limit",
            )
        return self


class DaskClusterWorkload(StrictModel):
    """A Dask operator DaskCluster and its DaskAutoscaler."""

    name: DnsLabel
    namespace: DnsLabel
    pool: str
    image: Image
    scheduler: DaskScheduler = DaskScheduler()
    workers: DaskWorkers
    security: PodSecurity = Field(default=PodSecurity(), description="Of scheduler and workers (Pod Security restricted always).")


class Team(StrictModel):
    """A team: its namespace, and a Kueue LocalQueue for each queue it submits to."""

    name: DnsLabel = Field(description="The team's namespace.")
    queues: list[DnsLabel] = []
    pod_security: TeamPodSecurityLevel = Field(
        default="restricted",
        description="The Pod Security level the namespace enforces; baseline (root allowed) only for a team whose own images must run as root.",
    )


class Queue(StrictModel):
    """A Kueue ClusterQueue over some pools; its quota is what queued workloads can get there
    at the pools' maximum (see aiops.model.queues)."""

    name: DnsLabel
    pools: list[str] = Field(min_length=1)


class Workloads(StrictModel):
    teams: list[Team] = []
    queues: list[Queue] = []
    training: DeploymentWorkload | None = Field(default=None, description="The training workers (a Deployment scaled by an HPA).")
    inference: DeploymentWorkload | None = Field(default=None, description="The inference service (a Deployment, a Service and an HPA).")
    ray: RayClusterWorkload | None = None
    dask: DaskClusterWorkload | None = None

    @model_validator(mode="after")
    def _teams_and_queues_agree(self) -> Workloads:
        teams = [team.name for team in self.teams]
        queues = [queue.name for queue in self.queues]
        for index, name in enumerate(teams):
            if teams.index(name) != index:
                raise error("duplicate_team", f"team '{name}' is listed twice", at=("teams", index, "name"), hint="list each team once")
        for index, name in enumerate(queues):
            if queues.index(name) != index:
                raise error("duplicate_queue", f"queue '{name}' is listed twice", at=("queues", index, "name"), hint="list each queue once")
        used: set[str] = set()
        for t, team in enumerate(self.teams):
            for q, queue in enumerate(team.queues):
                if queue not in queues:
                    raise error(
                        "unknown_queue",
                        f"team '{team.name}' submits to queue '{queue}', which is not defined",
                        at=("teams", t, "queues", q),
                        hint=f"{did_you_mean(queue, queues)}define it under workloads.queues" + (f" (defined: {', '.join(queues)})" if queues else ""),
                    )
                used.add(queue)
        for index, queue in enumerate(self.queues):
            if queue.name not in used:
                raise error(
                    "unused_queue",
                    f"no team submits to queue '{queue.name}'",
                    at=("queues", index, "name"),
                    hint="add it to a team's queues, or remove it",
                )
        for key, workload in self.named():
            if workload.namespace not in teams:
                raise error(
                    "namespace",
                    f"namespace '{workload.namespace}' is not a team of this environment",
                    at=(key, "namespace"),
                    hint=f"{did_you_mean(workload.namespace, teams)}add it under workloads.teams" + (f" (teams: {', '.join(teams)})" if teams else ""),
                )
        return self

    @model_validator(mode="after")
    def _inference_is_never_interruptible(self) -> Workloads:
        if self.inference is not None and self.inference.interruptible:
            raise error(
                "interruptible",
                "the inference service cannot be interruptible",
                at=("inference", "interruptible"),
                hint="requests in flight fail when a spot node is taken back; remove interruptible (inference runs on on-demand pools)",
            )
        return self

    def named(self) -> Iterator[tuple[str, DeploymentWorkload | RayClusterWorkload | DaskClusterWorkload]]:
        """The workloads that are set, by their key in the file."""
        for key in ("training", "inference", "ray", "dask"):
            workload = getattr(self, key)
            if workload is not None:
                yield key, workload


@dataclass(frozen=True)
class _Placement:
    """One group of pods on one pool, as the pool checks see it."""

    at: tuple[str | int, ...]  # location of the `pool` key, relative to the environment
    pool: str
    resources: ComputeResources | None  # None: a queue, which places no pods itself
    max_replicas: int
    resources_at: tuple[str | int, ...] = ()  # the block holding `resources` (and `autoscaling`)
    gpu_autoscaling: bool = False
    interruptible: bool = True  # queues: Kueue's jobs say for themselves
    who: str = ""  # what runs there, for messages


def _placements(workloads: Workloads) -> Iterator[_Placement]:
    for index, queue in enumerate(workloads.queues):
        for p, pool in enumerate(queue.pools):
            yield _Placement(("workloads", "queues", index, "pools", p), pool, None, 0)
    for key in ("training", "inference"):
        deployment: DeploymentWorkload | None = getattr(workloads, key)
        if deployment is not None:
            scaling = deployment.autoscaling
            yield _Placement(
                ("workloads", key, "pool"), deployment.pool, deployment.resources, scaling.max_replicas,
                ("workloads", key), scaling.gpu_utilization is not None, interruptible(key, deployment), f"the {key} Deployment",
            )
    if workloads.ray is not None:
        ray = workloads.ray
        yield _Placement(("workloads", "ray", "head", "pool"), ray.head.pool, ray.head.resources, 1, ("workloads", "ray", "head"),
                         interruptible=False, who="the Ray head")
        yield _Placement(
            ("workloads", "ray", "workers", "pool"), ray.workers.pool, ray.workers.resources, ray.workers.max_replicas, ("workloads", "ray", "workers"),
            interruptible=ray.workers.interruptible, who="the Ray workers",
        )
    if workloads.dask is not None:
        dask = workloads.dask
        at = ("workloads", "dask", "scheduler", "pool") if dask.scheduler.pool else ("workloads", "dask", "pool")
        yield _Placement(at, dask.scheduler.pool or dask.pool, dask.scheduler.resources, 1, ("workloads", "dask", "scheduler"),
                         interruptible=False, who="the Dask scheduler")
        yield _Placement(("workloads", "dask", "pool"), dask.pool, dask.workers.resources, dask.workers.max_replicas, ("workloads", "dask", "workers"),
                         interruptible=dask.workers.interruptible, who="the Dask workers")


def interruptible(key: str, deployment: DeploymentWorkload) -> bool:
    """Training is interruptible unless it says otherwise; inference never is."""
    return False if key == "inference" else deployment.interruptible is not False


def check_workloads(environment: Environment) -> PydanticCustomError | None:
    """The first rule the workloads break against the node pools, cloud and catalog, if any."""
    from aiops.model.capacity import node_capacity

    pools = {pool.name: pool for pool in environment.node_pools}
    queue_of_pool: dict[str, str] = {}
    for placement in _placements(environment.workloads):
        pool = pools.get(placement.pool)
        if pool is None:
            return error(
                "unknown_pool",
                f"'{placement.pool}' is not a node pool of this environment",
                at=placement.at,
                hint=f"{did_you_mean(placement.pool, list(pools))}node pools: {', '.join(pools)}",
            )
        others = [other.name for other in environment.node_pools if other.name != pool.name and pool.labels.items() <= other.labels.items()]
        if others:
            return error(
                "pool_selector",
                f"the labels of pool '{pool.name}' also select the nodes of pool '{others[0]}'",
                at=placement.at,
                hint=f"give '{pool.name}' a label that '{others[0]}' does not carry; workloads and queues find their pool by its labels",
            )
        if placement.resources is None:
            queue = placement.at[2]
            owner = queue_of_pool.setdefault(pool.name, environment.workloads.queues[queue].name)  # type: ignore[index]
            if owner != environment.workloads.queues[queue].name:  # type: ignore[index]
                return error(
                    "pool_in_two_queues",
                    f"pool '{pool.name}' is already in queue '{owner}'",
                    at=placement.at,
                    hint="a queue's quota is its pools' whole capacity; give each pool to one queue",
                )
            continue
        capacity = node_capacity(environment.cloud, pool)
        resources = placement.resources
        where = placement.resources_at
        if pool.spot and not placement.interruptible:
            never = placement.who in ("the inference Deployment", "the Ray head", "the Dask scheduler")
            return error(
                "spot_pool",
                f"pool '{pool.name}' is spot (capacityType: spot) and {placement.who} cannot be interrupted",
                at=placement.at,
                hint=("run it on an on-demand pool" + (" (workloads.dask.scheduler.pool)" if placement.who == "the Dask scheduler" else "")) if never
                else "run it on an on-demand pool, or set interruptible: true if it checkpoints and resumes",
            )
        if resources.gpus and not capacity.gpus:
            return error(
                "gpu_pool",
                f"asks for {resources.gpus} GPU(s) but pool '{pool.name}' ({pool.instance_type}) has none",
                at=placement.at,
                hint="run it on a GPU pool, or set gpus: 0",
            )
        if resources.gpus > capacity.gpus:
            return error(
                "fits_node",
                f"asks for {resources.gpus} GPUs but a node of pool '{pool.name}' has {capacity.gpus}",
                at=(*where, "resources", "gpus"),
                hint=f"use at most {capacity.gpus}",
            )
        if parse_quantity(resources.cpu) > capacity.vcpu:
            return error(
                "fits_node",
                f"a cpu request of {resources.cpu} does not fit on a node of pool '{pool.name}' ({pool.instance_type}: {capacity.vcpu} vCPU)",
                at=(*where, "resources", "cpu"),
                hint="request less than the node has (the kubelet and daemon sets need some too)",
            )
        if parse_quantity(resources.memory) > capacity.memory_gib * GIB:
            return error(
                "fits_node",
                f"a memory request of {resources.memory} does not fit on a node of pool '{pool.name}' ({pool.instance_type}: {capacity.memory_gib}Gi)",
                at=(*where, "resources", "memory"),
                hint="request less than the node has (the kubelet and daemon sets need some too)",
            )
        if resources.gpus and placement.max_replicas * resources.gpus > pool.max * capacity.gpus:
            return error(
                "gpu_capacity",
                f"{placement.max_replicas} replicas x {resources.gpus} GPU(s) is more than pool '{pool.name}' holds at its maximum "
                f"({pool.max} nodes x {capacity.gpus} GPU(s))",
                at=placement.at,
                hint=f"lower the maximum replicas to {pool.max * capacity.gpus // resources.gpus} or raise the pool's max",
            )
        if placement.gpu_autoscaling and environment.cloud == "gcp":
            return error(
                "gpu_metric",
                "GPU-utilization autoscaling needs DCGM metrics in Prometheus, which the platform installs (with the NVIDIA GPU operator) on EKS and AKS only",
                at=(*placement.resources_at, "autoscaling", "gpuUtilization"),
                hint="on GKE, scale on cpuUtilization instead",
            )
    from aiops.model.queues import check_queues
    from aiops.model.zonal import check_zonal

    return check_zonal(environment) or check_queues(environment)

