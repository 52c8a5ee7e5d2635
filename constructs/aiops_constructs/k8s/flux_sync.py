"""Flux objects that make a cluster reconcile its environment's folders from git."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdk8s import ApiObject, JsonPatch
from constructs import Construct

from aiops.model.environment import GitSource

SOURCE_API_VERSION = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API_VERSION = "kustomize.toolkit.fluxcd.io/v1"
FLUX_NAMESPACE = "flux-system"
SOURCE_NAME = "flux-system"  # the name `flux bootstrap` gives the repository it syncs from


@dataclass(frozen=True)
class SyncedFolder:
    """A Flux Kustomization: one folder of dist/ applied to the cluster."""

    name: str
    path: str
    depends_on: tuple[str, ...] = ()
    interval: str = "1h"
    retry_interval: str = "1m"
    timeout: str = "5m"
    wait: bool = True
    prune: bool = True
    extra: dict = field(default_factory=dict)


class GitSync(Construct):
    """The GitRepository and the Kustomization that sync the cluster folder (what bootstrap writes)."""

    def __init__(self, scope: Construct, id: str, *, git: GitSource, cluster_path: str) -> None:
        super().__init__(scope, id)
        repository = ApiObject(
            self,
            "repository",
            api_version=SOURCE_API_VERSION,
            kind="GitRepository",
            metadata={"name": SOURCE_NAME, "namespace": FLUX_NAMESPACE},
        )
        spec: dict = {"interval": "1m", "url": git.url, "ref": {"branch": git.branch}}
        if git.secret_ref is not None:  # what `flux bootstrap` adds for a private repository
            spec["secretRef"] = {"name": git.secret_ref}
        repository.add_json_patch(JsonPatch.add("/spec", spec))
        FluxKustomizations(
            self,
            "sync",
            folders=[SyncedFolder(name=SOURCE_NAME, path=cluster_path, interval="10m", wait=False)],
        )


class FluxKustomizations(Construct):
    """Flux `Kustomization`s for folders of dist/, chained with `dependsOn`.

    `defined_elsewhere` names Kustomizations of other files (of the same cluster folder) that
    these may depend on.
    """

    def __init__(self, scope: Construct, id: str, *, folders: list[SyncedFolder], defined_elsewhere: tuple[str, ...] = ()) -> None:
        super().__init__(scope, id)
        names = [folder.name for folder in folders] + list(defined_elsewhere)
        for folder in folders:
            unknown = [d for d in folder.depends_on if d not in names and d != SOURCE_NAME]
            if unknown:
                raise ValueError(f"Kustomization '{folder.name}' depends on unknown Kustomization(s): {', '.join(unknown)}")
            obj = ApiObject(
                self,
                folder.name,
                api_version=KUSTOMIZE_API_VERSION,
                kind="Kustomization",
                metadata={"name": folder.name, "namespace": FLUX_NAMESPACE},
            )
            spec: dict = {"interval": folder.interval, "retryInterval": folder.retry_interval, "timeout": folder.timeout}
            if folder.depends_on:
                spec["dependsOn"] = [{"name": d} for d in folder.depends_on]
            spec |= {
                "sourceRef": {"kind": "GitRepository", "name": SOURCE_NAME},
                "path": folder.path,
                "prune": folder.prune,
                "wait": folder.wait,
                **folder.extra,
            }
            obj.add_json_patch(JsonPatch.add("/spec", spec))
