"""Flux Kustomizations read statically from the tree (`aiops.tree.flux`): dependsOn, cycles,
paths, and custom resources that could reach the cluster before their CRD.

A cluster's Kustomizations are those of one environment (the folder above cluster/, apps/, ...).
Paths are checked only for Kustomizations whose source is this repository: the GitRepository
flux-system/flux-system that `flux bootstrap` creates, or one fetching the same URL and ref.
Other sources (another Git repository, OCI, Bucket, ExternalArtifact)
cannot be looked into offline, so their paths are not judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from aiops.flux.apis import needs_crd
from aiops.tree.flux import FluxKustomization, flux_kustomizations, owner_of
from aiops.tree.manifests import Manifest
from aiops.tree.shapes import mapping
from aiops.validate.context import Context, finding
from aiops.validate.findings import FLUX_CRD_ORDER, FLUX_CYCLE, FLUX_DEPENDS_ON, FLUX_PATH, FLUX_SOURCE, Finding

Key = tuple[str, str]  # (namespace, name)


def _by_environment(ctx: Context) -> dict[str | None, list[FluxKustomization]]:
    grouped: dict[str | None, list[FluxKustomization]] = defaultdict(list)
    for kustomization in flux_kustomizations(ctx.manifests):
        grouped[kustomization.manifest.environment].append(kustomization)
    return grouped


def depends_on(ctx: Context) -> Iterator[Finding]:
    for kustomizations in _by_environment(ctx).values():
        known = {(k.namespace, k.name) for k in kustomizations}
        for k in kustomizations:
            for index, dependency in enumerate(k.depends_on):
                if dependency not in known:
                    names = ", ".join(sorted(f"{ns}/{n}" for ns, n in known)) or "none"
                    yield finding(
                        FLUX_DEPENDS_ON, k.manifest, ("spec", "dependsOn", index),
                        f"Kustomization {k.namespace}/{k.name} depends on {dependency[0]}/{dependency[1]}, which is not a "
                        f"Kustomization of {k.manifest.environment or 'this tree'} (there are: {names}); Flux waits for it forever",
                    )


def _cycles(graph: dict[Key, list[Key]]) -> list[list[Key]]:
    """Strongly connected components with a cycle (Tarjan), each as a path through the cycle."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    stack: list[Key] = []
    on_stack: set[Key] = set()
    found: list[list[Key]] = []

    def visit(node: Key) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, []):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, []):
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for component in found:
        members, start = set(component), min(component)
        path, current = [start], start
        while True:  # walk the cycle from its smallest member, staying inside the component
            current = min(s for s in graph[current] if s in members)
            if current == start or current in path:
                path.append(current)
                break
            path.append(current)
        cycles.append(path)
    return cycles


def dependency_cycles(ctx: Context) -> Iterator[Finding]:
    for kustomizations in _by_environment(ctx).values():
        by_key = {(k.namespace, k.name): k for k in kustomizations}
        graph = {key: [d for d in k.depends_on if d in by_key] for key, k in by_key.items()}
        for cycle in _cycles(graph):
            first = by_key[cycle[0]]
            yield finding(
                FLUX_CYCLE, first.manifest, ("spec", "dependsOn"),
                "Kustomizations depend on each other in a cycle: " + " -> ".join(f"{ns}/{n}" for ns, n in cycle)
                + "; none of them ever becomes ready",
            )


def _this_repository(ctx: Context) -> set[Key]:
    """The GitRepositories that fetch this repository: flux-system/flux-system, which `flux bootstrap`
    creates for it, and any that fetches the same URL and ref (as `aiops flux check` decides). Another
    branch of the same URL, like a tenant's, is another source."""
    sources: set[Key] = {("flux-system", "flux-system")}
    repositories = {(m.namespace or "flux-system", m.name): mapping(m.body.get("spec")) for m in ctx.manifests
                    if m.group == "source.toolkit.fluxcd.io" and m.kind == "GitRepository"}
    bootstrap = repositories.get(("flux-system", "flux-system"))
    if bootstrap is not None:
        for key, spec in repositories.items():
            if spec.get("url") == bootstrap.get("url") and mapping(spec.get("ref")) == mapping(bootstrap.get("ref")):
                sources.add(key)
    return sources


def paths(ctx: Context) -> Iterator[Finding]:
    if ctx.repo_root is None:
        return
    for kustomizations in _by_environment(ctx).values():
        ours = _this_repository(ctx)
        for k in kustomizations:
            source = mapping(mapping(k.manifest.body.get("spec")).get("sourceRef"))
            if k.source_kind != "GitRepository" or (str(source.get("namespace") or k.namespace), k.source_name) not in ours:
                continue
            folder = ctx.repo_root / k.folder
            if not folder.is_dir():
                yield finding(
                    FLUX_PATH, k.manifest, ("spec", "path"),
                    f"Kustomization {k.namespace}/{k.name} applies {k.path}, which does not exist in this repository "
                    f"({folder}); Flux stops with 'path not found' and prunes nothing",
                )


def _installers(ctx: Context, kustomizations: list[FluxKustomization], manifests: list[Manifest]) -> dict[str, list[tuple[Manifest, FluxKustomization, str]]]:
    """API group -> (installing object, its Kustomization, 'crd' | 'helm') for CRDs the tree installs."""
    found: dict[str, list[tuple[Manifest, FluxKustomization, str]]] = defaultdict(list)
    for manifest in manifests:
        path = ctx.repository_path(manifest.file)
        owner = owner_of(path, kustomizations) if path else None
        if owner is None:
            continue
        spec = mapping(manifest.body.get("spec"))
        if manifest.group == "apiextensions.k8s.io" and manifest.kind == "CustomResourceDefinition" and spec.get("group"):
            found[str(spec["group"])].append((manifest, owner, "crd"))
        elif manifest.group == "helm.toolkit.fluxcd.io" and manifest.kind == "HelmRelease":
            chart = str(mapping(mapping(spec.get("chart")).get("spec")).get("chart") or "")
            reference = mapping(spec.get("chartRef"))
            if not chart and reference.get("kind") == "OCIRepository":
                repository = next((m for m in manifests if m.kind == "OCIRepository" and m.name == str(reference.get("name"))), None)
                chart = str(mapping(repository.body.get("spec")).get("url") or "").rstrip("/").rsplit("/", 1)[-1] if repository else ""
            for group in ctx.chart_groups.get(chart, []):
                found[group].append((manifest, owner, "helm"))
    return found


def _needs(kustomization: FluxKustomization, by_key: dict[Key, FluxKustomization]) -> set[Key]:
    seen: set[Key] = set()
    pending = list(kustomization.depends_on)
    while pending:
        key = pending.pop()
        if key not in seen and key in by_key:
            seen.add(key)
            pending.extend(by_key[key].depends_on)
    return seen


def crd_order(ctx: Context) -> Iterator[Finding]:
    grouped: dict[str | None, list[Manifest]] = defaultdict(list)
    for manifest in ctx.manifests:
        grouped[manifest.environment].append(manifest)
    kustomizations_by_env = _by_environment(ctx)
    for environment, manifests in grouped.items():
        kustomizations = kustomizations_by_env.get(environment, [])
        if not kustomizations:
            continue
        installers = _installers(ctx, kustomizations, manifests)
        by_key = {(k.namespace, k.name): k for k in kustomizations}
        for manifest in manifests:
            if manifest.group not in installers or manifest.kind == "CustomResourceDefinition" or not needs_crd(manifest.group):
                continue  # Kubernetes' own APIs and Flux's (`flux bootstrap` installs those CRDs first) need no installer
            path = ctx.repository_path(manifest.file)
            owner = owner_of(path, kustomizations) if path else None
            if owner is None:
                continue
            needs = _needs(owner, by_key)
            candidates = [(i, o, how) for i, o, how in installers[manifest.group]
                          if how == "helm" or str(mapping(mapping(i.body.get("spec")).get("names")).get("kind") or manifest.kind) == manifest.kind]
            if not candidates or any(_ordered(owner, needs, installer_owner, how, ctx) for _, installer_owner, how in candidates):
                continue
            # One finding per object, about the installer it most plausibly needs.
            installer, installer_owner, how = candidates[0]
            what = f"{installer.describe()} (applied by Kustomization {installer_owner.name})"
            if _same(installer_owner, owner):
                yield finding(
                    FLUX_CRD_ORDER, manifest, ("apiVersion",),
                    f"applied by Kustomization {owner.name}, the same one that applies {what}, "
                    f"which installs the {manifest.group} CRDs: the dry-run of {manifest.kind} fails before helm-controller "
                    "has installed the chart",
                    f"move {manifest.kind} {manifest.name} to a Kustomization that has dependsOn: [{{name: {owner.name}}}] "
                    f"and make {owner.name} wait: true",
                )
            else:
                yield finding(
                    FLUX_CRD_ORDER, manifest, ("apiVersion",),
                    f"applied by Kustomization {owner.name}, which does not depend on "
                    f"{installer_owner.name}, where {what} installs the {manifest.group} CRDs: it may be applied before "
                    "the CRD exists and fail",
                    f"add dependsOn: [{{name: {installer_owner.name}}}] to Kustomization {owner.name} "
                    f"(and wait: true on {installer_owner.name})",
                )


def _same(a: FluxKustomization, b: FluxKustomization) -> bool:
    """The same Kustomization: one object, or one name (each cluster of a repository has its own
    flux-system/flux-system, and a tree read statically cannot always tell the clusters apart)."""
    return a is b or (a.namespace, a.name) == (b.namespace, b.name)


def _ordered(owner: FluxKustomization, needs: set[Key], installer_owner: FluxKustomization, how: str, ctx: Context) -> bool:
    """Whether the installer's CRDs exist before owner applies its objects."""
    if _same(installer_owner, owner):
        return how == "crd"  # kustomize-controller applies CRDs before the rest of a Kustomization
    if (installer_owner.namespace, installer_owner.name) in needs:
        return True
    # A Kustomization defined under the path of the one applying CRD manifests is created in the
    # same apply, after the CRDs (which the controller applies first and waits for).
    own = ctx.repository_path(owner.manifest.file)
    return how == "crd" and own is not None and installer_owner.applies(own)


def helm_sources(ctx: Context) -> Iterator[Finding]:
    """A HelmRelease's chart source must exist, when the tree holds sources of that kind at all (a
    folder of releases alone keeps its sources elsewhere). Namespaces are not compared: kustomize and
    targetNamespace often set them at build time (`aiops flux check` compares them after the build)."""
    defined = {(m.kind, m.name) for m in ctx.manifests if m.group.startswith("source.") and m.group.endswith(".fluxcd.io")}
    kinds = {kind for kind, _ in defined}
    for manifest in ctx.manifests:
        if manifest.group != "helm.toolkit.fluxcd.io" or manifest.kind != "HelmRelease":
            continue
        spec = mapping(manifest.body.get("spec"))
        if spec.get("chartRef"):
            reference, path = mapping(spec.get("chartRef")), ("spec", "chartRef", "name")
        else:
            reference, path = mapping(mapping(mapping(spec.get("chart")).get("spec")).get("sourceRef")), ("spec", "chart", "spec", "sourceRef", "name")
        kind, name = str(reference.get("kind") or ""), str(reference.get("name") or "")
        if not kind or not name or (kind, name) in defined or kind not in kinds:
            continue  # a tree without any source of that kind keeps its sources elsewhere: not judged
        yield finding(
            FLUX_SOURCE, manifest, path,
            f"takes its chart from {kind} {name}, which no file of the validated tree defines: helm-controller cannot "
            "fetch the chart and the release never installs",
            f"correct {'.'.join(path[:-1])} (kind {kind}, name {name}), or add the {kind} (and validate its folder too)",
        )


CHECKS = (depends_on, dependency_cycles, paths, crd_order, helm_sources)
