"""Compare two snapshots of dist/: what a change does to each cluster and cloud, and what it costs.

The result is data (`DiffReport`); `aiops.review.render_diff` turns it into markdown, JSON or
text. Everything here is decided from the two trees of files alone.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from aiops.cost.pools import PoolCost, price_sources, totals
from aiops.model.catalog import load_catalog
from aiops.review.changes import (
    ALERT_ORDER, API_VERSION, APPLY_FAILS, CAPACITY, DESTROY, FLUX_ISSUE_PATH_NOT_FOUND, NODES_RECREATED, ORPHAN, OWNER_CHANGE,
    PATH_NOT_FOUND, PRUNE, PRUNE_ANNOTATION, STATE_BACKEND, TF_REPLACE, Alert, DiffReport, EnvironmentDiff, ObjectChange,
    PoolChange, ResourceChange, SettingChange,
)
from aiops.review.fields import field_changes, show
from aiops.review.replacement import REPLACE, RuleHit, deletion_blocked, rule_hits
from aiops.review.snapshot import ObjectKey, Snapshot, environment
from aiops.tree.flux import FluxKustomization, owner_of
from aiops.tree.manifests import Manifest, Problem


def _owner_name(kustomization: FluxKustomization | None) -> str | None:
    return f"{kustomization.namespace}/{kustomization.name}" if kustomization else None


def _kustomization_key(k: FluxKustomization) -> tuple[str, str, str]:
    return (environment(k.manifest.file), k.namespace, k.name)


class _Comparison:
    def __init__(self, base: Snapshot, head: Snapshot):
        self.base, self.head = base, head
        self.environments: dict[str, EnvironmentDiff] = {}
        self._owners: dict[tuple[int, str], FluxKustomization | None] = {}
        self.base_kustomizations = {_kustomization_key(k): k for k in base.kustomizations}
        self.head_kustomizations = {_kustomization_key(k): k for k in head.kustomizations}
        # Kustomizations whose folder had files in base and has none in head (unless head points
        # the Kustomization elsewhere: then Flux applies the new folder and prunes as usual).
        self.vanished_paths = {}
        for key, k in self.base_kustomizations.items():
            if not base.covers(k.folder) or not base.has_files_under(k.folder) or head.has_files_under(k.folder):
                continue
            repointed = key in self.head_kustomizations and self.head_kustomizations[key].folder != k.folder
            if not repointed:
                self.vanished_paths[key] = k

    def owner(self, snapshot: Snapshot, file: str) -> FluxKustomization | None:
        """The Kustomization that applies a file (cached: many objects share a file)."""
        key = (id(snapshot), file)
        if key not in self._owners:
            self._owners[key] = owner_of(file, snapshot.kustomizations)
        return self._owners[key]

    def env(self, name: str) -> EnvironmentDiff:
        if name not in self.environments:
            self.environments[name] = EnvironmentDiff(name)
        return self.environments[name]

    def warn(self, kind: str, env: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.env(env).alerts.append(Alert(kind, env, message, file, line))

    # --- Kubernetes objects ------------------------------------------------------------------
    def objects(self) -> None:
        base, head = self.base.objects, self.head.objects
        for key in sorted(set(base) | set(head)):
            old, new = base.get(key), head.get(key)
            if old is None:
                self.added_object(key, new)
            elif new is None:
                self.removed_object(key, old)
            elif old.body != new.body or old.file != new.file:
                self.changed_object(key, old, new)

    def added_object(self, key: ObjectKey, new: Manifest) -> None:
        owner = self.owner(self.head, new.file)
        self.env(key[0]).objects.append(ObjectChange(
            "added", key[0], new.kind, new.namespace, new.name, new.api_version, new.file, new.line, owner=_owner_name(owner),
        ))

    def removed_object(self, key: ObjectKey, old: Manifest) -> None:
        env = key[0]
        owner = self.owner(self.base, old.file)
        owner_key = _kustomization_key(owner) if owner else None
        annotations = (old.body.get("metadata") or {}).get("annotations") or {}
        owner_removed = owner is not None and owner_key not in self.head_kustomizations
        if owner is None:
            fate = "not-applied"
        elif str(annotations.get(PRUNE_ANNOTATION, "")).lower() == "disabled":
            fate = "prune-disabled"
        elif owner_key in self.vanished_paths and not owner_removed:
            fate = "kept-path-not-found"
        # A Kustomization that is itself removed deletes what it applied through its finalizer,
        # as its spec.deletionPolicy says (MirrorPrune, the default, follows spec.prune).
        elif owner.deletes_on_removal if owner_removed else owner.prune:
            fate = "pruned"
        else:
            fate = "orphaned"
        change = ObjectChange(
            "removed", env, old.kind, old.namespace, old.name, old.api_version, old.file, old.line,
            fate=fate, owner=_owner_name(owner),
        )
        self.env(env).objects.append(change)
        if fate == "pruned":
            because = (f"Kustomization {change.owner} is removed and its deletionPolicy ({owner.deletion_policy}) deletes what"
                       " it applied" if owner_removed else f"Kustomization {change.owner} has prune: true")
            self.warn(PRUNE, env, f"Flux prunes {change.describe()} ({old.api_version}): it is deleted from the cluster"
                      f" because {because}", old.file, old.line)
        elif fate == "orphaned":
            because = (f"Kustomization {change.owner} is removed and its deletionPolicy ({owner.deletion_policy}) keeps what"
                       " it applied" if owner_removed else f"Kustomization {change.owner} has prune: false")
            self.warn(ORPHAN, env, f"{change.describe()} stays in the cluster unmanaged: {because},"
                      " so removing it from git does not delete it", old.file, old.line)

    def changed_object(self, key: ObjectKey, old: Manifest, new: Manifest) -> None:
        env = key[0]
        owner_before = _owner_name(self.owner(self.base, old.file))
        owner_after = _owner_name(self.owner(self.head, new.file))
        fields = tuple(c for c in field_changes(old.body, new.body) if c.path != "apiVersion")
        api_changed = old.api_version != new.api_version
        moved_owner = owner_before != owner_after
        if not fields and not api_changed and not moved_owner:
            return  # only moved to another file: not a change for the cluster
        change = ObjectChange(
            "changed", env, new.kind, new.namespace, new.name, new.api_version, new.file, new.line,
            old_api_version=old.api_version if api_changed else None, fields=fields, owner=owner_after,
            previous_owner=owner_before if moved_owner else None,
            previous_file=old.file if old.file != new.file else None,
        )
        self.env(env).objects.append(change)
        if api_changed:
            self.warn(API_VERSION, env, f"{change.describe()}: apiVersion {old.api_version} -> {new.api_version}", new.file, new.line)
        if moved_owner:
            self.warn(OWNER_CHANGE, env, f"{change.describe()} moves from Kustomization {owner_before or '(none)'} to"
                      f" {owner_after or '(none)'}: depending on which reconciles first, Flux may delete it and create it again",
                      new.file, new.line)

    # --- Flux paths ----------------------------------------------------------------------------
    def flux_paths(self) -> None:
        for key, kustomization in sorted(self.vanished_paths.items()):
            env = key[0]
            applied = sum(1 for m in self.base.objects.values() if self.owner(self.base, m.file) is kustomization)
            path = kustomization.path
            if key in self.head_kustomizations:
                head_k = self.head_kustomizations[key]
                self.warn(PATH_NOT_FOUND, env,
                          f"Kustomization {kustomization.namespace}/{kustomization.name}: its path {path} no longer exists,"
                          f" so Flux stops with \"kustomization path not found\" and does not prune the {applied} object(s)"
                          f" it applied ({FLUX_ISSUE_PATH_NOT_FOUND}); keep the folder (e.g. with an empty kustomization.yaml)"
                          " until Flux has pruned them, or remove the Kustomization too",
                          head_k.manifest.file, head_k.manifest.line)
            # A Kustomization removed together with its path is the way to retire it: its parent
            # prunes it, and its finalizer deletes what its inventory lists (prune: true), which
            # needs no path; those objects are reported as pruned. (`aiops flux check` agrees.)
        for key, kustomization in sorted(self.head_kustomizations.items()):
            if key in self.vanished_paths or not self.head.covers(kustomization.folder):
                continue
            before = self.base_kustomizations.get(key)
            introduced = before is None or before.folder != kustomization.folder  # not a problem this change inherits
            if introduced and not self.head.has_files_under(kustomization.folder):
                self.warn(PATH_NOT_FOUND, key[0],
                          f"Kustomization {kustomization.namespace}/{kustomization.name}: its path {kustomization.path} does"
                          " not exist, so Flux stops with \"kustomization path not found\"",
                          kustomization.manifest.file, kustomization.manifest.line)

    # --- Terraform --------------------------------------------------------------------------------
    def terraform(self) -> None:
        base, head = self.base.resources, self.head.resources
        moved_pairs = {}
        for (file, to), source in self.head.moved.items():
            to_type, _, to_name = to.partition(".")
            from_type, _, from_name = source.partition(".")
            if (file, from_type, from_name) in base and (file, to_type, to_name) in head and (file, to_type, to_name) not in base:
                moved_pairs[(file, to_type, to_name)] = (file, from_type, from_name)
        consumed = set(moved_pairs.values())
        for key in sorted((set(base) | set(head)) - consumed):
            old_key = moved_pairs.get(key, key)
            old, new = base.get(old_key), head.get(key)
            env = environment(key[0])
            address = f"{key[1]}.{key[2]}"
            if old is None:
                self.env(env).resources.append(ResourceChange("create", env, key[0], address, line=new.line))
            elif new is None:
                blocked = deletion_blocked(old.type, old.body)
                self.env(env).resources.append(ResourceChange("destroy", env, key[0], address, blocked=blocked, line=old.line))
                self.warn(DESTROY, env, f"Terraform destroys {address}", key[0], old.line)
                if blocked:
                    self.warn(APPLY_FAILS, env, f"{address}: {blocked}", key[0], old.line)
            else:
                self.changed_resource(env, key[0], address, old, new, moved_pairs.get(key))

    def changed_resource(self, env, file, address, old, new, moved_from) -> None:
        # "//" is cdktn's metadata comment; attributes the new version lists in
        # lifecycle.ignore_changes are ones Terraform will not act on (e.g. pool sizes that the
        # autoscaler owns), so they are no change to report.
        lifecycle = new.body.get("lifecycle") if isinstance(new.body.get("lifecycle"), dict) else {}
        ignored = [a for a in lifecycle.get("ignore_changes") or [] if isinstance(a, str)]
        old_body, new_body = (_without(body, ["//", *ignored]) for body in (old.body, new.body))
        fields = tuple(field_changes(old_body, new_body))
        if not fields and not moved_from:
            return
        hits = tuple(rule_hits(new.type, old_body, new_body))
        replace = any(h.rule.effect == REPLACE for h in hits)
        blocked = deletion_blocked(old.type, old.body) if replace else None
        change = ResourceChange("replace" if replace else "update", env, file, address, fields, hits, blocked,
                                f"{moved_from[1]}.{moved_from[2]}" if moved_from else None, new.line)
        self.env(env).resources.append(change)
        if replace:
            reasons = ", ".join(_hit_text(h) for h in hits if h.rule.effect == REPLACE)
            self.warn(TF_REPLACE, env, f"Terraform replaces {address} (destroys it and creates it again): {reasons}", file, new.line)
        else:
            recreated = [h for h in hits if h.rule.effect != REPLACE]
            if recreated:
                self.warn(NODES_RECREATED, env, f"{address} is updated in place but every node is re-created: "
                          + ", ".join(_hit_text(h) for h in recreated), file, new.line)
            for hit in recreated:
                if hit.missing_requirement:
                    self.warn(APPLY_FAILS, env, f"{address}: changing {hit.attribute} needs {hit.rule.requires} to be set;"
                              " without it terraform apply fails", file, new.line)
        if blocked:
            self.warn(APPLY_FAILS, env, f"{address}: {blocked}", file, new.line)

    def settings(self) -> None:
        base, head = self.base.settings, self.head.settings
        for key in sorted(set(base) | set(head)):
            old, new = base.get(key), head.get(key)
            if old == new:
                continue
            env = environment(key[0])
            action = "added" if old is None else "removed" if new is None else "changed"
            fields = tuple(field_changes(old, new)) if action == "changed" else ()
            self.env(env).settings.append(SettingChange(action, env, key[0], key[1], fields))
            if key[1] == "terraform" and any(f.path.startswith("backend") for f in fields):
                self.warn(STATE_BACKEND, env, "the Terraform state backend changes: run `terraform init -migrate-state`,"
                          " or Terraform starts from an empty state and plans to create every resource again", key[0])

    # --- Node pools and cost ------------------------------------------------------------------------
    def pools(self) -> None:
        base, head = self.base.pools, self.head.pools
        for key in sorted(set(base) | set(head)):
            old, new = base.get(key), head.get(key)
            if old is not None and new is not None and _same_pool(old, new):
                continue
            env = key[0]
            change = PoolChange(env, key[1], old, new)
            self.env(env).pools.append(change)
            before, after = change.gpus("before", "max"), change.gpus("after", "max")
            model = (new or old).gpu_model
            if before != after or (old and new and old.gpu_model != new.gpu_model):
                models = f"{old.gpu_model} -> {new.gpu_model}" if old and new and old.gpu_model != new.gpu_model else model
                self.warn(CAPACITY, env, f"node pool {key[1]}: GPUs at max {before} -> {after}"
                          + (f" ({models})" if models else ""), (new or old).file, self._pool_line(new or old))

    def _pool_line(self, cost: PoolCost) -> int | None:
        resource_type, _, name = cost.resource.partition(".")
        snapshot = self.head if cost in self.head.pools.values() else self.base
        resource = snapshot.resources.get((cost.file, resource_type, name))
        return resource.line if resource else None

    def other_files(self) -> None:
        """Files that hold neither objects nor Terraform (kustomization.yaml, ...), changed as bytes."""
        known = {m.file for m in self.base.objects.values()} | {m.file for m in self.head.objects.values()}
        known |= {r.file for r in self.base.resources.values()} | {r.file for r in self.head.resources.values()}
        for path in sorted(set(self.base.files) | set(self.head.files)):
            if path in known:
                continue
            old, new = self.base.files.get(path), self.head.files.get(path)
            if old == new:
                continue
            action = "added" if old is None else "removed" if new is None else "changed"
            self.env(environment(path)).other_files.append((action, path))


def _same_pool(a: PoolCost, b: PoolCost) -> bool:
    return (a.instance_type, a.accelerator, a.gpus_per_node, a.gpu_model, a.nodes, a.hourly_usd) == (
        b.instance_type, b.accelerator, b.gpus_per_node, b.gpu_model, b.nodes, b.hourly_usd)


def _without(body: dict, attributes: list[str]) -> dict:
    """A copy of a resource body without these attributes (Terraform paths: `a`, `a[0].b`).

    cdktn writes a single nested block as an object where Terraform's path indexes a list, so
    `[0]` on an object is the object itself."""
    body = copy.deepcopy(body)
    for attribute in attributes:
        *steps, last = [int(step) if step.isdigit() else step for step in re.findall(r"[^.\[\]]+", attribute)]
        node: Any = body
        for step in steps:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else (node if isinstance(node, dict) and step == 0 else None)
            else:
                node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(last, str):
            node.pop(last, None)
    return body


def _hit_text(hit: RuleHit) -> str:
    return f"{hit.attribute} {show(hit.old, 60)} -> {show(hit.new, 60)}"


def compare(base: Snapshot, head: Snapshot, *, as_of: date | None = None, max_price_age: int | None = None) -> DiffReport:
    """The report; with `as_of`, each environment also lists the missing and old prices of its
    pools after the change (aiops.cost.prices; the CLI passes today)."""
    comparison = _Comparison(base, head)
    comparison.objects()
    comparison.flux_paths()
    comparison.terraform()
    comparison.settings()
    comparison.other_files()
    comparison.pools()
    for name in base.environments | head.environments:
        comparison.env(name)
    for name, diff in comparison.environments.items():
        # Reading order: objects by file and line; alerts by ALERT_ORDER, then by file and line.
        diff.objects.sort(key=lambda o: (o.file, o.line, o.kind, o.namespace, o.name))
        diff.alerts.sort(key=lambda a: (ALERT_ORDER.index(a.kind), a.file or "", a.line or 0, a.message))
        before = [c for c in base.pools.values() if c.environment == name]
        after = [c for c in head.pools.values() if c.environment == name]
        diff.cost_before, diff.cost_after = totals(before), totals(after)
        diff.prices = price_sources([*before, *after])
        if as_of is not None:
            from aiops.cost.prices import DEFAULT_MAX_AGE_DAYS, price_warnings

            diff.price_warnings = price_warnings(after, as_of=as_of, max_age_days=max_price_age or DEFAULT_MAX_AGE_DAYS)
    problems = [("base", p) for p in base.problems] + [("head", p) for p in head.problems]
    for side, snapshot in (("base", base), ("head", head)):
        for first, second in snapshot.duplicates:
            problems.append((side, Problem(second.file, second.line, "duplicate",
                                           f"{second.describe()} is also defined at {first.file}:{first.line}; the later one is compared")))
    return DiffReport(
        base=base.label,
        head=head.label,
        root=head.root,
        environments=sorted(comparison.environments.values(), key=lambda e: e.name),
        hours_per_month=load_catalog().hours_per_month,
        problems=problems,
    )
