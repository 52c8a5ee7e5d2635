"""Reading YAML and JSON of any shape: a field that should hold a mapping or a list may hold
anything in a tree someone else wrote. The schema check reports such a field; these helpers let
the other readers and rules carry on instead of failing on it."""

from __future__ import annotations

from typing import Any


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list:
    return value if isinstance(value, list) else []


def mappings(value: Any) -> list[dict]:
    """The mappings in a list (other items left out)."""
    return [item for item in sequence(value) if isinstance(item, dict)]
