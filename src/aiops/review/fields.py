"""Field-level differences between two versions of an object, with readable paths.

Paths read like `spec.workerGroupSpecs[groupName=gpu-workers].replicas`: list items are matched
by their `name` (or KubeRay's `groupName`) when every item has a distinct one, so
inserting an item does not show every later one as changed; other lists of objects are compared
position by position, and lists of plain values (zones, instance types, args) as a whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class FieldChange:
    path: str
    change: str  # added | removed | changed
    old: Any = None
    new: Any = None

    def as_json(self) -> dict:
        out: dict[str, Any] = {"path": self.path, "change": self.change}
        if self.change != "added":
            out["old"] = self.old
        if self.change != "removed":
            out["new"] = self.new
        return out


def _join(path: str, key: Any) -> str:
    key = str(key)
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


# Fields that identify a list item, in order of preference: `name` (containers, ports, env,
# volumes, ...) and KubeRay's `groupName` (workerGroupSpecs).
ITEM_KEYS = ("name", "groupName")


def _names(items: list) -> tuple[str, list[str]] | None:
    """The identifying field and the items' values of it, when every item has a distinct one."""
    for key in ITEM_KEYS:
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            names = [i[key] for i in items]
            if len(set(names)) == len(names):
                return key, names
    return None


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    return [] if old == new else _differences(old, new, path)


def _differences(old: Any, new: Any, path: str) -> list[FieldChange]:
    """The changes between two values already known to differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        # Only the keys whose values differ: most of a changed object is not (a C comparison
        # rules a whole subtree out before any path is built for it).
        if old.keys() == new.keys():
            differing = [k for k, v in old.items() if v != new[k]]
        else:
            differing = [k for k in old.keys() | new.keys() if k not in old or k not in new or old[k] != new[k]]
        for key in sorted(differing, key=str) if len(differing) > 1 else differing:
            changes.extend(_member(_join(path, key), old.get(key, _ABSENT), new.get(key, _ABSENT)))
        return changes
    if isinstance(old, list) and isinstance(new, list) and (_is_objects(old) or _is_objects(new)):
        old_names, new_names = _names(old), _names(new)
        if old_names and new_names and old_names[0] == new_names[0]:
            key = old_names[0]
            return _by_name(key, dict(zip(old_names[1], old)), dict(zip(new_names[1], new)), old_names[1], new_names[1], path)
        changes = []
        for index in range(max(len(old), len(new))):
            changes.extend(_member(f"{path}[{index}]", old[index] if index < len(old) else _ABSENT,
                                   new[index] if index < len(new) else _ABSENT))
        return changes
    return [FieldChange(path or ".", "changed", old=old, new=new)]


def _is_objects(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) for i in items)


def _by_name(key: str, old: dict, new: dict, old_order: list[str], new_order: list[str], path: str) -> list[FieldChange]:
    changes: list[FieldChange] = []
    order = new_order + [n for n in old_order if n not in new]
    for name in order:
        changes.extend(_member(f"{path}[{key}={name}]", old.get(name, _ABSENT), new.get(name, _ABSENT)))
    return changes


_ABSENT = object()  # a key, index or named item missing on one side (None is a value)


def _member(path: str, old: Any, new: Any) -> list[FieldChange]:
    """The changes of one key, index or named item of a mapping or list."""
    if new is _ABSENT:
        return [FieldChange(path, "removed", old=old)]
    if old is _ABSENT:
        return [FieldChange(path, "added", new=new)]
    return field_changes(old, new, path)


def show(value: Any, limit: int = 120) -> str:
    """A value as compact JSON, shortened for a table cell."""
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
