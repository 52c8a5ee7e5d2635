"""What Flux's garbage collection does between two revisions, from their inventories.

kustomize-controller keeps an inventory of what each Kustomization applied. When a new
revision builds without an object and the Kustomization has `prune: true`, it deletes the
object (unless the object carries `kustomize.toolkit.fluxcd.io/prune: disabled`). When a
Kustomization itself disappears, the Kustomization that applied it deletes it if it prunes,
and its finalizer then deletes everything it applied when its deletionPolicy says so
(MirrorPrune, the default, follows its own prune). When a Kustomization fails at the new
revision (a path that disappeared, a build error), Flux stops there: nothing is pruned.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiops.flux.report import Cluster, Finding, FluxReport, InventoryObject, KustomizationState

# What deleting one of these takes with it.
_CASCADES = {
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "deleting a CRD deletes every object of its kind in the cluster",
    ("", "Namespace"): "deleting a Namespace deletes everything in it",
    ("", "PersistentVolumeClaim"): "its volume may be deleted with it (reclaim policy Delete)",
}


@dataclass(frozen=True)
class PruneChange:
    cluster: str
    kustomization: str  # namespace/name of the Kustomization whose inventory changes
    action: str  # delete | move | orphan | stop
    object: InventoryObject | None  # None for `stop`
    message: str

    def render(self) -> str:
        target = f"{self.object.describe()} ({self.object.location})" if self.object else ""
        return f"{self.action:6} {self.cluster} {self.kustomization} {target}".rstrip() + f": {self.message}"

    def as_dict(self) -> dict:
        obj = self.object
        return {
            "cluster": self.cluster, "kustomization": self.kustomization, "action": self.action, "message": self.message,
            "object": None if obj is None else {"apiVersion": obj.api_version, "kind": obj.kind, "namespace": obj.namespace,
                                                "name": obj.name, "file": obj.file, "line": obj.line},
        }


def prune_changes(base: FluxReport, head: FluxReport) -> list[PruneChange]:
    """What reconciling `head` on a cluster that runs `base` deletes, orphans or fails to prune."""
    changes: list[PruneChange] = []
    head_clusters = {cluster.name: cluster for cluster in head.clusters}
    for before in base.clusters:
        after = head_clusters.get(before.name)
        if after is None:
            changes.append(PruneChange(before.name, before.entry.describe(), "stop", None,
                                       f"the bootstrap Kustomization {before.entry.describe()} ({before.entry.manifest.file}) and its "
                                       f"path {before.entry.path} are gone: the cluster reports \"kustomization path not found\" and "
                                       "prunes nothing; uninstall Flux there (`flux uninstall`) or keep the folder"))
            continue
        elsewhere = _owners(after)
        for key, old in sorted(before.kustomizations.items()):
            if old.status != "built":
                continue  # what it applied at the base revision is unknown
            new = after.kustomizations.get(key)
            name = old.kustomization.describe()
            if new is None:
                changes.extend(_removed(before, after, old, elsewhere))
            elif new.status == "failed":
                changes.append(PruneChange(after.name, name, "stop", None,
                                           f"Flux stops on {name} at {head.label} ({_first_words(new.reason)}): "
                                           f"none of its {len(old.objects)} objects is updated or pruned until it builds again"))
            elif new.status == "built":
                present = {o.key for o in new.objects}
                for obj in old.objects:
                    if obj.key not in present:
                        changes.append(_gone(after.name, name, new.kustomization.prune, obj, elsewhere, name))
    return changes


def _owners(cluster: Cluster) -> dict[tuple[str, str, str, str], str]:
    return {o.key: s.kustomization.describe() for s in cluster.kustomizations.values() if s.status == "built" for o in s.objects}


def _gone(cluster: str, kustomization: str, prune: bool, obj: InventoryObject, elsewhere: dict, owner: str) -> PruneChange:
    moved_to = elsewhere.get(obj.key)
    if moved_to and moved_to != owner:
        if prune and not obj.prune_disabled:
            return PruneChange(cluster, kustomization, "move", obj,
                               f"moves to {moved_to}: if {kustomization} prunes before {moved_to} applies it, Flux deletes and "
                               "re-creates it; annotate it kustomize.toolkit.fluxcd.io/prune: disabled for the move")
        return PruneChange(cluster, kustomization, "move", obj, f"moves to {moved_to}")
    if not prune:
        return PruneChange(cluster, kustomization, "orphan", obj, f"{kustomization} has prune: false: left in the cluster, no longer managed")
    if obj.prune_disabled:
        return PruneChange(cluster, kustomization, "orphan", obj, "annotated kustomize.toolkit.fluxcd.io/prune: disabled: left in the cluster")
    cascade = _CASCADES.get((obj.group, obj.kind))
    return PruneChange(cluster, kustomization, "delete", obj, f"pruned by {kustomization}" + (f"; {cascade}" if cascade else ""))


def _removed(before: Cluster, after: Cluster, old: KustomizationState, elsewhere: dict) -> list[PruneChange]:
    """A Kustomization that the new revision no longer defines."""
    k = old.kustomization
    name = k.describe()
    parent = next((s for s in after.kustomizations.values() if s.kustomization.describe() == old.applied_by), None)
    if old.applied_by is None:
        return [PruneChange(after.name, name, "stop", None,
                            f"the entry Kustomization {name} is gone from git, but the cluster still has it (bootstrap created it): "
                            "it keeps reconciling its path and fails once the path is gone; nothing is pruned")]
    if parent is None or parent.status == "failed":
        return [PruneChange(after.name, name, "stop", None,
                            f"{name} is gone, but {old.applied_by}, which applied it, does not reconcile at the new revision: "
                            f"{name} stays in the cluster as it is")]
    if parent.status != "built":
        return []
    if not parent.kustomization.prune:
        return [PruneChange(after.name, name, "orphan", None,
                            f"{name} is gone from git, but {parent.kustomization.describe()} has prune: false: the Kustomization "
                            "stays in the cluster and keeps reconciling its path at every new revision")]
    changes = []
    removal = (f"{parent.kustomization.describe()} prunes the removed Kustomization {name}, whose finalizer deletes what it "
               f"applied (prune: {str(k.prune).lower()}, deletionPolicy {k.deletion_policy})")
    for obj in old.objects:
        if k.deletes_on_removal:
            change = _gone(after.name, name, True, obj, elsewhere, name)
            if change.action == "delete":
                change = PruneChange(change.cluster, name, "delete", obj, removal + change.message.removeprefix(f"pruned by {name}"))
            changes.append(change)
        else:
            changes.append(PruneChange(after.name, name, "orphan", obj,
                                       f"{name} is deleted with deletionPolicy {k.deletion_policy} and prune: {str(k.prune).lower()}: "
                                       "left in the cluster, no longer managed"))
    return changes


def _first_words(reason: str) -> str:
    """The head of a controller error: "kustomization path not found", "kustomize build failed", ..."""
    return (reason.splitlines()[0] if reason else "failed").split(":")[0]


def removed_bootstrap_paths(base: FluxReport, head: FluxReport) -> list[Finding]:
    """The clusters whose bootstrap path the new revision deletes.

    The bootstrap Kustomization lives in the cluster (`flux bootstrap` created it), not only in
    git: when its spec.path disappears, kustomize-controller stops with "kustomization path not
    found" on it, so it applies nothing of the new revision, not even its own new definition."""
    found = []
    for cluster in base.clusters:
        entry = cluster.entry
        folder = str(entry.folder)
        if not cluster.bootstrapped or folder == "." or folder in head.folders:
            continue
        where = "as `flux bootstrap` wrote it" if cluster.implied else f"defined in {entry.manifest.file} at {base.label}"
        found.append(Finding(
            "error", "flux/bootstrap-path-removed", cluster.name, entry.describe(), entry.manifest.file, None,
            f"{head.label} removes {folder}/, the path of cluster {cluster.name}'s bootstrap Kustomization {entry.describe()} "
            f"({where}); that Kustomization stays in the cluster and reconciles {entry.path} from this repository: "
            "kustomize-controller stops with \"kustomization path not found\" and applies nothing from this repository "
            "again (nor prunes) until the folder is back",
            f"keep {folder}/ (with its flux-system/ folder); to retire the cluster, run `flux uninstall` on it first, then "
            f"delete the folder; to move it, bootstrap again with --path pointing at the new folder before deleting this one",
        ))
    return found
