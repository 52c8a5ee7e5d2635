"""Turning upstream schemas into the files kubeconform reads.

CRDs: each served version's openAPIV3Schema becomes one JSON schema, the way kubeconform's own
scripts/openapi2jsonschema.py does it (v0.7.0): `format: int-or-string` becomes
`oneOf: [string, integer]`, and every object schema that lists `properties` gets
`additionalProperties: false`, so a misspelt field is an error (kubectl's strict validation
does the same). Two deliberate differences, both to avoid false findings: the walk follows
schema keywords only (the script also rewrites a field that happens to be *named*
"properties"), and an object marked `x-kubernetes-preserve-unknown-fields: true` stays open,
because the API server keeps unknown fields there. The root object is closed as well (the
script's DENY_ROOT_ADDITIONAL_PROPERTIES mode), after adding apiVersion, kind and metadata where
a CRD leaves them out: a CR has nothing else at its root but spec and status (or what its schema
lists), so a typo such as `spce:` is caught.

Kubernetes: the kubernetes-validate wheel has one file per kind whose references point into a
shared `/api/_definitions.json`. kubeconform resolves references relative to the schema file,
so each kind becomes a standalone file holding exactly the definitions it reaches, under
`$defs`, referenced as `#/$defs/<name>`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import yaml

_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not")
INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def _strict(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    if schema.get("format") == "int-or-string":
        return copy.deepcopy(INT_OR_STRING)
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: _strict(sub) for name, sub in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    for key in _SUBSCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = _strict(out[key])
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_strict(sub) for sub in out[key]]
    return out


# Every object has these at its root whether or not the CRD's schema lists them (the API server
# adds them); some CRDs (the Dask operator's) list only spec and status.
_ROOT_FIELDS = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}


def crd_json_schema(open_api_v3_schema: dict[str, Any]) -> dict[str, Any]:
    """One CRD version's openAPIV3Schema as a strict JSON schema for kubeconform."""
    schema = dict(open_api_v3_schema)
    if isinstance(schema.get("properties"), dict):
        schema["properties"] = {**_ROOT_FIELDS, **schema["properties"]}
    return _strict(schema)


class NotACrd(ValueError):
    pass


def iter_crds(text: str, source: str) -> Iterator[dict[str, Any]]:
    """The CustomResourceDefinitions in a YAML text (a `List` of them included)."""
    try:
        documents = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as exc:
        raise NotACrd(f"{source}: not YAML ({exc})") from None
    found = 0
    for document in documents:
        if not isinstance(document, dict):
            continue
        items = document.get("items") if document.get("kind") == "List" else [document]
        for item in items or []:
            if isinstance(item, dict) and item.get("kind") == "CustomResourceDefinition":
                found += 1
                yield item
    if not found:
        raise NotACrd(f"{source}: holds no CustomResourceDefinition")


def crd_versions(crd: dict[str, Any], source: str) -> tuple[str, str, list[dict[str, Any]]]:
    """(group, kind, versions) of a CRD; each version with its name, flags and JSON schema."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not group or not kind:
        raise NotACrd(f"{source}: a CustomResourceDefinition without spec.group or spec.names.kind")
    versions = []
    for version in spec.get("versions") or []:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or ((spec.get("validation") or {}).get("openAPIV3Schema"))
        versions.append(
            {
                "name": str(version["name"]),
                "served": bool(version.get("served", True)),
                "storage": bool(version.get("storage", False)),
                "deprecated": bool(version.get("deprecated", False)),
                "warning": version.get("deprecationWarning"),
                "schema": crd_json_schema(schema) if schema else None,
            }
        )
    if not versions and spec.get("version"):  # apiextensions.k8s.io/v1beta1 style
        schema = (spec.get("validation") or {}).get("openAPIV3Schema")
        versions.append({"name": spec["version"], "served": True, "storage": True, "deprecated": False, "warning": None, "schema": crd_json_schema(schema) if schema else None})
    return str(group), str(kind), versions


# --- Kubernetes (kubernetes-validate) -------------------------------------------------------

_DEFINITIONS = "_definitions.json"


def _references(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            found.add(reference.rsplit("/", 1)[1])
        for value in node.values():
            _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)


def _local(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: ("#/$defs/" + value.rsplit("/", 1)[1] if key == "$ref" and isinstance(value, str) else _local(value))
            for key, value in node.items()
            if key != "$id"  # an absolute $id would make kubeconform resolve references against kubernetes.io
        }
    if isinstance(node, list):
        return [_local(value) for value in node]
    return node


def standalone_kind_schemas(files: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    """(file name, standalone JSON) for every kind in one kubernetes-validate version folder."""
    definitions = json.loads(files[_DEFINITIONS])["$defs"]
    for name in sorted(files):
        if name.startswith("_") or name == "all.json":
            continue
        schema = json.loads(files[name])
        if "x-kubernetes-group-version-kind" not in schema:
            continue  # a part of some kind, not a kind kubeconform is asked about
        pending: set[str] = set()
        _references(schema, pending)
        reached: set[str] = set()
        while pending:
            definition = pending.pop()
            if definition not in reached:
                reached.add(definition)
                _references(definitions[definition], pending)
        out = _local(schema)
        out["$defs"] = {definition: _local(definitions[definition]) for definition in sorted(reached)}
        yield name, json.dumps(out, sort_keys=True, separators=(",", ":")).encode()
