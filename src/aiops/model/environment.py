"""The typed model of one environment: a cluster, its cloud, its node pools.

YAML keys are camelCase (like Kubernetes); Python attributes are snake_case. Every model
forbids unknown keys and is strict about types, so `max: "10"` is an error rather than a
silent conversion.

Rules that need more than one field raise `PydanticCustomError` with two context keys the
loader understands: `at`, a location relative to the model being validated (so the error
points at the offending key, not at its parent), and `hint`, how to fix it.
Rules that depend on the cloud read it from the validation context (see `loader.py`), so
that every node pool reports its own error and all of them are reported at once. The rules
themselves live in `cloud_rules.py`, shared with the Terraform constructs; an environment
validated without that context checks its pools against its own cloud instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from aiops.model import cloud_rules
from aiops.model.base import DnsLabel
from aiops.model.base import StrictModel as _Model
from aiops.model.base import error as _error
from aiops.model.catalog import CLOUDS, Cloud, load_catalog
from aiops.model.control_plane import ControlPlane, admin_violation
from aiops.model.failover import Failover
from aiops.model.gpu_sharing import MAX_TIME_SLICES, Advertised, advertised, mig_profiles, sharing_violation
from aiops.model.spot import ON_DEMAND, SPOT, SPOT_TAINT_KEYS, CapacityType, spot_taint
from aiops.model.workloads import Workloads, check_workloads

SCHEMA_ID = "https://aiops-gitops.example/schemas/environment.schema.json"

# Label keys and values (RFC 1123 label / label value syntax); DnsLabel (names) is in base.py.
_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)"
_LABEL_KEY_RE = re.compile(rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}$")
_LABEL_VALUE_RE = re.compile(rf"^({_LABEL_NAME})?$")

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

# Node disk defaults (GiB). EKS would give 20 GiB, which the GPU AMI and one CUDA image already
# fill; a bigger disk later replaces the node group, so GPU pools start with room.
GPU_DISK_GIB = 200
CPU_DISK_GIB = 50


def _raise(violation: cloud_rules.Violation | None, *, at: tuple[str | int, ...] | None = None) -> None:
    """Report a cloud rule's violation (see cloud_rules.py) as a validation error of this model."""
    if violation is not None:
        raise _error(violation.kind, violation.message, at=violation.at if at is None else at, hint=violation.hint)


GPU_TAINT_KEY = "nvidia.com/gpu"


class Taint(_Model):
    """A node taint, in Kubernetes spelling (`NoSchedule`); each cloud construct respells it."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    value: Annotated[str, StringConstraints(max_length=63)] = ""
    effect: TaintEffect

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


class GpuRequest(_Model):
    """GPUs on each node of a pool.

    On AWS and Azure the instance type decides them and this block, when given, must agree with
    the catalog. On Google Cloud GPUs are accelerators attached to an N1 machine, so `type` names
    the accelerator (for example `nvidia-tesla-t4`).
    """

    type: str | None = None
    count: int = Field(default=1, ge=1)


class GpuSharing(_Model):
    """How the pool's GPUs are shared (aiops.model.gpu_sharing): give one of the two."""

    time_slicing: int | None = Field(
        default=None, ge=2, le=MAX_TIME_SLICES,
        description="Advertise each GPU this many times as nvidia.com/gpu (pods take turns, no memory isolation): for inference pools.",
    )
    mig: str | None = Field(
        default=None,
        description="Cut every GPU into instances of this MIG profile (e.g. 1g.5gb on an A100 40GB), advertised as nvidia.com/mig-<profile> "
        "(on GKE, whose own partitioning does it, as nvidia.com/gpu); the GPU must have it (the catalog lists each GPU's profiles).",
    )

    @model_validator(mode="after")
    def _one_way(self) -> GpuSharing:
        if (self.time_slicing is None) == (self.mig is None):
            raise _error("gpu_sharing", "give either timeSlicing or mig", hint="timeSlicing: N shares each GPU N ways; mig: <profile> partitions it")
        return self


class NodePool(_Model):
    name: DnsLabel
    instance_type: str
    min: int = Field(ge=0)
    desired: int = Field(ge=0)
    max: int = Field(ge=1)
    labels: dict[str, str] = {}
    taints: list[Taint] = []
    gpu: GpuRequest | None = None
    system: bool = Field(
        default=False,
        description="AKS only: a system-mode pool that runs cluster add-ons. Every AKS cluster needs one.",
    )
    gpu_taint: bool = Field(
        default=True,
        description=(
            "GPU pools only: taint the nodes nvidia.com/gpu:NoSchedule (the default) so that only pods that ask for GPUs land on them; "
            "false leaves them open to every pod (aiops validate warns: operators and monitoring then keep GPU nodes from scaling down)."
        ),
    )
    capacity_type: CapacityType = Field(
        default=ON_DEMAND,
        description=(
            "onDemand (the default) or spot: spot/preemptible VMs at a discount, which the cloud may take back at short notice "
            "(EKS capacity_type SPOT, AKS priority Spot with eviction Delete, GKE spot). The pool gets the cloud's spot taint, so "
            "only workloads that can be interrupted run there (training with checkpoints, Ray and Dask workers; never the "
            "inference service, a Ray head or a Dask scheduler)."
        ),
    )
    gpu_sharing: GpuSharing | None = Field(
        default=None,
        description="GPU pools only: share each GPU by time-slicing (timeSlicing: N) or MIG partitions (mig: <profile>); workloads' gpus then count the shares.",
    )
    alternative_instance_types: list[str] = Field(
        default=[],
        description=(
            "EKS spot pools only: more instance types EC2 may launch, each with the same vCPUs, memory and GPUs as instanceType "
            "(by the catalog), so the pool draws on several spot capacity pools. The pool is priced at instanceType."
        ),
    )
    disk_size_gib: int | None = Field(
        default=None,
        ge=20,
        le=4096,
        description=f"OS disk of each node, GiB. Default: {GPU_DISK_GIB} on GPU pools (driver, CUDA images of 10-20 GiB each), {CPU_DISK_GIB} on others.",
    )

    @field_validator("labels")
    @classmethod
    def _labels_are_kubernetes_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not _LABEL_KEY_RE.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
                raise _error(
                    "label_key",
                    f"'{key}' is not a valid Kubernetes label key",
                    at=(key,),
                    hint="use an optional DNS prefix and a name of up to 63 letters, digits, '-', '_' and '.', like 'gpu-type' or 'example.com/tier'",
                )
            if not _LABEL_VALUE_RE.match(value) or len(value) > 63:
                raise _error(
                    "label_value",
                    f"'{value}' is not a valid Kubernetes label value",
                    at=(key,),
                    hint="use up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
                )
        return labels

    @field_validator("name")
    @classmethod
    def _name_fits_the_cloud(cls, name: str, info: ValidationInfo) -> str:
        cloud = (info.context or {}).get("cloud")
        if cloud in CLOUDS:
            _raise(cloud_rules.pool_name_violation(cloud, name), at=())
        return name

    @field_validator("instance_type")
    @classmethod
    def _instance_type_is_in_the_catalog(cls, instance_type: str, info: ValidationInfo) -> str:
        cloud = (info.context or {}).get("cloud")
        if cloud in CLOUDS:
            _raise(cloud_rules.instance_type_violation(cloud, instance_type), at=())
        return instance_type

    @field_validator("system")
    @classmethod
    def _system_pools_are_an_aks_idea(cls, system: bool, info: ValidationInfo) -> bool:
        cloud = (info.context or {}).get("cloud")
        if system and cloud not in (None, "azure"):
            raise _error("system_pool", f"'system' applies to AKS only, not to {cloud}", hint="remove 'system: true' from this pool")
        return system

    @model_validator(mode="after")
    def _sizes_are_ordered(self) -> NodePool:
        if self.min > self.desired:
            raise _error(
                "pool_size",
                f"min ({self.min}) is greater than desired ({self.desired})",
                at=("min",),
                hint="node pool sizes need min <= desired <= max",
            )
        if self.desired > self.max:
            raise _error(
                "pool_size",
                f"desired ({self.desired}) is greater than max ({self.max})",
                at=("desired",),
                hint="node pool sizes need min <= desired <= max",
            )
        keys = [t.key for t in self.taints]
        for index, taint in enumerate(self.taints):
            if keys.index(taint.key) != index and self.taints[keys.index(taint.key)].effect == taint.effect:
                raise _error(
                    "duplicate_taint",
                    f"taint '{taint.key}:{taint.effect}' appears twice",
                    at=("taints", index),
                    hint="a node carries one taint per key and effect; remove the repeated one",
                )
        return self

    @model_validator(mode="after")
    def _fits_the_machine(self, info: ValidationInfo) -> NodePool:
        cloud = (info.context or {}).get("cloud")
        if cloud in CLOUDS:
            _raise(cloud_rules.gpu_violation(cloud, self.instance_type, *self.gpu_asked()))
            from aiops.model.spot import spot_violations

            for violation in spot_violations(cloud, instance_type=self.instance_type, capacity_type=self.capacity_type,
                                             alternatives=self.alternative_instance_types, system=self.system):
                _raise(violation)
            _raise(cloud_rules.system_pool_violation(cloud, self.system, len(self.taints), self.min))
            _raise(sharing_violation(cloud, self.instance_type, self.gpu_count(cloud), *self.sharing(), gpu_type=self.gpu_asked()[0]))
        return self

    def sharing(self) -> tuple[int | None, str | None]:
        """(time slices, MIG profile) of the pool's gpuSharing; (None, None) without it."""
        return (self.gpu_sharing.time_slicing, self.gpu_sharing.mig) if self.gpu_sharing else (None, None)

    def advertised(self, cloud: Cloud) -> Advertised:
        """What each GPU of the pool is offered to pods as (a whole nvidia.com/gpu without sharing)."""
        return advertised(*self.sharing(), mig_profiles(cloud, self.instance_type), cloud)

    @property
    def spot(self) -> bool:
        return self.capacity_type == SPOT

    @property
    def instance_types(self) -> list[str]:
        """Every type the pool may launch: instanceType first, then its alternatives."""
        return [self.instance_type, *self.alternative_instance_types]

    def gpu_asked(self) -> tuple[str | None, int | None]:
        """The GPU type and count this pool's `gpu` block asks for; (None, None) without one."""
        return (self.gpu.type, self.gpu.count) if self.gpu else (None, None)

    def gpu_count(self, cloud: Cloud) -> int:
        """GPUs on one node of this pool."""
        if cloud == "gcp":
            return self.gpu.count if self.gpu else 0
        machine = load_catalog().instance_type(cloud, self.instance_type)
        return machine.gpu.count if machine and machine.gpu else 0

    def disk_size(self, cloud: Cloud) -> int:
        """GiB of each node's OS disk: the pool's `diskSizeGib`, else the GPU or CPU default."""
        if self.disk_size_gib is not None:
            return self.disk_size_gib
        return GPU_DISK_GIB if self.gpu_count(cloud) else CPU_DISK_GIB

    def gpu_model(self, cloud: Cloud) -> str | None:
        catalog = load_catalog()
        if cloud == "gcp":
            accelerator = catalog.accelerator(cloud, self.gpu.type) if self.gpu and self.gpu.type else None
            return accelerator.model if accelerator else None
        machine = catalog.instance_type(cloud, self.instance_type)
        return machine.gpu.model if machine and machine.gpu else None


class GitSource(_Model):
    """Where Flux fetches this repository from."""

    url: Annotated[str, StringConstraints(pattern=r"^(https://|ssh://)\S+$")] = Field(
        description="The repository Flux clones: an https:// or ssh:// URL.",
    )
    branch: Annotated[str, StringConstraints(min_length=1)] = Field(default="main", description="The branch Flux follows.")
    secret_ref: DnsLabel | None = Field(
        default=None,
        description="The Secret in flux-system with the Git credentials for a private repository "
        "(`flux bootstrap` creates one called flux-system); becomes the GitRepository's spec.secretRef.",
    )


class TerraformState(_Model):
    """The remote backend of this environment's Terraform stacks (S3, azurerm or GCS, by cloud).

    `bucket` is the S3 or GCS bucket; on Azure, `storageAccount`, `container` and
    `resourceGroup` name the blob container. The state key is derived from the environment and
    stack names, so no output depends on the folder it was synthesized in.
    """

    bucket: str | None = None
    region: str | None = None
    storage_account: str | None = None
    container: str | None = None
    resource_group: str | None = None


class Environment(_Model):
    model_config = ConfigDict(title="Environment", json_schema_extra={"$id": SCHEMA_ID})

    name: DnsLabel
    description: str = ""
    cloud: Cloud
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]+(-[a-z0-9]+)*[0-9]?$")]
    zones: list[str] = Field(min_length=1)
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.[0-9]{2}$")]
    cost_centre: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][-a-z0-9_]*$")]
    gcp_project: str | None = Field(default=None, description="Google Cloud project id (gcp only).")
    git: GitSource
    terraform_state: TerraformState
    node_pools: list[NodePool] = Field(min_length=1)
    workloads: Workloads = Field(
        default=Workloads(),
        description="What runs on the cluster: teams and their queues, training and inference Deployments, a RayCluster, a Dask cluster.",
    )
    control_plane: ControlPlane = Field(
        default=ControlPlane(),
        description="The API endpoint (private, or public to authorizedCidrs) and the cluster's admins. Default: a private endpoint.",
    )
    failover: Failover | None = Field(
        default=None,
        description="This environment is the standby of another (standbyFor) for the workloads listed; `state: active` is the failover switch.",
    )

    @model_validator(mode="before")
    @classmethod
    def _gpu_pools_are_tainted(cls, data: Any) -> Any:
        """Spot pools (`capacityType: spot`) get their cloud's spot taint (aiops.model.spot), the
        same way: only workloads that can be interrupted tolerate it.

        Add `nvidia.com/gpu=<value>:NoSchedule` to every GPU pool that has no nvidia.com/gpu
        taint and does not say `gpuTaint: false`. Untainted, a GPU pool takes any pod (operators,
        Prometheus, Flux), and those keep its expensive nodes from ever scaling down. The value
        is GKE's own (`present`) on Google Cloud, where GKE adds that taint itself, and `true`
        elsewhere (AKS and EKS add none)."""
        if not isinstance(data, dict) or not isinstance(data.get("nodePools", data.get("node_pools")), list):
            return data
        cloud = data.get("cloud")
        catalog = load_catalog()
        key = "nodePools" if "nodePools" in data else "node_pools"
        pools = []
        for pool in data[key]:
            if isinstance(pool, dict) and cloud in CLOUDS and pool.get("gpuTaint", pool.get("gpu_taint", True)) is True:
                if cloud == "gcp":
                    gpus = (pool.get("gpu") or {}).get("count", 0) if isinstance(pool.get("gpu"), dict) else 0
                else:
                    machine = catalog.instance_type(cloud, str(pool.get("instanceType", pool.get("instance_type", ""))))
                    gpus = machine.gpu.count if machine and machine.gpu else 0
                taints = pool.get("taints", [])
                if gpus and isinstance(taints, list) and not any(isinstance(t, dict) and t.get("key") == GPU_TAINT_KEY for t in taints):
                    pool = {**pool, "taints": [*taints, {"key": GPU_TAINT_KEY, "value": "present" if cloud == "gcp" else "true", "effect": "NoSchedule"}]}
            if (isinstance(pool, dict) and cloud in CLOUDS and pool.get("capacityType", pool.get("capacity_type")) == SPOT
                    and pool.get("system") is not True and isinstance(pool.get("taints", []), list)
                    and not any(isinstance(t, dict) and t.get("key") in SPOT_TAINT_KEYS for t in pool.get("taints", []))):
                pool = {**pool, "taints": [*pool.get("taints", []), spot_taint(cloud)]}
            pools.append(pool)
        return {**data, key: pools}

    @field_validator("zones")
    @classmethod
    def _zones_are_in_the_region(cls, zones: list[str], info: ValidationInfo) -> list[str]:
        cloud, region = info.data.get("cloud"), info.data.get("region")
        if cloud is not None and region is not None:
            _raise(cloud_rules.zone_violation(cloud, region, zones))
        return zones

    @model_validator(mode="after")
    def _pools_fit_the_cloud(self, info: ValidationInfo) -> Environment:
        """The node-pool rules of the environment's cloud, when validation had no cloud context.

        The loader passes the cloud as context so that each pool reports its own errors (and all
        of them at once); a model built in code without it is held to the same rules here.
        """
        if (info.context or {}).get("cloud") == self.cloud:
            return self
        for index, pool in enumerate(self.node_pools):
            for violation in cloud_rules.pool_violations(
                self.cloud,
                name=pool.name,
                instance_type=pool.instance_type,
                gpu_type=pool.gpu_asked()[0],
                gpu_count=pool.gpu_asked()[1],
                system=pool.system,
                taints=len(pool.taints),
                min_size=pool.min,
                capacity_type=pool.capacity_type,
                alternatives=pool.alternative_instance_types,
                time_slicing=pool.sharing()[0],
                mig=pool.sharing()[1],
            ):
                _raise(violation, at=("nodePools", index, *violation.at))
        return self

    @model_validator(mode="after")
    def _environment_rules(self) -> Environment:
        names = [pool.name for pool in self.node_pools]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise _error(
                    "duplicate_pool",
                    f"node pool name '{name}' is used twice",
                    at=("nodePools", index, "name"),
                    hint="give every node pool of an environment its own name",
                )
        if self.cloud == "azure" and not any(pool.system for pool in self.node_pools):
            raise _error(
                "system_pool",
                "an AKS cluster needs a system node pool",
                at=("nodePools",),
                hint="mark one CPU pool with 'system: true'",
            )
        admin = admin_violation(self.cloud, self.control_plane.admins)
        if admin is not None:
            index, message, hint = admin
            raise _error("admin", message, at=("controlPlane", "admins", index), hint=hint)
        if self.cloud == "gcp" and not self.gcp_project:
            raise _error("gcp_project", "'gcpProject' is required on Google Cloud", hint="add 'gcpProject: <project id>'")
        state, needs = self.terraform_state, {
            "aws": ("bucket", "region"),
            "gcp": ("bucket",),
            "azure": ("storage_account", "container", "resource_group"),
        }[self.cloud]
        for field in needs:
            if getattr(state, field) is None:
                raise _error(
                    "terraform_state",
                    f"'terraformState.{to_camel(field)}' is required on {self.cloud}",
                    at=("terraformState",),
                    hint=f"a {self.cloud} backend needs: {', '.join(to_camel(f) for f in needs)}",
                )
        return self

    @model_validator(mode="after")
    def _workloads_fit_the_pools(self) -> Environment:
        problem = check_workloads(self)
        if problem is not None:
            raise problem
        return self

    @model_validator(mode="after")
    def _failover_fits_this_file(self) -> Environment:
        from aiops.model.failover import failover_problem

        problem = failover_problem(self)
        if problem is not None:
            raise problem
        return self

    @property
    def serves(self) -> bool:
        """Whether the cluster serves requests (an inference workload), which calls for an SLA-backed control plane."""
        return self.workloads.inference is not None

    def pool(self, name: str) -> NodePool:
        for pool in self.node_pools:
            if pool.name == name:
                return pool
        raise KeyError(name)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of environment files, as committed in schemas/environment.schema.json."""
    from aiops.model.schema_docs import document

    schema = document(Environment.model_json_schema(by_alias=True, mode="validation"))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
