"""The per-cluster checks on what the builds produced: the order Flux applies things in.

dependsOn names that do not exist, cycles and dependencies on one's own children; custom
resources that can reach the API server before their CRD; objects in namespaces that nothing
creates first; SOPS secrets without decryption; objects applied twice to one cluster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from aiops.flux import apis
from aiops.flux.report import Cluster, InventoryObject, KustomizationState, Recorder
from aiops.tree.flux import HELM_GROUP, FluxKustomization, dependency_order, depends_on_transitively


def check_order(rec: Recorder, cluster: Cluster) -> None:
    members = [s.kustomization for s in cluster.kustomizations.values()]
    _, problems = dependency_order(members)
    # The order of application: dependsOn, and a Kustomization only exists once the one that
    # applies it has run. Members of a cycle, and what waits for them, are in no wave.
    parent_of = {s.kustomization.key: s.applied_by for s in cluster.kustomizations.values()}
    keys = {k.describe(): k.key for k in members}
    ordered = [replace(k, depends_on=k.depends_on + ((keys[parent_of[k.key]],) if parent_of[k.key] in keys else ()))
               for k in members]
    waves, _ = dependency_order(ordered)
    cluster.waves = [[k.key for k in wave] for wave in waves]
    names = ", ".join(sorted(k.describe() for k in members))
    by_key = {k.key: k for k in members}
    for k in members:
        for dependency in k.depends_on:
            ancestor = parent_of.get(dependency)
            while ancestor is not None and keys.get(ancestor) != k.key:
                ancestor = parent_of.get(keys.get(ancestor))
            if ancestor is not None:
                child = by_key[dependency]
                rec.add("error", "flux/depends-on-own-child", cluster.name, k, k.manifest.file, rec.key_line(k.manifest, "dependsOn"),
                          f"Kustomization {k.describe()} depends on {child.describe()}, which exists only once {k.name} has "
                          f"applied it ({child.manifest.file}:{child.manifest.line}): {k.name} waits for it forever "
                          f"(\"dependency '{child.describe()}' not found\") and applies nothing",
                          f"remove {child.name} from spec.dependsOn of {k.name}; let {child.name} depend on what it needs instead")
    for problem in problems:
        k = problem.kustomization
        line = rec.key_line(k.manifest, "dependsOn")
        if problem.kind == "unknown":
            (namespace, name), = problem.names
            rec.add("error", "flux/dependency-unknown", cluster.name, k, k.manifest.file, line,
                      f"Kustomization {k.describe()} depends on {namespace}/{name}, which no Kustomization of cluster "
                      f"{cluster.name} defines: Flux keeps it waiting (\"dependency '{namespace}/{name}' not found\") and never applies it",
                      f"correct spec.dependsOn (Kustomizations in this cluster: {names}), or add Kustomization {name}")
        else:
            chain = " -> ".join(f"{by_key[key].describe()} ({by_key[key].manifest.file}:{rec.key_line(by_key[key].manifest, 'dependsOn')})"
                                for key in (*problem.names, problem.names[0]))
            rec.add("error", "flux/dependency-cycle", cluster.name, k, k.manifest.file, line,
                      f"Kustomizations of cluster {cluster.name} depend on each other in a cycle: {chain}; each waits for "
                      "the next to be Ready, so Flux applies none of them (nor anything that depends on them)",
                      "remove one dependsOn entry of the cycle: dependencies point from workloads to configs to "
                      "controllers, never back")

def kube_config_target(body: dict, namespace: str) -> str:
    """The cluster an object's spec.kubeConfig points at ("" for the cluster the controller runs in):
    the Secret (or ConfigMap) holding the kubeconfig, in the object's namespace."""
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    config = spec.get("kubeConfig") if isinstance(spec.get("kubeConfig"), dict) else None
    if not config:
        return ""
    for field, what in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
        reference = config.get(field)
        if isinstance(reference, dict) and reference.get("name"):
            return f"kubeConfig {what} {namespace}/{reference['name']}"
    return "kubeConfig"


def target_of(state: KustomizationState) -> str:
    return kube_config_target(state.kustomization.manifest.body, state.kustomization.namespace)


def check_prerequisites(rec: Recorder, cluster: Cluster) -> None:
    """Custom resources after their CRDs, objects after their namespaces, per target cluster
    (spec.kubeConfig): what one Kustomization installs on a remote cluster exists only there."""
    built = [s for s in cluster.kustomizations.values() if s.status == "built"]
    unbuilt = sorted((s for s in cluster.kustomizations.values() if s.status != "built"), key=lambda s: s.kustomization.key)
    by_key = {s.kustomization.key: s.kustomization for s in cluster.kustomizations.values()}
    everything = [o.body for s in built for o in s.objects]
    crd_installers: dict[tuple[str, str], list[_Installer]] = defaultdict(list)
    unknown_charts: dict[str, list[tuple[FluxKustomization, InventoryObject, str]]] = defaultdict(list)
    namespace_creators: dict[tuple[str, str], list[FluxKustomization]] = defaultdict(list)
    for state in built:
        k, target = state.kustomization, target_of(state)
        for o in state.objects:
            if o.group == "apiextensions.k8s.io" and o.kind == "CustomResourceDefinition":
                spec = o.body.get("spec") or {}
                crd_kind = (spec.get("names") or {}).get("kind")
                crd_installers[(target, str(spec.get("group", "")))].append(_Installer(k, "manifest", o, crd_kind, ""))
            elif o.group == HELM_GROUP and o.kind == "HelmRelease":
                release_target = kube_config_target(o.body, o.namespace) or target
                chart = apis.chart_name(o.body, everything)
                entry = apis.chart_crds().get(chart or "")
                if entry and entry.installed_by(o.body):
                    for group in entry.groups:
                        crd_installers[(release_target, group)].append(_Installer(k, "helm", o, None, entry.chart))
                elif entry is None:
                    unknown_charts[release_target].append((k, o, chart or "?"))
                spec = o.body.get("spec") or {}
                if isinstance(spec.get("install"), dict) and spec["install"].get("createNamespace"):
                    namespace_creators[(release_target, str(spec.get("targetNamespace") or o.namespace))].append(k)
            elif o.group == "" and o.kind == "Namespace":
                namespace_creators[(target, o.name)].append(k)

    crd_problems: dict[tuple, list[InventoryObject]] = defaultdict(list)
    namespace_problems: dict[tuple, list[InventoryObject]] = defaultdict(list)
    for state in built:
        k, target = state.kustomization, target_of(state)
        for o in state.objects:
            if apis.needs_crd(o.group) and o.kind != "CustomResourceDefinition":
                installers = [i for i in crd_installers.get((target, o.group), []) if i.kind is None or i.kind == o.kind]
                # Applied by a Kustomization that applies the CRD manifests: created after them, in the same apply.
                if any(i.how == "manifest" and i.kustomization.key in _ancestors(k, cluster) for i in installers):
                    continue
                verdict = _crd_verdict(k, installers, by_key)
                if verdict is not None:
                    crd_problems[(k.key, o.group, *verdict)].append(o)
            if o.namespace and o.namespace not in apis.PRESENT_NAMESPACES and not (o.group == "" and o.kind == "Namespace"):
                creators = namespace_creators.get((target, o.namespace), [])
                if k in creators or any(depends_on_transitively(k, c.key, by_key) for c in creators):
                    continue
                namespace_problems[(k.key, o.namespace, tuple(sorted(c.key for c in creators)))].append(o)

    def unknowns(k: FluxKustomization) -> str:
        """What k waits for that was not built, or that installs a chart whose CRDs are not known
        offline: what could install its CRDs (or create its namespaces) before it."""
        awaited = _awaited_by(k, cluster)
        target = target_of(cluster.kustomizations[k.key])
        parts = [f"{s.kustomization.describe()} ({'fails' if s.status == 'failed' else 'not built here'})"
                 for s in unbuilt if s.kustomization.key in awaited]
        parts += [f"HelmRelease {o.namespace}/{o.name} of chart {chart} (in {owner.describe()})"
                  for owner, o, chart in sorted(unknown_charts.get(target, []), key=lambda item: (item[1].namespace, item[1].name))
                  if owner.key in awaited or owner.key == k.key]
        return "; ".join(parts)

    for (key, group, reason, installers), objects in sorted(crd_problems.items(), key=lambda item: item[0][:3]):
        k = by_key[key]
        first = objects[0]
        listed = _listing(objects)
        if reason == "none" and unknowns(k):
            rec.add("unchecked", "flux/crd-source-unknown", cluster.name, k, first.file, first.line,
                    f"Kustomization {k.describe()} applies {listed} ({group}); nothing built here installs the {group} "
                    f"CRDs, but what could is not known offline: {unknowns(k)}; whether the CRDs exist before "
                    f"{k.name} is applied cannot be decided here",
                    "nothing to do if one of those installs them and Kustomization " + k.name + " depends on it (with wait: "
                    "true); a chart's CRDs are known offline once the chart cache has the chart (tools/charts.lock)")
            continue
        if reason == "none":
            rec.add("warning", "flux/crd-not-installed", cluster.name, k, first.file, first.line,
                      f"Kustomization {k.describe()} applies {listed} ({group}), but no Kustomization of cluster "
                      f"{cluster.name} installs the {group} CRDs (no CustomResourceDefinition, no HelmRelease of a chart "
                      "known to install them): on a cluster without them, the dry-run fails with 'no matches for kind' "
                      "(whether the cluster already has them cannot be seen offline)",
                      (f"the {group} CRDs come with Flux's extra components: bootstrap with "
                       f"`flux bootstrap --components-extra={apis.FLUX_EXTRA_GROUPS[group]}`" if group in apis.FLUX_EXTRA_GROUPS else
                       f"install the CRDs in a Kustomization that {k.name} depends on (the chart's HelmRelease, with wait: true); "
                       "if a chart that is not in tools/charts.lock installs them, pin it there and run `make setup`"))
            continue
        named = "; ".join(f"{i.kustomization.describe()} ({i.via}, {i.kustomization.manifest.file}:{i.kustomization.manifest.line})"
                          for i in installers)
        best = installers[0]
        if reason == "same":
            message = (f"Kustomization {k.describe()} applies {listed} ({group}) together with {best.via}, which installs "
                       f"the {group} CRDs: kustomize-controller applies both in one go, before helm-controller has "
                       f"installed the chart, and the dry-run fails with 'no matches for kind \"{first.kind}\"'")
            fix = (f"move the {group} objects into a Kustomization with dependsOn: [{{name: {k.name}}}], and give "
                   f"{k.name} wait: true (or a health check on HelmRelease {best.obj.namespace}/{best.obj.name})")
        elif reason == "unordered":
            message = (f"Kustomization {k.describe()} applies {listed} ({group}) but depends on no Kustomization that "
                       f"installs the {group} CRDs: {named}; Flux may apply it first, and the dry-run fails with "
                       f"'no matches for kind \"{first.kind}\"'")
            fix = (f"add dependsOn: [{{name: {best.kustomization.name}}}] to Kustomization {k.name} "
                   f"({k.manifest.file}:{k.manifest.line})"
                   + ("" if best.ready_means_installed else f", and wait: true to {best.kustomization.name}"))
        else:  # no-wait
            message = (f"Kustomization {k.describe()} applies {listed} ({group}) after {named}, which installs the "
                       f"{group} CRDs; but {best.kustomization.name} has neither wait: true nor a health check on that "
                       "HelmRelease, so it is Ready as soon as the HelmRelease object exists, before helm-controller "
                       f"installs the chart, and the dry-run of {first.kind} can fail with 'no matches for kind'")
            fix = (f"set wait: true on Kustomization {best.kustomization.name} "
                   f"({best.kustomization.manifest.file}:{best.kustomization.manifest.line}), or add HelmRelease "
                   f"{best.obj.namespace}/{best.obj.name} to its spec.healthChecks")
        rec.add("error", "flux/crd-order", cluster.name, k, first.file, first.line, message, fix)

    for (key, namespace, creator_keys), objects in sorted(namespace_problems.items()):
        k = by_key[key]
        first = objects[0]
        listed = _listing(objects)
        if not creator_keys and unbuilt:
            rec.add("unchecked", "flux/namespace-source-unknown", cluster.name, k, first.file, first.line,
                    f"Kustomization {k.describe()} applies {listed} in namespace {namespace}, which nothing built here "
                    f"creates; what could is not known offline: {unknowns(k)}",
                    f"nothing to do if one of those creates namespace {namespace} and {k.name} depends on it")
            continue
        if not creator_keys:
            rec.add("warning", "flux/namespace-not-created", cluster.name, k, first.file, first.line,
                      f"Kustomization {k.describe()} applies {listed} in namespace {namespace}, which no Kustomization of "
                      f"cluster {cluster.name} creates: unless the cluster already has it, the apply fails with "
                      f"'namespaces \"{namespace}\" not found'",
                      f"add a Namespace {namespace} to {k.name} (Flux applies Namespaces first) or to a Kustomization it depends on")
            continue
        creators = [by_key[c] for c in creator_keys]
        named = "; ".join(f"{c.describe()} ({c.manifest.file}:{c.manifest.line})" for c in creators)
        rec.add("error", "flux/namespace-order", cluster.name, k, first.file, first.line,
                  f"Kustomization {k.describe()} applies {listed} in namespace {namespace}, which only {named} creates, "
                  f"but {k.name} does not depend on it: Flux may apply them first and fail with "
                  f"'namespaces \"{namespace}\" not found'",
                  f"add dependsOn: [{{name: {creators[0].name}}}] to Kustomization {k.name} ({k.manifest.file}:{k.manifest.line}), "
                  f"or move Namespace {namespace} into {k.name}")

def check_helm_sources(rec: Recorder, cluster: Cluster) -> None:
    """Every HelmRelease's chart source exists in the cluster it is applied to: spec.chart.spec.sourceRef
    (HelmRepository, GitRepository, Bucket) or spec.chartRef (OCIRepository, HelmChart)."""
    built = [s for s in cluster.kustomizations.values() if s.status == "built"]
    unbuilt = sorted(s.kustomization.describe() for s in cluster.kustomizations.values() if s.status != "built")
    sources: set[tuple[str, str, str, str]] = set()
    for state in built:
        for o in state.objects:
            if o.group.startswith("source.") and o.group.endswith(".fluxcd.io"):
                sources.add((target_of(state), o.kind, o.namespace, o.name))
    for state in built:
        k, target = state.kustomization, target_of(state)
        for o in state.objects:
            if o.group != HELM_GROUP or o.kind != "HelmRelease":
                continue
            spec = o.body.get("spec") if isinstance(o.body.get("spec"), dict) else {}
            chart_ref = spec.get("chartRef") if isinstance(spec.get("chartRef"), dict) else None
            template = ((spec.get("chart") or {}).get("spec") or {}) if isinstance(spec.get("chart"), dict) else {}
            reference, field = (chart_ref, "spec.chartRef") if chart_ref else (template.get("sourceRef"), "spec.chart.spec.sourceRef")
            if not isinstance(reference, dict) or not reference.get("name"):
                continue  # the schema check reports a HelmRelease without a chart
            kind, name = str(reference.get("kind", "")), str(reference["name"])
            namespace = str(reference.get("namespace") or o.namespace)
            if (target, kind, namespace, name) in sources:
                continue
            named = f"{kind} {namespace}/{name}"
            if unbuilt:
                rec.add("unchecked", "flux/helm-source-unknown", cluster.name, k, o.file, o.line,
                        f"HelmRelease {o.namespace}/{o.name} takes its chart from {named} ({field}), which nothing built here "
                        f"defines; it may come from what was not built: {', '.join(unbuilt)}",
                        f"nothing to do if one of those defines {named}")
                continue
            rec.add("error", "flux/helm-source-not-found", cluster.name, k, o.file, o.line,
                    f"HelmRelease {o.namespace}/{o.name} (applied by Kustomization {k.describe()}) takes its chart from "
                    f"{named} ({field}), which no Kustomization of cluster {cluster.name} applies: helm-controller cannot "
                    "fetch the chart, and the release never installs (Ready=False, the source is not found)",
                    f"correct {field} (kind, name, namespace), or add the {kind} {name} in namespace {namespace} "
                    f"to Kustomization {k.name} or one it depends on")


def check_objects(rec: Recorder, cluster: Cluster) -> None:
    """SOPS secrets and objects that two Kustomizations apply."""
    appliers: dict[tuple, list[tuple[FluxKustomization, InventoryObject]]] = defaultdict(list)
    for state in cluster.kustomizations.values():
        if state.status != "built":
            continue
        k = state.kustomization
        encrypted = [o for o in state.objects if o.api_version == "v1" and o.kind == "Secret" and "sops" in o.body]
        if encrypted and not k.decryption:
            for o in encrypted:
                rec.add("error", "flux/sops-without-decryption", cluster.name, k, o.file, o.line,
                          f"{o.describe()} is SOPS encrypted, but Kustomization {k.describe()} has no spec.decryption: "
                          "kustomize-controller stops with \"configuring decryption is required for this secret to be reconciled\"",
                          f"add spec.decryption: {{provider: sops, secretRef: {{name: <secret with the key>}}}} to Kustomization {k.name}")
        elif encrypted:
            rec.add("unchecked", "flux/decryption-offline", cluster.name, k, encrypted[0].file, encrypted[0].line,
                      f"Kustomization {k.describe()} decrypts {_listing(encrypted)} with keys that only the cluster has: "
                      "their content is not checked",
                      "nothing to do offline; the cluster reports decryption errors on the Kustomization")
        for o in state.objects:
            appliers[(target_of(state), o.key)].append((k, o))
    for (target, _), entries in sorted(appliers.items()):
        owners = sorted({k.describe() for k, _ in entries})
        if len(owners) > 1:
            k, o = entries[1]
            where = f"the cluster of {target}" if target else f"cluster {cluster.name}"
            rec.add("warning", "flux/applied-twice", cluster.name, k, o.file, o.line,
                      f"{o.describe()} is applied to {where} by {len(owners)} Kustomizations ({', '.join(owners)}): "
                      "they overwrite each other's changes, and when one stops applying it, its prune deletes it for all",
                      "keep the object in exactly one Kustomization's folder")



def _ancestors(k: FluxKustomization, cluster: Cluster) -> set[tuple[str, str]]:
    """The Kustomizations whose builds create k, its parent first."""
    by_name = {s.kustomization.describe(): s for s in cluster.kustomizations.values()}
    found: set[tuple[str, str]] = set()
    parent = cluster.kustomizations[k.key].applied_by if k.key in cluster.kustomizations else None
    while parent is not None and parent in by_name and by_name[parent].kustomization.key not in found:
        found.add(by_name[parent].kustomization.key)
        parent = by_name[parent].applied_by
    return found


def _awaited_by(k: FluxKustomization, cluster: Cluster) -> set[tuple[str, str]]:
    """The Kustomizations that are Ready before k is applied: its dependsOn (transitively), and what
    those apply (a Kustomization with wait: true is Ready only once the Kustomizations it applies are)."""
    by_key = {s.kustomization.key: s.kustomization for s in cluster.kustomizations.values()}
    applied: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for state in cluster.kustomizations.values():
        parent = next((key for key, other in by_key.items() if other.describe() == state.applied_by), None)
        if parent is not None:
            applied[parent].append(state.kustomization.key)
    stack, seen = list(k.depends_on), set()
    while stack:
        key = stack.pop()
        if key in seen or key not in by_key:
            continue
        seen.add(key)
        stack.extend(by_key[key].depends_on)
        if by_key[key].wait:
            stack.extend(applied.get(key, []))
    return seen


@dataclass(frozen=True)
class _Installer:
    """A Kustomization that installs a CRD API group: with CRD manifests, or a HelmRelease of a chart in the table."""

    kustomization: FluxKustomization
    how: str  # manifest | helm
    obj: InventoryObject  # the CustomResourceDefinition or the HelmRelease
    kind: str | None  # the kind a CRD manifest defines (None: the whole group, for charts)
    chart: str

    @property
    def via(self) -> str:
        if self.how == "manifest":
            return f"CustomResourceDefinition {self.obj.name}"
        return f"HelmRelease {self.obj.namespace}/{self.obj.name} of chart {self.chart}"

    @property
    def ready_means_installed(self) -> bool:
        """Whether the Kustomization is Ready only once its CRDs exist: always for CRD manifests
        (applied first, awaited until established), for a HelmRelease only with wait or a health check."""
        return self.how == "manifest" or self.kustomization.checks_health_of(HELM_GROUP, "HelmRelease", self.obj.namespace, self.obj.name)


def _crd_verdict(k: FluxKustomization, installers: list[_Installer], by_key) -> tuple[str, tuple[_Installer, ...]] | None:
    """None when a custom resource of Kustomization k cannot reach the API server before its CRD;
    else why (none | same | no-wait | unordered) and the installers concerned."""
    if not installers:
        return ("none", ())
    if any(i.kustomization.key == k.key and i.how == "manifest" for i in installers):
        return None  # kustomize-controller applies CRDs first and waits until they are established
    ordered = [i for i in installers if i.kustomization.key != k.key and depends_on_transitively(k, i.kustomization.key, by_key)]
    if any(i.ready_means_installed for i in ordered):
        return None

    def order(items):
        return tuple(sorted(items, key=lambda i: (i.kustomization.key, i.obj.key)))

    if ordered:
        return ("no-wait", order(ordered))
    same = [i for i in installers if i.kustomization.key == k.key]
    if same:
        return ("same", order(same))
    return ("unordered", order(installers))


def _listing(objects: list[InventoryObject], limit: int = 3) -> str:
    names = [o.describe() for o in objects[:limit]]
    more = f" and {len(objects) - limit} more" if len(objects) > limit else ""
    return ", ".join(names) + more
