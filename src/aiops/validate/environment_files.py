"""Environment files (environments/*.yaml) checked with jsonschema against
schemas/environment.schema.json, each error with its file and line.

`aiops synth` checks the same files with the pydantic model itself (with more precise
messages); this check is what any other tool sees: the committed schema that editors use.
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
