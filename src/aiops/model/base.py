"""What every model of an environment file shares: strictness, names, and errors with a hint.

Rules that need more than one field raise `error(...)`: a `PydanticCustomError` with two
context keys the loader understands: `at`, a location relative to the model being validated
(so the error points at the offending key, not at its parent), and `hint`, how to fix it.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Kubernetes object names and label values (RFC 1123 label / label value syntax).
DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]


def error(kind: str, message: str, *, at: tuple[str | int, ...] = (), hint: str = "") -> PydanticCustomError:
    # Braces in values would be read as template fields by pydantic; escape them.
    return PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}"), {"at": at, "hint": hint})


def did_you_mean(word: str, choices: list[str]) -> str:
    close = get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class StrictModel(BaseModel):
    """YAML keys in camelCase, no unknown keys, no silent type conversions, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )
