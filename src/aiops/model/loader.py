"""Read environment files with ruamel.yaml and validate them with pydantic.

Every error carries the file, line and column of the key or value at fault, the field path,
what is wrong and how to fix it. All files are read and checked before anything is returned,
so one run reports every problem at once and a caller never writes output from a half-valid
set of environments.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from aiops.model.environment import Environment
from aiops.model.errors import InvalidEnvironment, SourceError

ENVIRONMENT_SUFFIX = ".yaml"

# What a value of these fields must look like, in words (pydantic would only quote the regex).
_PATTERN_HINTS = {
    "name": "use lowercase letters, digits and '-', starting and ending with a letter or digit (at most 63)",
    "region": "use the cloud's region id, like us-east-1, eastus or us-central1",
    "kubernetesVersion": "write a minor version in quotes, like \"1.33\"",
    "costCentre": "use lowercase letters, digits, '-' and '_'",
    "url": "use an https:// or ssh:// URL of the git repository Flux syncs from",
    "rayVersion": 'write the Ray version in quotes, like "2.52.0"',
    "readinessPath": "write an HTTP path starting with '/', like /healthz",
    "daskMemoryLimit": "write a size in Dask's units, like 7GB or 6GiB",
}


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def _plain(node: Any) -> Any:
    """ruamel's round-trip types, turned into the plain types pydantic's strict mode expects."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _duplicate_keys(yaml: YAML, text: str, shown: str) -> list[SourceError]:
    """Every repeated key, with the line of its first use (ruamel reports only the mapping)."""
    errors: list[SourceError] = []
    stack = [yaml.compose(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            first_seen: dict[Any, Any] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value in first_seen:
                    errors.append(
                        SourceError(
                            shown,
                            key.start_mark.line + 1,
                            key.start_mark.column + 1,
                            f"duplicate key '{key.value}' (first defined on line {first_seen[key.value].start_mark.line + 1})",
                            "keep one of the two; YAML mappings cannot repeat a key",
                        )
                    )
                elif isinstance(key, ScalarNode):
                    first_seen[key.value] = key
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(errors, key=lambda e: (e.line or 0, e.column or 0))


def _read_yaml(path: Path, shown: str) -> CommentedMap:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidEnvironment([SourceError(shown, None, None, "file not found", "check the path; environment files live in environments/<name>.yaml")]) from None
    except IsADirectoryError:
        raise InvalidEnvironment([SourceError(shown, None, None, "is a folder, not an environment file", "pass a .yaml file")]) from None
    except UnicodeDecodeError as exc:
        raise InvalidEnvironment([SourceError(shown, None, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save the file as UTF-8")]) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except DuplicateKeyError:
        raise InvalidEnvironment(_duplicate_keys(yaml, text, shown)) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise InvalidEnvironment([
            SourceError(shown, mark.line + 1 if mark else None, mark.column + 1 if mark else None, f"YAML syntax error: {problem}", "fix the YAML syntax at this position (indentation, quotes, a missing ':')")
        ]) from None
    except YAMLError as exc:
        raise InvalidEnvironment([SourceError(shown, None, None, f"YAML error: {exc}", "fix the YAML syntax")]) from None
    if data is None:
        raise InvalidEnvironment([SourceError(shown, 1, 1, "the file is empty", "describe an environment: name, cloud, region, zones, nodePools, ... (see schemas/environment.schema.json)")])
    if not isinstance(data, CommentedMap):
        raise InvalidEnvironment([SourceError(shown, 1, 1, f"the top level is a {type(data).__name__}, not a mapping", "start the file with 'name: <environment>' and the other fields as keys")])
    return data


def _position(tree: CommentedMap, loc: tuple[Any, ...], *, at_key: bool) -> tuple[int | None, int | None, tuple[Any, ...]]:
    """Line and column (1-based) of `loc` in the YAML tree, and the part of loc that exists there."""
    node: Any = tree
    line, column = tree.lc.line, tree.lc.col
    found: list[Any] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            child = node[part]
            # A scalar's value when the value is at fault; otherwise the key that opens it.
            if last and not at_key and not isinstance(child, (CommentedMap, CommentedSeq)):
                line, column = node.lc.value(part)
            else:
                line, column = node.lc.key(part)
            node = child
            found.append(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, column = node.lc.item(part)
            node = node[part]
            found.append(part)
        elif not isinstance(part, (str, int)) or (isinstance(part, str) and not last):
            continue  # pydantic's own location parts (union tags), not keys of the file
        else:
            break
    return line + 1, column + 1, tuple(found)


def _field_path(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that describes the mapping at `loc`."""
    model: Any = Environment
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        if field is None:
            return None
        model = field.annotation
        while typing.get_origin(model) in (list, dict, typing.Union, getattr(__import__("types"), "UnionType")):
            args = [a for a in typing.get_args(model) if a is not type(None)]
            model = args[-1]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _allowed_fields(model: type[BaseModel] | None) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    return type(value).__name__


def _explain(error: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, str]:
    """Message and fix hint for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    name = loc[-1] if loc else ""
    if kind == "missing":
        return f"required field '{name}' is missing", f"add '{name}' here"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(_model_at(loc[:-1]))
        close = get_close_matches(str(name), allowed, n=1)
        return f"unknown field '{name}'", (f"did you mean '{close[0]}'? " if close else "") + f"allowed fields here: {', '.join(allowed)}"
    if "hint" in ctx:  # our own rules (environment.py) carry their hint
        return error["msg"], ctx["hint"]
    if kind == "string_pattern_mismatch":
        return f"{_describe(value)} has the wrong form", _PATTERN_HINTS.get(str(name), f"match the pattern {ctx.get('pattern')}")
    if kind == "literal_error" and name == "state":
        return f"must be one of {ctx.get('expected')}, got {_describe(value)}", "write standby (the standby's own scale) or active (failed over: serving scale, clients sent here)"
    if kind == "literal_error":
        spelling = " (Kubernetes spelling: NoSchedule, not NO_SCHEDULE)" if "NoSchedule" in str(ctx.get("expected")) else ""
        return f"must be one of {ctx.get('expected')}, got {_describe(value)}", f"use one of the listed values, spelled exactly{spelling}"
    if kind == "string_type":
        return f"must be a string, got {_describe(value)}", "put the value in quotes"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {_describe(value)}", "write a whole number without quotes"
    if kind == "bool_type":
        return f"must be true or false, got {_describe(value)}", "write true or false without quotes"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping, got {_describe(value)}", "write this as 'key: value' pairs"
    if kind == "list_type":
        return f"must be a list, got {_describe(value)}", "write this as a YAML list ('- item' lines or [a, b])"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal"):
        return f"{error['msg'].lower()}, got {value}", "change the number"
    if kind in ("too_short", "string_too_short"):
        return f"{error['msg'].lower().replace('list', 'the list')}", "add at least one entry"
    if kind in ("too_long", "string_too_long"):
        return error["msg"].lower(), "shorten it"
    return f"{error['msg']}, got {_describe(value)}", "see schemas/environment.schema.json for what this field takes"


def _errors_from_validation(exc: ValidationError, tree: CommentedMap, shown: str) -> list[SourceError]:
    found: list[SourceError] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"]) + tuple((error.get("ctx") or {}).get("at", ()))
        message, hint = _explain(error, loc)
        line, column, _ = _position(tree, loc, at_key=error["type"] in ("extra_forbidden", "missing") or error["type"] == "label_key")
        found.append(SourceError(shown, line, column, message, hint, _field_path(loc)))
    return sorted(found, key=lambda e: (e.line or 0, e.column or 0))


def load_environment(path: Path) -> Environment:
    """One environment file as a validated model, or InvalidEnvironment with every error in it."""
    path = Path(path)
    shown = display_path(path)
    tree = _read_yaml(path, shown)
    data = _plain(tree)
    # The cloud decides which instance types, zones and pool names are valid; pass it down so
    # that each node pool reports its own error (see environment.py).
    cloud = data.get("cloud") if data.get("cloud") in ("aws", "azure", "gcp") else None
    try:
        environment = Environment.model_validate(data, context={"cloud": cloud}, by_alias=True)
    except ValidationError as exc:
        raise InvalidEnvironment(_errors_from_validation(exc, tree, shown)) from None
    if environment.name != path.stem:
        line, column, _ = _position(tree, ("name",), at_key=False)
        raise InvalidEnvironment([
            SourceError(shown, line, column, f"name '{environment.name}' does not match the file name '{path.name}'", f"rename the file to {environment.name}{ENVIRONMENT_SUFFIX} or set name: {path.stem}", "name")
        ])
    return environment


def locate(path: Path):
    """For an environment file that loads: `where(loc)` -> (line, column) of a field, like ("nodePools", 0, "instanceType")."""
    tree = _read_yaml(Path(path), display_path(Path(path)))
    return lambda loc: _position(tree, tuple(loc), at_key=False)[:2]


def environment_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob(f"*{ENVIRONMENT_SUFFIX}") if p.is_file())


def load_environments(directory: Path, names: Iterable[str] | None = None) -> list[Environment]:
    """Every environment in `directory` (or the ones named), all validated before any is returned."""
    directory = Path(directory)
    wanted = list(names or [])
    if wanted:
        known = [p.stem for p in environment_files(directory)]
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise InvalidEnvironment([
                SourceError(
                    display_path(directory / f"{name}{ENVIRONMENT_SUFFIX}"), None, None, f"no environment '{name}' (no such file)",
                    (f"did you mean '{close[0]}'? " if (close := get_close_matches(name, known, n=1)) else "")
                    + (f"the environments in {display_path(directory)}/ are: {', '.join(known)}" if known else f"{display_path(directory)}/ has no environment files"),
                )
                for name in unknown
            ])
        files = [directory / f"{name}{ENVIRONMENT_SUFFIX}" for name in wanted]
    else:
        files = environment_files(directory)
        if not files:
            raise InvalidEnvironment([SourceError(display_path(directory), None, None, "no environment files (*.yaml) found", "add environments/<name>.yaml or pass --environments DIR")])
    errors: list[SourceError] = []
    environments: list[Environment] = []
    for file in files:
        try:
            environments.append(load_environment(file))
        except InvalidEnvironment as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidEnvironment(errors)
    return environments
