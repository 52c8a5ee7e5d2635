"""Environment files (environments/*.yaml) as `aiops validate` checks them.

First exactly what `aiops synth` checks before it synthesizes: the pydantic model through the
same loader (every error with synth's message, file and line) and the environment rules
(aiops.validate.environment_rules: retired instance types, Kubernetes versions out of standard
support), so the two never disagree. When the model accepts the file, it is also checked with
jsonschema against schemas/environment.schema.json, the committed schema editors use, so a
schema that has fallen behind the model is reported too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from difflib import get_close_matches
from pathlib import Path

from aiops.tree.manifests import Manifest
from aiops.validate.findings import ENVIRONMENT_SCHEMA, Finding

SCHEMA_NAME = "environment.schema.json"
_MODELINE = "yaml-language-server: $schema="


def _modeline_schema(file: str) -> Path | None:
    try:
        with open(file, encoding="utf-8") as handle:
            first = handle.readline()
    except OSError:
        return None
    if _MODELINE in first and SCHEMA_NAME in first:
        return (Path(file).parent / first.split(_MODELINE, 1)[1].strip()).resolve()
    return None


def is_environment(document: Manifest) -> bool:
    return _modeline_schema(document.file) is not None or {"name", "cloud", "nodePools"} <= set(document.body)


def _fix(error) -> str:
    validator, schema = error.validator, error.schema
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        close = get_close_matches(str(extra[0]), allowed, n=1) if extra else []
        guess = f"did you mean {close[0]!r}? " if close else ""
        return f"{guess}remove it or correct its spelling; allowed fields here: {', '.join(allowed)}"
    if validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"add the field {missing[0]!r}" if missing else "add the field"
    if validator == "enum":
        return "use one of: " + ", ".join(json.dumps(v) for v in schema["enum"])
    if validator == "const":
        return f"use {json.dumps(schema['const'])}"
    if validator == "type":
        return f"write a value of type {schema['type']}"
    if validator == "pattern":
        return f"write a value matching {schema['pattern']}"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems"):
        return f"respect {validator} {schema[validator]}"
    return "correct the value as schemas/environment.schema.json describes"


def check_environment_model(document: Manifest, today) -> Iterator[Finding]:
    """The model's checks and the environment rules, as synth runs them, at the file's lines."""
    from aiops.model import InvalidEnvironment
    from aiops.model.loader import load_environment
    from aiops.validate.environment_rules import environment_findings
    from aiops.validate.findings import ENVIRONMENT_INVALID

    name = document.body.get("name")
    what = f"environment {name}" if isinstance(name, str) else None
    try:
        environment = load_environment(Path(document.file))
    except InvalidEnvironment as exc:
        for error in exc.errors:
            message = f"{error.field}: {error.message}" if error.field else error.message
            yield Finding(ENVIRONMENT_INVALID, document.file, error.line, message, error.hint or None, what)
        return
    yield from environment_findings(environment, Path(document.file), document.file, today)


def check_environment(document: Manifest, repo_root: Path | None) -> Iterator[Finding]:
    from jsonschema import Draft202012Validator

    schema_path = _modeline_schema(document.file) or (repo_root / "schemas" / SCHEMA_NAME if repo_root else None)
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8")) if schema_path else None
    except (OSError, ValueError):
        schema = None
    if schema is None:
        yield Finding(
            ENVIRONMENT_SCHEMA, document.file, document.line,
            f"looks like an environment file, but {schema_path or 'schemas/' + SCHEMA_NAME} is missing or unreadable, so it was not checked",
            "run `aiops schemas export` in the project, or fix the $schema line at the top of the file",
            severity="warning",
        )
        return
    validator = Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(document.body), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
            path += extra[:1]
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[") or "(top level)"
        yield Finding(ENVIRONMENT_SCHEMA, document.file, document.line_of(path), f"{field}: {error.message}", _fix(error), document.body.get("name") and f"environment {document.body['name']}")


def check_failover_pairs(files: list[str]) -> Iterator[Finding]:
    """The failover rules that need both files of a pair (aiops.failover.checks), for the
    environment files among `files` that load: each is held against the other side of its
    pairs, read from the same folder when it is not among them."""
    from aiops.failover import related, resolve
    from aiops.model import InvalidEnvironment
    from aiops.model.loader import load_environment
    from aiops.validate.findings import ENVIRONMENT_INVALID

    by_folder: dict[Path, list] = {}
    broken: set[Path] = set()
    for file in files:
        try:
            environment = load_environment(Path(file))
        except InvalidEnvironment:
            broken.add(Path(file).resolve())  # reported by check_environment_model
            continue
        by_folder.setdefault(Path(file).parent, []).append(environment)
    for folder, environments in sorted(by_folder.items()):
        try:
            resolved = resolve(folder, environments)
        except InvalidEnvironment as exc:
            if any((folder / f"{name}.yaml").resolve() in broken for name in related(folder, [e.name for e in environments])):
                continue  # the other side is among the files checked, and its errors are reported already
            for error in exc.errors:
                message = f"{error.field}: {error.message}" if error.field else error.message
                yield Finding(ENVIRONMENT_INVALID, error.file, error.line, f"{message} (read as the other side of a failover pair)", error.hint or None)
            continue
        for error in resolved.errors:
            name = Path(error.file).stem
            yield Finding(ENVIRONMENT_INVALID, error.file, error.line, f"{error.field}: {error.message}" if error.field else error.message,
                          error.hint or None, f"environment {name}")
