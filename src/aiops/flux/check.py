"""Check that Flux can reconcile a revision: build every Kustomization as kustomize-controller does.

How a revision is checked:

1. `source.checkout` makes a git checkout of the revision in a temporary folder; `flux-build
   artifact` turns it into what source-controller would serve (ignore rules applied).
2. Clusters are found from their bootstrap Kustomization: one whose source is this repository
   (`origins`) and whose spec.path contains the file that defines it (what `flux bootstrap
   --path` writes, e.g. `flux-system` syncing `dist/aws-primary/cluster`; for a placeholder
   gotk-sync.yaml, the one it would write). Its build yields the Kustomizations it applies;
   their builds yield more, and so on: exactly the set a cluster would get. A Kustomization of
   another source is not built here, and says so.
3. Each Kustomization is built by `flux-build build` (kustomize-controller's generation,
   kustomize build and postBuild substitution, strict about undefined variables); a build
   holding an apiVersion the emulated Flux does not serve fails as the dry-run would.
4. Then, per cluster (`ordering`), what stops a real reconciliation: dependsOn names that do
   not exist and cycles; custom resources that can reach the API server before their CRD;
   objects in namespaces that nothing creates first; chart sources that do not exist; SOPS
   secrets without decryption.

What cannot be known offline (an ExternalArtifact or OCI source, a remote kustomize base,
substituteFrom data that lives only in the cluster, SOPS decryption, what an unbuilt
Kustomization would install) is reported as "unchecked" with the reason, never passed or
failed silently, and no finding is built on it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path, PurePosixPath

from aiops.flux import apis
from aiops.flux.build import BuildJob, BuildResult, build, make_artifact
from aiops.flux.failures import report_failure
from aiops.flux.origins import BOOTSTRAP_SOURCE, Origins, objects_so_far, same_git_source
from aiops.flux.ordering import check_helm_sources, check_objects, check_order, check_prerequisites
from aiops.flux.report import Cluster, Finding, FluxReport, InventoryObject, KustomizationState, Recorder, finding_order
from aiops.flux.source import Checkout, checkout
from aiops.tree.flux import (
    KUSTOMIZATION_GROUP,
    SOURCE_GROUP,
    FluxKustomization,
    flux_kustomization,
    flux_kustomizations,
    owner_of,
)
from aiops.tree.kustomize import kustomize_inputs
from aiops.tree.manifests import Manifest, environment_of, scan_manifests

__all__ = ["Cluster", "Finding", "FluxReport", "InventoryObject", "KustomizationState", "check_checkout", "check_repository", "flux_findings"]


def check_repository(repository: Path, revision: str | None = "HEAD", *, worktree: bool = False, dist: str = "dist") -> FluxReport:
    """Check a revision of the git repository at (or above) `repository`.

    Raises source.SourceError for an unknown revision or a folder outside git, and
    build.FluxBuildMissing when the set-up has not built flux-build.
    """
    with checkout(repository, revision, worktree=worktree) as source:
        return check_checkout(source, dist)


def check_checkout(source: Checkout, dist: str = "dist", *, only: frozenset[str] | None = None) -> FluxReport:
    """Check a checkout that the caller keeps open (`aiops simulate` applies its builds and reads
    its Terraform while it exists; the caller removes it).

    `only` limits the check to the bootstrapped clusters of those names (`aiops simulate --env`
    builds only what it applies); Kustomizations that no bootstrap reaches are then not reported,
    since what reaches them is the other clusters' business.
    """
    return _Checker(source, dist, only).run()


def flux_findings(repository: Path, revision: str | None = None, *, dist: str = "dist") -> list[Finding]:
    """The findings alone, for `aiops validate`: the working tree unless a revision is given."""
    return check_repository(repository, revision, worktree=revision is None, dist=dist).findings


# ---------------------------------------------------------------------------------------------

_UNSUPPORTED_OFFLINE = {
    "ExternalArtifact": (
        "its source is ExternalArtifact {ref}: an artifact that a controller in the cluster (such as "
        "source-watcher's ArtifactGenerator) assembles at run time; spec.path {path} is relative to that "
        "artifact, not to this repository"
    ),
    "OCIRepository": "its source is OCIRepository {ref}{where}: an OCI artifact pushed by CI, not this git revision",
    "Bucket": "its source is Bucket {ref}{where}: files in object storage, not this git revision",
}


class _Checker:
    def __init__(self, source: Checkout, dist: str, only: frozenset[str] | None = None) -> None:
        self.source = source
        self.only = only
        self.root = source.path
        self.dist = dist
        self.clusters: list[Cluster] = []
        self._artifacts: dict[str | None, Path] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="aiops-flux-artifacts-"))
        self._refused: dict[tuple, list[tuple[str, FluxKustomization]]] = {}

    # -- entry ------------------------------------------------------------------------------
    def run(self) -> FluxReport:
        from aiops.flux.source import SourceError

        try:
            if not (self.root / self.dist).is_dir():
                raise SourceError(f"{self.dist}/ does not exist at {self.source.label}")
            scan = scan_manifests([self.root / self.dist], root=self.root)
            self.rec = Recorder(self.root, self.source.label, scan.manifests)
            # A Kustomization in a patch file is a partial one that kustomize merges into another.
            self.inputs = kustomize_inputs(scan.kustomize_files)
            self.static = [k for k in flux_kustomizations(scan.manifests) if k.manifest.file not in self.inputs]
            self.static_sources = [m for m in scan.manifests if m.group == SOURCE_GROUP]
            self.origins = Origins(self.static_sources, scan.manifests)
            if apis.flux_served_versions() is None:
                self.rec.add("unchecked", "flux/api-versions-unchecked", "", None, None, None,
                             "the schema cache (which pins the Flux CRDs, schemas/sources.yaml) is missing, so which apiVersions "
                             "the emulated Flux serves is not known: objects of versions it no longer serves are not reported",
                             "run `make setup` (or `aiops schemas sync`), or point $AIOPS_SCHEMA_CACHE at the cache")
            self._check_clusters()
            self._report_refused()
            findings = sorted(_merged(self.rec.findings), key=finding_order)
            folders = frozenset(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                                if p.is_dir() and not p.is_symlink() and ".git" not in p.relative_to(self.root).parts)
            return FluxReport(self.source.label, self.source.commit, self.source.tree, self.clusters, findings, folders)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _check_clusters(self) -> None:
        roots = sorted((k for k in self.static if self._is_bootstrap(k)), key=lambda k: (k.manifest.file, k.manifest.index))
        roots += self._implied_bootstraps(roots)
        names: set[str] = set()
        bootstrapped = [
            (Cluster(self._cluster_name(environment_of(root.manifest.file) or str(root.folder), names), root, bootstrapped=True,
                     implied=root.manifest.index < 0), [root])
            for root in roots
        ]
        if self.only is not None:
            self._process([(cluster, entries) for cluster, entries in bootstrapped if cluster.name in self.only])
            return
        self._process(bootstrapped)
        reached = {(s.kustomization.manifest.file, s.kustomization.key) for c in self.clusters for s in c.kustomizations.values()}
        members = [s.kustomization for c in self.clusters for s in c.kustomizations.values()]
        unattached: dict[str, list[FluxKustomization]] = defaultdict(list)
        for k in self.static:
            if (k.manifest.file, k.key) in reached:
                continue
            owner = owner_of(k.manifest.file, members)
            if owner is not None:
                self._not_applied(k, owner)
                continue
            label = environment_of(k.manifest.file) or str(PurePosixPath(k.manifest.file).parent)
            unattached[label].append(k)
        loose = []
        for label, entries in sorted(unattached.items()):
            entries.sort(key=lambda k: (k.manifest.file, k.manifest.index))
            name = self._cluster_name(f"{label} (no bootstrap Kustomization)", names)
            cluster = Cluster(name, entries[0], bootstrapped=False)
            for k in entries:
                self.rec.add("unchecked", "flux/no-bootstrap", name, k, k.manifest.file, k.manifest.line,
                             f"no Kustomization in this repository applies Kustomization {k.describe()}, and no bootstrap "
                             "Kustomization (one whose source is this repository and whose spec.path contains its own file, "
                             "as `flux bootstrap` writes) covers it: how it reaches a cluster cannot be seen here; it was "
                             "checked as if created by hand",
                             "apply it from a Kustomization of the cluster (list its file in that Kustomization's folder), or "
                             "bootstrap Flux with --path pointing at its folder")
            loose.append((cluster, entries))
        self._process(loose)

    def _is_bootstrap(self, k: FluxKustomization) -> bool:
        """A bootstrap Kustomization syncs this repository at a path that contains its own file."""
        return k.applies(k.manifest.file) and self.origins.is_this_repository(k.source_kind, k.source_namespace, k.source_name)

    def _implied_bootstraps(self, roots: list[FluxKustomization]) -> list[FluxKustomization]:
        """The bootstrap Kustomization of a `flux bootstrap` layout whose gotk-sync.yaml is still a
        placeholder (as in Flux's example repositories): `flux bootstrap --path=X` writes, into
        X/flux-system/gotk-sync.yaml, Kustomization flux-system/flux-system syncing ./X from
        GitRepository flux-system/flux-system. Only where no Kustomization covers X/flux-system."""
        implied = []
        for sync in sorted((self.root / self.dist).rglob("flux-system/gotk-sync.yaml")):
            if not sync.is_file() or sync.is_symlink():
                continue
            file = sync.relative_to(self.root).as_posix()
            folder = PurePosixPath(file).parent.parent
            if any(m.kind == "Kustomization" for m in self.rec.manifests_by_file.get(file, [])):
                continue
            body = {
                "apiVersion": f"{KUSTOMIZATION_GROUP}/v1", "kind": "Kustomization",
                "metadata": {"name": "flux-system", "namespace": "flux-system"},
                "spec": {"interval": "10m0s", "path": f"./{folder}", "prune": True,
                         "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
            }
            k = flux_kustomization(Manifest(file, -1, 1, body))
            if k is not None and not any(r.applies(file) for r in roots):
                implied.append(k)
        return implied

    def _not_applied(self, k: FluxKustomization, owner: FluxKustomization) -> None:
        """A Kustomization under another's path that the cluster does not get."""
        state = self._state_of(owner)
        if state is None:
            return
        if state.status != "built":
            self.rec.add("unchecked", "flux/not-reached", state.cluster, k, k.manifest.file, k.manifest.line,
                         f"Kustomization {k.describe()} lies under the path of {owner.describe()}, which "
                         + ("fails" if state.status == "failed" else "is not built here")
                         + f" ({_first_line(state.reason)}): whether the cluster gets it, and what it would apply, is unknown",
                         f"fix {owner.describe()} first (see its finding)" if state.status == "failed"
                         else f"see why {owner.describe()} is not built here")
            return
        kfile = state.result.kustomization_file if state.result else None
        self.rec.add("warning", "flux/not-applied", state.cluster, k, k.manifest.file, k.manifest.line,
                     f"Kustomization {k.describe()} is defined here, but nothing applies it: {owner.describe()} builds "
                     f"{owner.folder}/ and its build does not include this file"
                     + (f" ({kfile} does not list it)" if kfile else ""),
                     f"list the file (or its folder) in {kfile or 'the kustomization.yaml of ' + str(owner.folder)}, or delete it")

    @staticmethod
    def _cluster_name(name: str, names: set[str]) -> str:
        candidate, number = name, 2
        while candidate in names:
            candidate, number = f"{name} #{number}", number + 1
        names.add(candidate)
        return candidate

    def _state_of(self, k: FluxKustomization) -> KustomizationState | None:
        for cluster in self.clusters:
            state = cluster.kustomizations.get(k.key)
            if state is not None and state.kustomization is k:
                return state
        return None

    # -- clusters, level by level -----------------------------------------------------------
    def _process(self, clusters: list[tuple[Cluster, list[FluxKustomization]]]) -> None:
        """Build the clusters' Kustomizations wave by wave of discovery: entry points first, then
        what their builds apply, and so on. One flux-build run per level and artifact."""
        pending: dict[str, list[tuple[FluxKustomization, str | None]]] = {}
        by_name: dict[str, Cluster] = {}
        for cluster, entries in clusters:
            self.clusters.append(cluster)
            by_name[cluster.name] = cluster
            pending[cluster.name] = [(k, None) for k in entries]
        while any(pending.values()):
            jobs: dict[str | None, list[tuple[Cluster, KustomizationState, BuildJob]]] = defaultdict(list)
            for name, items in pending.items():
                cluster = by_name[name]
                for k, parent in items:
                    if k.key in cluster.kustomizations:
                        continue
                    state = KustomizationState(k, cluster.name, parent)
                    cluster.kustomizations[k.key] = state
                    prepared = self._prepare(cluster, state)
                    if prepared is not None:
                        artifact_key, job = prepared
                        jobs[artifact_key].append((cluster, state, job))
            pending = defaultdict(list)
            for artifact_key, batch in jobs.items():
                results = build(self._artifact(artifact_key), [job for _, _, job in batch])
                for cluster, state, job in batch:
                    pending[cluster.name].extend(self._record(cluster, state, results[job.id]))
        for cluster, _ in clusters:
            check_order(self.rec, cluster)
            check_prerequisites(self.rec, cluster)
            check_helm_sources(self.rec, cluster)
            check_objects(self.rec, cluster)

    def _artifact(self, ignore: str | None) -> Path:
        if ignore not in self._artifacts:
            target = self._scratch / f"artifact-{len(self._artifacts)}"
            make_artifact(self.root, target, ignore)
            self._artifacts[ignore] = target
        return self._artifacts[ignore]

    def _prepare(self, cluster: Cluster, state: KustomizationState) -> tuple[str | None, BuildJob] | None:
        """Decide how to build a Kustomization: which artifact, how strict. None when it cannot be built."""
        k = state.kustomization
        reference = f"{k.source_namespace}/{k.source_name}"
        if state.applied_by is None and apis.unserved(str(k.manifest.body.get("apiVersion", "")), "Kustomization"):
            state.status = "failed"
            state.reason = f"no matches for kind \"Kustomization\" in version \"{k.manifest.body.get('apiVersion')}\""
            self._unserved(cluster.name, k, str(k.manifest.body.get("apiVersion")), "Kustomization", f"Kustomization {k.describe()}",
                           k.manifest.file, k.manifest.line, "the cluster refuses to create it (kubectl apply and "
                           "kustomize-controller both get 'no matches for kind \"Kustomization\"'), so nothing of it is applied")
            return None
        if k.source_kind == "GitRepository":
            repository = self.origins.git_repository(cluster, k.source_namespace, k.source_name)
            entry = cluster.entry
            ours = self.origins.is_this_repository("GitRepository", k.source_namespace, k.source_name)
            if not ours and repository is not None and entry.source_kind == "GitRepository":
                entry_repository = self.origins.git_repository(cluster, entry.source_namespace, entry.source_name)
                ours = entry_repository is not None and same_git_source(repository, entry_repository)
            if not ours and repository is None and self.origins.static_git_repository(k.source_namespace, k.source_name) is None and cluster.bootstrapped:
                state.status, state.reason = "failed", f"GitRepository {reference} not found"
                self.rec.add("error", "flux/source-not-found", cluster.name, k, k.manifest.file, self.rec.key_line(k.manifest, "sourceRef"),
                             f"Kustomization {k.describe()} takes its files from GitRepository {reference}, which nothing in "
                             f"this repository defines (and `flux bootstrap` creates only {'/'.join(BOOTSTRAP_SOURCE)}): "
                             f"kustomize-controller reports \"Source 'GitRepository/{reference}' not found\" and applies nothing",
                             f"correct spec.sourceRef, or add GitRepository {k.source_name} (namespace {k.source_namespace}) "
                             "to a Kustomization of the cluster")
                return None
            if not ours:
                spec = (repository or self.origins.static_git_repository(k.source_namespace, k.source_name) or {}).get("spec") or {}
                ref = spec.get("ref") or {}
                at = next((f" at {name} {ref[name]}" for name in ("tag", "semver", "name", "commit", "branch") if ref.get(name)), "")
                where = f" fetches {spec.get('url', '?')}{at}" if spec else " is not defined in this repository"
                return self._unchecked(state, "flux/source-offline",
                                       f"its source GitRepository {reference}{where}, not the repository being checked, "
                                       "so what it builds is not in this revision",
                                       "check that repository with `aiops flux check` there, or point sourceRef at the GitRepository of this repository")
            spec = (repository or {}).get("spec") or {}
            if spec.get("include"):
                self.rec.add("unchecked", "flux/source-include", cluster.name, k, k.manifest.file, k.manifest.line,
                          f"GitRepository {reference} includes artifacts of other sources (spec.include); Kustomization "
                          f"{k.describe()} is built without them, so paths that only exist in an included artifact fail here",
                          "only a cluster can assemble the included artifacts; keep what this Kustomization builds in this repository")
            if spec.get("sparseCheckout"):
                self.rec.add("unchecked", "flux/source-sparse", cluster.name, k, k.manifest.file, k.manifest.line,
                          f"GitRepository {reference} checks out only {', '.join(map(str, spec['sparseCheckout']))} (spec.sparseCheckout); "
                          f"Kustomization {k.describe()} is built from the full checkout, so a path outside those folders is not caught here",
                          "keep spec.path and everything its kustomization.yaml references inside the sparse folders")
            ignore = spec.get("ignore")
            artifact_key = str(ignore) if ignore is not None else None
        elif k.source_kind in _UNSUPPORTED_OFFLINE:
            source = next((m.body for m in self.static_sources if m.kind == k.source_kind and m.name == k.source_name), None)
            if source is None and cluster.bootstrapped and not self.origins.defined(cluster, k.source_kind, k.source_namespace, k.source_name):
                state.status, state.reason = "failed", f"{k.source_kind} {reference} not found"
                made_by = " (nor an ArtifactGenerator artifact of that name)" if k.source_kind == "ExternalArtifact" else ""
                self.rec.add("error", "flux/source-not-found", cluster.name, k, k.manifest.file, self.rec.key_line(k.manifest, "sourceRef"),
                             f"Kustomization {k.describe()} takes its files from {k.source_kind} {reference}, which no "
                             f"Kustomization of cluster {cluster.name} applies{made_by}: kustomize-controller reports \"Source '{k.source_kind}/{reference}' "
                             "not found\" and applies nothing",
                             f"correct spec.sourceRef, or add the {k.source_kind} {k.source_name} (namespace {k.source_namespace}) "
                             "to a Kustomization of the cluster")
                return None
            spec = (source or {}).get("spec") or {}
            where = f" ({spec.get('url') or spec.get('endpoint', '')} {spec.get('bucketName', '')})".replace(" )", ")") if spec else ""
            return self._unchecked(state, "flux/source-offline",
                                   _UNSUPPORTED_OFFLINE[k.source_kind].format(ref=reference, path=k.path, where=where),
                                   "only a live cluster can check it (its Ready condition, or `flux build kustomization` "
                                   "against the real artifact); keep manifests that must be checked before merge in this repository, "
                                   "synced through its GitRepository")
        else:
            state.status, state.reason = "failed", f"sourceRef kind {k.source_kind!r} is not supported"
            self.rec.add("error", "flux/source-kind", cluster.name, k, k.manifest.file, self.rec.key_line(k.manifest, "sourceRef"),
                      f"Kustomization {k.describe()} has sourceRef.kind {k.source_kind!r}; kustomize-controller reports "
                      f"\"source `{k.source_name}` kind '{k.source_kind}' not supported\" and applies nothing",
                      "use GitRepository, OCIRepository, Bucket or ExternalArtifact")
            return None

        strict, sources = True, []
        post_build = k.post_build or {}
        missing = []
        for reference_from in post_build.get("substituteFrom") or []:
            if not isinstance(reference_from, dict):
                continue
            kind, name = reference_from.get("kind"), reference_from.get("name")
            found = next((o for o in objects_so_far(cluster)
                          if o.group == "" and o.kind == kind and o.name == name and (o.namespace or k.namespace) == k.namespace), None)
            if found is not None and not (kind == "Secret" and "sops" in found.body):
                sources.append({**found.body, "metadata": {**(found.body.get("metadata") or {}), "namespace": k.namespace}})
            elif not reference_from.get("optional"):
                missing.append(f"{kind}/{name}")
        body = k.manifest.body
        if missing:
            strict = False
            self.rec.add("unchecked", "flux/substitute-from-offline", cluster.name, k, k.manifest.file, self.rec.key_line(k.manifest, "substituteFrom"),
                      f"Kustomization {k.describe()} reads variables from {', '.join(missing)}, which no Kustomization "
                      "of this cluster applies before it (or which is SOPS-encrypted): its values exist only in the cluster, so "
                      "undefined variables are not reported for this Kustomization",
                      "keep the ConfigMap in this repository, applied by a Kustomization this one depends on, or mark the "
                      "reference optional: true")
            spec = dict(body.get("spec") or {})
            post = dict(spec.get("postBuild") or {})
            post["substituteFrom"] = [r for r in post.get("substituteFrom") or [] if f"{r.get('kind')}/{r.get('name')}" not in missing]
            spec["postBuild"] = post
            body = {**body, "spec": spec}
        job = BuildJob(id=f"{cluster.name}|{k.describe()}", kustomization=body, strict=strict, sources=tuple(sources))
        return artifact_key, job

    def _report_refused(self) -> None:
        """One finding per object whose apiVersion is not served, naming every Kustomization that builds it."""
        for (file, line, api_version, kind, name), users in self._refused.items():
            clusters = ", ".join(dict.fromkeys(c for c, _ in users))
            names = list(dict.fromkeys(k.describe() for _, k in users))
            if len(names) == 1:
                who, rest = f"Kustomization {names[0]} fails", "it applies nothing (nor anything it would create)"
            else:
                who, rest = f"Kustomizations {', '.join(names)} fail", "they apply nothing (nor anything they would create)"
            self._unserved(clusters, users[0][1], api_version, kind, f"{kind} {name}", file, line,
                           f"kustomize-controller's dry-run of {who} with 'no matches for kind \"{kind}\" in version "
                           f"\"{api_version}\"', and {rest}")

    def _unserved(self, cluster: str, k: FluxKustomization, api_version: str, kind: str, what: str,
                  file: str | None, line: int | None, consequence: str) -> None:
        versions, controller = apis.unserved(api_version, kind) or ((), "")
        group = api_version.rpartition("/")[0]
        move_to = f"{group}/{versions[-1]}" if versions else None
        self.rec.add("error", "flux/api-not-served", cluster, k, file, line,
                     f"{what} has apiVersion {api_version}, which {controller} (Flux v2.9.4) does not serve "
                     f"(it serves {', '.join(versions) or 'no version'} of {kind}): {consequence}",
                     (f"change apiVersion to {move_to}, and the fields that version renamed or removed (Flux's upgrade notes list them)"
                      if move_to else f"remove the {kind}"))

    def _unchecked(self, state: KustomizationState, rule: str, why: str, fix: str) -> None:
        k = state.kustomization
        state.status, state.reason = "unchecked", why
        self.rec.add("unchecked", rule, state.cluster, k, k.manifest.file, self.rec.key_line(k.manifest, "sourceRef"),
                     f"Kustomization {k.describe()} is not built here: {why}", fix)
        return None

    def _record(self, cluster: Cluster, state: KustomizationState, result: BuildResult) -> list[tuple[FluxKustomization, str]]:
        """Store a build result, report its failure, and return the Kustomizations it applies."""
        k = state.kustomization
        state.result = result
        state.objects = [self.rec.inventory_object(o.origin, o.body) for o in result.objects]
        refused = [o for o in state.objects if apis.unserved(o.api_version, o.kind)] if result.ok else []
        if refused:
            # The server-side dry-run of the whole set fails: Flux applies none of it.
            first = refused[0]
            state.status, state.objects = "failed", []
            state.reason = f"apiVersion not served: no matches for kind \"{first.kind}\" in version \"{first.api_version}\""
            for o in refused:
                # One finding per object: a base that several Kustomizations build is one mistake.
                self._refused.setdefault((o.file, o.line, o.api_version, o.kind, o.name), []).append((cluster.name, k))
        elif result.ok:
            state.status = "built"
        elif result.stage == "remote":
            state.status, state.reason = "unchecked", result.error
            self.rec.add("unchecked", "flux/remote-base", cluster.name, k, result.kustomization_file or k.manifest.file, None,
                      f"Kustomization {k.describe()} cannot be checked offline: its kustomization.yaml uses a remote base "
                      f"({result.error.split(' is a remote base')[0]}), which kustomize-controller downloads at reconcile time",
                      "vendor the remote base into this repository (a pinned copy), or accept that only a cluster checks it")
            state.objects = []
        else:
            # Flux stops this Kustomization: it applies nothing, so neither do the ones it would create.
            state.status, state.reason, state.objects = "failed", result.error, []
            report_failure(self.rec, cluster, state, result)
        if state.status != "built":
            return []
        children = []
        for obj in state.objects:
            if obj.group == KUSTOMIZATION_GROUP and obj.kind == "Kustomization":
                manifest = Manifest(obj.file or k.manifest.file, 0, obj.line or 1, obj.body)
                child = flux_kustomization(manifest)
                if child is not None and child.key != k.key:
                    children.append((child, k.describe()))
        return children


def _first_line(text: str) -> str:
    return (text or "see its finding").strip().splitlines()[0]


def _merged(findings: list[Finding]) -> list[Finding]:
    """Each finding once: the same problem in a file that several clusters build (a shared base)
    is one finding naming all of them."""
    merged: dict[tuple, list[Finding]] = {}
    for f in findings:
        merged.setdefault((f.severity, f.rule, f.kustomization, f.file, f.line, f.message, f.fix), []).append(f)
    return [replace(same[0], cluster=", ".join(dict.fromkeys(f.cluster for f in same))) for same in merged.values()]
