"""What a failed build means: the finding for each stage at which kustomize-controller stops.

`flux-build` reports the stage (path, build, substitute, ...) and kustomize's own message;
this turns them into findings with the file and line to look at and a way to reproduce.
"""

from __future__ import annotations

import re

from aiops.flux.build import BuildResult
from aiops.flux.report import Cluster, KustomizationState, Recorder


def report_failure(rec: Recorder, cluster: Cluster, state: KustomizationState, result: BuildResult) -> None:
    k = state.kustomization
    where = f"{k.manifest.file}:{rec.key_line(k.manifest, 'path')}"
    if result.stage == "path":
        rec.add("error", "flux/path-not-found", cluster.name, k, k.manifest.file, rec.key_line(k.manifest, "path"),
                  f"Kustomization {k.describe()} (cluster {cluster.name}) has spec.path {k.path}, which does not exist at "
                  f"{rec.label}: kustomize-controller stops with \"kustomization path not found\" and applies "
                  "and prunes nothing",
                  f"create {k.folder}/ (in dist/: run `aiops synth` and commit the result) or correct spec.path; to retire "
                  f"the folder, delete Kustomization {k.name} in the same commit, so that Flux prunes what it applied")
        return
    if result.stage == "substitute" and result.undefined:
        post_line = rec.key_line(k.manifest, "postBuild")
        for obj, origin, variables in result.undefined:
            names = ", ".join("${" + v + "}" for v in variables)
            line = None
            if origin:
                kind, _, rest = obj.partition("/")
                line = rec.locate(origin, kind, rest.rsplit("/", 1)[-1], {})
            rec.add("error", "flux/undefined-variable", cluster.name, k, origin or k.manifest.file, line,
                      f"{names} in {obj} has no value: Kustomization {k.describe()} ({k.manifest.file}:{post_line}) defines "
                      f"no such variable in spec.postBuild and the reference gives no default; kustomize-controller "
                      "fails the build with strict substitution, and without it silently writes an empty string",
                      f"add {', '.join(variables)} to spec.postBuild.substitute of Kustomization {k.name} "
                      f"({k.manifest.file}:{post_line}), or give a default as ${{{variables[0]}:=value}}; write $${{...}} for a literal ${{...}}")
        return
    if result.stage == "substitute":
        post_line = rec.key_line(k.manifest, "postBuild")
        file, line = _object_named(rec, k, result.error) or (k.manifest.file, post_line)
        rec.add("error", "flux/substitution-failed", cluster.name, k, file, line,
                f"the postBuild substitution of Kustomization {k.describe()} ({k.manifest.file}:{post_line}) fails: {result.error}; "
                "kustomize-controller applies nothing of it",
                "a ${...} that is not a variable reference must be escaped as $${...}; variable names must match "
                "^[_[:alpha:]][_[:alpha:][:digit:]]*$ (or disable substitution for the object with the annotation "
                "kustomize.toolkit.fluxcd.io/substitute: disabled)")
        return
    file = result.kustomization_file if result.kustomization_file and not result.generated else k.manifest.file
    line = None
    named = re.search(r"from '([^']+)'", result.error)
    if named and file == result.kustomization_file:
        line = next((n + 1 for n, text in enumerate(rec.lines(file)) if named.group(1) in text), None)
    else:
        syntax = re.search(r"yaml: line (\d+):", result.error)
        line = int(syntax.group(1)) if syntax and file == result.kustomization_file else None
    hint = build_hint(result.error)
    reproduce = f"kustomize build {k.folder}" if not result.generated else f"kustomize build {k.folder} (after Flux generates its kustomization.yaml)"
    rec.add("error", "flux/build-failed", cluster.name, k, file, line,
              f"Kustomization {k.describe()} ({where}) does not build at {rec.label}: {result.error.strip()}",
              f"{hint}; reproduce with `{reproduce}`")



def build_hint(error: str) -> str:
    if "kustomization path not found" in error:
        return "create the folder or correct spec.path"
    if "no such file or directory" in error or "evalsymlink failure" in error:
        return "a file or folder that the kustomization.yaml lists does not exist: add it, or remove the entry"
    if "converting YAML to JSON" in error or "yaml:" in error or "mapping values are not allowed" in error:
        return "the YAML does not parse: fix the syntax at the line the error names"
    if "already registered id" in error or "conflicts with" in error:
        return "two documents declare the same object: keep one"
    if "failed to decode Kubernetes YAML" in error:
        return "a .yaml file in the folder is not a Kubernetes manifest: move it out, or add a kustomization.yaml that lists only manifests"
    if "no matches for" in error or "failed to find unique target for patch" in error or "no resource matches" in error:
        return "a patch (in the kustomization.yaml or the Kustomization's spec.patches) targets an object the build does not contain"
    return "make the folder build with kustomize"

def _object_named(rec: Recorder, k, error: str) -> tuple[str, int] | None:
    """The file and line of the object a substitution error names ('Kind.version.group/[namespace/]name'),
    when exactly one object under the Kustomization's path has that kind and name."""
    named = re.search(r"failed for '([^.']+)\.[^/']*/(?:[^/']+/)?([^/']+)'", error)
    if not named:
        return None
    kind, name = named.groups()
    found = [m for file, manifests in rec.manifests_by_file.items() if k.applies(file) for m in manifests
             if m.kind == kind and m.name == name]
    return (found[0].file, found[0].line) if len(found) == 1 else None
