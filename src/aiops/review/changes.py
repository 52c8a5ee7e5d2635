"""What `aiops diff` finds, as data: the changes to objects, cloud resources, settings and
pools of one environment, the alerts a reviewer must see, and the whole report.

`aiops.review.compare` fills these in; `aiops.review.render_diff` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aiops.cost.pools import CostTotals, PoolCost, PriceSource
from aiops.review.fields import FieldChange
from aiops.review.replacement import RuleHit, known_types
from aiops.tree.manifests import Problem

PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
FLUX_ISSUE_PATH_NOT_FOUND = "fluxcd/flux2#2627"

# Alert kinds. DESTRUCTIVE is what --fail-on-destroy fails on; DANGER is what a reviewer must not
# miss (the summary lists it); WARNING deserves a look; the rest (capacity) informs.
PRUNE, DESTROY, TF_REPLACE = "prune", "destroy", "replace"
PATH_NOT_FOUND, ORPHAN, OWNER_CHANGE = "path-not-found", "orphan", "owner-change"
API_VERSION, NODES_RECREATED, APPLY_FAILS, CAPACITY, STATE_BACKEND = (
    "api-version", "nodes-recreated", "apply-fails", "capacity", "state-backend",
)
DESTRUCTIVE = (PRUNE, DESTROY, TF_REPLACE)
DANGER = (*DESTRUCTIVE, PATH_NOT_FOUND, NODES_RECREATED, APPLY_FAILS, STATE_BACKEND)
WARNING = (ORPHAN, OWNER_CHANGE, API_VERSION)
# The order alerts are listed in: what stops a rollout first, then what destroys, then the rest.
ALERT_ORDER = (PATH_NOT_FOUND, APPLY_FAILS, STATE_BACKEND, DESTROY, TF_REPLACE, NODES_RECREATED, PRUNE,
               ORPHAN, OWNER_CHANGE, API_VERSION, CAPACITY)


@dataclass(frozen=True)
class Alert:
    kind: str
    environment: str
    message: str
    file: str | None = None
    line: int | None = None

    @property
    def destructive(self) -> bool:
        return self.kind in DESTRUCTIVE

    @property
    def severity(self) -> str:
        return "danger" if self.kind in DANGER else "warning" if self.kind in WARNING else "info"

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")


@dataclass(frozen=True)
class ObjectChange:
    action: str  # added | changed | removed
    environment: str
    kind: str
    namespace: str
    name: str
    api_version: str  # head's, or base's when removed
    file: str  # head's, or base's when removed
    line: int
    old_api_version: str | None = None  # set when the apiVersion changed
    fields: tuple[FieldChange, ...] = ()
    fate: str | None = None  # removed objects: pruned | orphaned | kept-path-not-found | prune-disabled | not-applied
    owner: str | None = None  # namespace/name of the Flux Kustomization that applies (or applied) it
    previous_owner: str | None = None  # set when another Kustomization applies it now
    previous_file: str | None = None  # set when it moved to another file

    def describe(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True)
class ResourceChange:
    action: str  # create | update | replace | destroy
    environment: str
    file: str
    address: str
    fields: tuple[FieldChange, ...] = ()
    hits: tuple[RuleHit, ...] = ()  # rows of the replacement table this change triggers
    blocked: str | None = None  # why terraform apply will fail instead (deletion guard)
    moved_from: str | None = None
    line: int | None = None

    @property
    def type(self) -> str:
        return self.address.split(".", 1)[0]

    @property
    def replacement_known(self) -> bool:
        """Whether the replacement table covers this type (else an update may still be a replacement)."""
        return self.type in known_types()


@dataclass(frozen=True)
class SettingChange:
    action: str  # added | changed | removed
    environment: str
    file: str
    address: str  # terraform, provider.aws, variable.x, output.y, ...
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class PoolChange:
    environment: str
    pool: str
    before: PoolCost | None
    after: PoolCost | None

    def monthly(self, side: str, size: str) -> Decimal:
        cost = self.before if side == "before" else self.after
        return (cost.monthly(size) or Decimal(0)) if cost else Decimal(0)

    def delta(self, size: str) -> Decimal:
        return self.monthly("after", size) - self.monthly("before", size)

    def gpus(self, side: str, size: str) -> int:
        cost = self.before if side == "before" else self.after
        return (cost.gpus(size) or 0) if cost else 0


@dataclass
class EnvironmentDiff:
    name: str
    objects: list[ObjectChange] = field(default_factory=list)
    resources: list[ResourceChange] = field(default_factory=list)
    settings: list[SettingChange] = field(default_factory=list)
    pools: list[PoolChange] = field(default_factory=list)
    other_files: list[tuple[str, str]] = field(default_factory=list)  # (added|changed|removed, path)
    alerts: list[Alert] = field(default_factory=list)
    cost_before: CostTotals | None = None
    cost_after: CostTotals | None = None
    prices: list[PriceSource] = field(default_factory=list)  # the catalog prices its pools use
    price_warnings: list = field(default_factory=list)  # aiops.cost.prices.PriceWarning about the head's pools

    def count(self, action: str) -> int:
        return sum(1 for o in self.objects if o.action == action)

    @property
    def pruned(self) -> int:
        return sum(1 for o in self.objects if o.fate == "pruned")

    def resources_with(self, action: str) -> list[ResourceChange]:
        return [r for r in self.resources if r.action == action]

    @property
    def changed(self) -> bool:
        return bool(self.objects or self.resources or self.settings or self.pools or self.other_files or self.alerts)

    def cost_delta(self, size: str) -> Decimal:
        return self.cost_after.at(size) - self.cost_before.at(size)


@dataclass
class DiffReport:
    base: str
    head: str
    root: str
    environments: list[EnvironmentDiff]
    hours_per_month: int
    problems: list[tuple[str, Problem]]  # (base|head, problem)

    @property
    def changed(self) -> list[EnvironmentDiff]:
        return [e for e in self.environments if e.changed]

    @property
    def alerts(self) -> list[Alert]:
        return [a for e in self.changed for a in e.alerts]

    @property
    def destructive(self) -> list[Alert]:
        return [a for a in self.alerts if a.destructive]

    @property
    def dangers(self) -> list[Alert]:
        return [a for a in self.alerts if a.severity == "danger"]


