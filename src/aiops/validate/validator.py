"""`aiops validate`: kubeconform against the offline schema cache, plus the platform rules.

    validate(Options(paths=[Path("dist")])) -> Report

Order of work, chosen for speed: kubeconform is started first (`start.py`; it only needs the
list of files), then the tree is read and the platform rules run while kubeconform works, then
its output is read and turned into findings. Reads files only, never the environment model.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiops.schema_cache import CRD_FOLDER, SchemaCache
from aiops.validate import schema_errors
from aiops.validate.errors import ToolError, UsageError
from aiops.validate.findings import (
    INPUT_BINARY,
    INPUT_EMPTY,
    INPUT_NOT_KUBERNETES,
    INPUT_TOO_LARGE,
    INPUT_UNPARSABLE,
    INPUT_UNREADABLE,
    RULE_FAILED,
    RULES,
    SCHEMA,
    SCHEMA_DEFAULTED,
    SCHEMA_MISSING,
    Finding,
)
from aiops.validate.start import Started, start

if TYPE_CHECKING:
    from aiops.tree.manifests import Manifest, Problem


@dataclass
class Options:
    paths: list[Path]
    kubernetes_version: str | None = None  # default: the cache's default (schemas/sources.yaml)
    skip: frozenset[str] = frozenset()
    crds: list[Path] = field(default_factory=list)  # extra CRD files or folders, for this run only
    repo_root: Path | None = None  # what Flux paths are relative to; default: git root, else cwd
    committed: bool | None = None  # whether the tree is committed to git; default: ask git
    today: date | None = None  # for retirement dates; default: today
    cache_dir: Path | None = None
    flux: bool = False  # also build every Flux Kustomization of the git working tree (aiops flux check)
    flux_dist: str | None = None  # with flux: the folder to find Kustomizations in (flux check's --dist); default: the path validated
    flux_rev: str | None = None  # with flux: a revision instead of the working tree (flux check's --rev)


@dataclass
class Report:
    findings: list[Finding]
    kubernetes_version: str  # of files outside any environment folder: --kubernetes-version, else the cache's default
    files: int
    objects: int
    # (environment folder or None for the other files, full version, where it comes from), for each scope validated
    kubernetes_scopes: list[tuple[str | None, str, str]] = field(default_factory=list)

    @property
    def kubernetes_versions(self) -> list[str]:
        """The distinct versions the files were checked at (the default alone when there were none)."""
        return sorted({version for _, version, _ in self.kubernetes_scopes} or {self.kubernetes_version},
                      key=lambda v: tuple(int(p) for p in v.split(".")))

    @property
    def unreadable(self) -> bool:
        return any(f.rule.id == INPUT_UNREADABLE.id for f in self.findings)


_PROBLEM_RULES = {
    "unreadable": INPUT_UNREADABLE, "binary": INPUT_BINARY, "too-large": INPUT_TOO_LARGE,
    "unparsable": INPUT_UNPARSABLE, "empty-document": INPUT_EMPTY, "not-kubernetes": INPUT_NOT_KUBERNETES,
}


def _problem(problem: Problem) -> Finding:
    return Finding(_PROBLEM_RULES.get(problem.kind, INPUT_UNPARSABLE), problem.file, problem.line, f"{problem.file} {problem.message}" if problem.kind in ("binary", "too-large", "unreadable") else problem.message)


def _schema_for(cache: SchemaCache, extra_dir: Path | None, extra_index: dict, manifest: Manifest, version: str) -> dict | None:
    group, _, api = manifest.api_version.rpartition("/")
    path = None
    if extra_dir is not None and manifest.kind in extra_index.get(group, {}):
        candidate = extra_dir / CRD_FOLDER / group / f"{manifest.kind.lower()}_{api}.json"
        path = candidate if candidate.is_file() else None
    path = path or cache.schema_file(manifest.api_version, manifest.kind, version)
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path else None
    except (OSError, ValueError):
        return None


def _subschema(root: dict, node: dict, part: str) -> dict | None:
    def resolve(n: dict) -> dict:
        seen = 0
        while isinstance(n, dict) and isinstance(n.get("$ref"), str) and n["$ref"].startswith("#/") and seen < 50:
            target: object = root
            for step in n["$ref"][2:].split("/"):
                target = target.get(step, {}) if isinstance(target, dict) else {}
            n, seen = target, seen + 1  # type: ignore[assignment]
        return n

    node = resolve(node)
    if part in (node.get("properties") or {}):
        return resolve(node["properties"][part])
    if part.isdigit() and isinstance(node.get("items"), dict):
        return resolve(node["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or []:
            found = _subschema(root, branch, part) if isinstance(branch, dict) else None
            if found:
                return found
    return None


def _defaults(schema: dict | None, path: tuple[str, ...], names: list[str]) -> dict[str, object] | None:
    """The schema defaults of required properties `names` at `path`, when every one has a default."""
    node: dict | None = schema
    for part in path:
        node = _subschema(schema, node, part) if node is not None else None  # type: ignore[arg-type]
    if node is None:
        return None
    properties = node.get("properties") or {}
    defaults = {name: properties.get(name, {}).get("default") for name in names}
    return defaults if all(name in properties and "default" in properties[name] for name in names) else None


_MISSING = re.compile(r"^missing propert(?:y|ies) (.*)$")


def _field(path: tuple[str, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


def _kubeconform_name(manifest: Manifest) -> str:
    """The name kubeconform reports: an object with only metadata.generateName is 'prefix-{{ generateName }}'."""
    if manifest.name:
        return manifest.name
    metadata = manifest.body.get("metadata")
    generate = metadata.get("generateName") if isinstance(metadata, dict) else None
    return f"{generate}{{{{ generateName }}}}" if isinstance(generate, str) and generate else ""


def _kubeconform_findings(results: list[dict], manifests: list[Manifest], problem_files: set[str], cache: SchemaCache,
                          extra_dir: Path | None, extra_index: dict, version_of: Callable[[str], str]) -> list[Finding]:
    by_key: dict[tuple, list[Manifest]] = {}
    for manifest in manifests:
        by_key.setdefault((manifest.file, manifest.kind, _kubeconform_name(manifest), manifest.api_version), []).append(manifest)
    findings: list[Finding] = []
    for result in results:
        key = (result.get("filename"), result.get("kind"), result.get("name"), result.get("version"))
        candidates = by_key.get(key) or []
        # kubeconform reports no document index: objects of the same kind and name in one file
        # cannot be told apart, so such a finding goes to the first of them.
        manifest = candidates.pop(0) if len(candidates) > 1 else (candidates[0] if candidates else None)
        status, message = result.get("status"), str(result.get("msg") or "")
        if manifest is None:
            if result.get("filename") in problem_files:
                continue  # a document that is not an object: already reported as an input problem
            findings.append(Finding(SCHEMA, str(result.get("filename")), None, f"kubeconform: {message}"))
            continue
        where = {"document": (manifest.file, manifest.index)}
        what = f"{manifest.api_version} {manifest.kind}"
        version = version_of(manifest.file)
        if status == "statusError" and message.startswith("could not find schema"):
            findings.append(Finding(
                SCHEMA_MISSING, manifest.file, manifest.line,
                f"no schema for {what} in the schema cache (Kubernetes {version.rsplit('.', 1)[0]} and the pinned CRDs), so nothing checked its fields",
                None, manifest.describe(), extra=where,
            ))
        elif status == "statusError":
            findings.append(Finding(SCHEMA, manifest.file, manifest.line, f"kubeconform could not read the object: {message}", None, manifest.describe(), extra=where))
        else:
            schema = None
            for violation in schema_errors.violations(result):
                missing = _MISSING.match(violation.message)
                names = re.findall(r"'([^']+)'", missing.group(1)) if missing else []
                if names:
                    schema = schema or _schema_for(cache, extra_dir, extra_index, manifest, version)
                    defaults = _defaults(schema, violation.path, names)
                    if defaults:
                        at = _field(violation.path)
                        shown = ", ".join(f"{n} (default {json.dumps(d)})" for n, d in defaults.items())
                        findings.append(Finding(
                            SCHEMA_DEFAULTED, manifest.file, manifest.line_of(violation.path),
                            f"{at}: {shown} is required by the {what} schema and left out; the API server fills in the "
                            "CRD's default before it validates, so a cluster accepts this object, but offline validators report the field as missing",
                            "write " + ", ".join(f"{n}: {json.dumps(d)}" for n, d in defaults.items()) + " explicitly (or the value you mean)",
                            manifest.describe(), extra=where,
                        ))
                        continue
                path = violation.path
                added = re.match(r"additional properties '([^']+)'", violation.message)
                line_path = (*path, added.group(1)) if added else path
                at = _field(path) or "(top level)"
                hint = None
                if added:
                    hint = f"remove '{added.group(1)}' or correct its spelling: the {what} schema has no such field at {at}"
                elif names:
                    hint = "add " + ", ".join(f"'{n}'" for n in names) + f" at {at}"
                findings.append(Finding(SCHEMA, manifest.file, manifest.line_of(line_path), f"{at}: {violation.message}", hint, manifest.describe(), extra=where))
    return findings


def validate(options: Options, started: Started | None = None) -> Report:
    """Validate the files under `options.paths`. Raises UsageError or ToolError for exit 2.

    `started`: kubeconform already started on the same paths, version and CRDs (`start.start`,
    which the command line calls before it imports this module); validate closes it."""
    started = started or start(options.paths, options.kubernetes_version, options.crds, options.cache_dir)
    try:
        unknown = sorted(set(options.skip) - set(RULES))
        if unknown:
            raise UsageError(f"--skip {', '.join(unknown)}: no such rule (rules: {', '.join(sorted(RULES))})")
        started.check_version()
        findings, manifests, problem_files, files = _platform(options, started.cache, started.targets.version_of, started.extra_index)
        results = started.results()
        findings += _kubeconform_findings(results, manifests, problem_files, started.cache, started.extra_dir, started.extra_index,
                                          started.targets.version_of)
        if options.flux:
            from aiops.validate.flux_build import with_flux_build

            findings = with_flux_build(findings, options, manifests, started)
    finally:
        started.close()

    removed = {f.extra.get("document") for f in findings if f.rule.id == "api-removed"}
    # A retired instance type in an environment file that is validated with its dist/ tree is one
    # mistake: it is reported at the environment file's line (where it is fixed), not again at the
    # Terraform synth generated from it.
    retired_in_environments = {f.extra["retired_pool"] for f in findings if "retired_pool" in f.extra}
    findings = [
        f for f in findings
        if f.rule.id not in options.skip and not (f.rule.id == SCHEMA_MISSING.id and f.extra.get("document") in removed)
        and f.extra.get("generated_retired_pool", ()) not in retired_in_environments
    ]
    findings.sort(key=Finding.sort_key)
    scopes = started.targets.scopes(sorted({*started.files, *(m.file for m in manifests)}))
    return Report(findings, started.version, files, len(manifests), scopes)


def _chart_groups() -> dict[str, list[str]]:
    """Helm chart -> the API groups whose CRDs it installs: the one sourced table
    (from the pinned charts, aiops.flux.chart_crds) that `aiops flux check` reads too."""
    from aiops.flux.apis import chart_crds

    return {chart: list(entry.groups) for chart, entry in chart_crds().items()}


# Input problems that stay reported for a kustomize input: kustomize cannot read such a file either.
_UNREADABLE_KINDS = ("unreadable", "binary", "too-large", "unparsable")


def _platform(options: Options, cache: SchemaCache, version_of: Callable[[str], str], extra_index: dict) -> tuple[list[Finding], list[Manifest], set[str], int]:
    """Read the tree and run the platform rules (while kubeconform runs)."""
    from aiops.tree.manifests import scan_manifests_fast
    from aiops.tree.terraform import scan_terraform
    from aiops.project import find_root
    from aiops.validate.context import Context, git_root
    from aiops.validate.environment_files import check_environment, check_environment_model, check_failover_pairs, is_environment
    from aiops.validate.findings import ENVIRONMENT_INVALID
    from aiops.validate.rules import CHECKS

    from aiops.tree.kustomize import kustomize_inputs

    tree = scan_manifests_fast(options.paths)
    # Patches, generator sources and other kustomize inputs are not objects: the build checks them.
    inputs = kustomize_inputs(tree.kustomize_files)
    if inputs:
        tree.manifests[:] = [m for m in tree.manifests if m.file not in inputs]
        tree.problems[:] = [p for p in tree.problems if p.file not in inputs or p.kind in _UNREADABLE_KINDS]
        tree.other_documents[:] = [d for d in tree.other_documents if d.file not in inputs]
    terraform = scan_terraform(options.paths)
    repo_root = options.repo_root or git_root(options.paths[0]) or find_root() or Path.cwd()
    findings: list[Finding] = []
    environment_documents = {(d.file, d.line) for d in tree.other_documents if is_environment(d)}
    for problem in [*tree.problems, *terraform.problems]:
        if problem.kind == "not-kubernetes" and (problem.file, problem.line) in environment_documents:
            continue
        findings.append(_problem(problem))
    for document in tree.other_documents:
        if (document.file, document.line) in environment_documents:
            model_findings = list(check_environment_model(document, options.today or date.today()))
            findings.extend(model_findings)
            if not any(f.rule is ENVIRONMENT_INVALID for f in model_findings):
                # the committed schema (what editors see) must agree: a stale one is reported
                findings.extend(check_environment(document, repo_root))
    environment_files = sorted({file for file, _ in environment_documents})
    if environment_files:
        findings.extend(check_failover_pairs(environment_files))

    def crd_index(group: str, kind: str) -> dict | None:
        return (extra_index.get(group) or {}).get(kind) or cache.crd(group, kind)

    context = Context(
        manifests=tree.manifests, terraform=terraform, kubernetes_version_of=version_of, crd_index=crd_index,
        chart_groups=_chart_groups(), repo_root=repo_root, today=options.today or date.today(),
        committed_override=options.committed,
    )
    for check in CHECKS:
        try:
            findings.extend(check(context))
        except Exception as exc:  # noqa: BLE001 - odd input must never end in a traceback
            findings.append(Finding(
                RULE_FAILED, ", ".join(str(p) for p in options.paths), None,
                f"the check {check.__name__} stopped on something in this tree it did not expect ({type(exc).__name__}: {exc}); "
                "its findings are missing",
            ))
    findings.extend(_problem(problem) for problem in context.pool_problems)
    problem_files = {p.file for p in tree.problems} | set(inputs)
    files = len({m.file for m in tree.manifests} | set(terraform.files) | {p.file for p in tree.problems})
    return findings, tree.manifests, problem_files, files


def validate_tree(tree, dist: Path, *, committed: bool | None = None) -> Report:
    """Validate a dist/ tree held in memory (what `aiops synth` is about to write) as if it were
    at `dist`: it is written to a scratch folder laid out like the repository (so Flux paths
    resolve), and findings name the files as `dist/...`."""
    from aiops.model.loader import display_path
    from aiops.validate.context import git_root

    dist = Path(dist)
    with tempfile.TemporaryDirectory(prefix="aiops-synth-validate-") as scratch:
        root = Path(scratch).resolve()
        target = root / dist.name
        for path, data in sorted(tree.items()):
            file = target.joinpath(*path.parts)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        if committed is None:
            committed = git_root(dist.resolve().parent if not dist.exists() else dist) is not None
        report = validate(Options(paths=[target], repo_root=root, committed=committed))
    shown, prefix = display_path(dist), str(target)
    for index, finding in enumerate(report.findings):
        if finding.file.startswith(prefix):
            report.findings[index] = Finding(
                finding.rule, shown + finding.file[len(prefix):], finding.line, finding.message.replace(prefix, shown),
                finding.fix, finding.object, finding.severity, finding.extra,
            )
    report.kubernetes_scopes = [
        (shown + folder[len(prefix):] if folder and folder.startswith(prefix) else folder, version, source.replace(prefix, shown))
        for folder, version, source in report.kubernetes_scopes
    ]
    return report
