"""Reading kubeconform's schema violations: which field, and what is wrong with it."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    path: tuple[str, ...]  # JSON pointer parts of the field at fault
    message: str


_AT = re.compile(r"- at '([^']*)': (.*?)(?=\s+- at '|\Z)", re.S)


def _pointer(text: str) -> tuple[str, ...]:
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:]) if text else ()


def violations(result: dict) -> list[Violation]:
    """The schema violations of one invalid result, leaves only, one per field.

    kubeconform lists only the top-level causes in `validationErrors`; nested ones (behind a
    $ref, or the branches of a oneOf) are only in `msg`, so this reads `msg`."""
    message = str(result.get("msg") or "")
    _, _, detail = message.partition("jsonschema validation failed with ")
    by_path: dict[str, list[str]] = {}
    for path, text in _AT.findall(detail):
        text = " ".join(text.split()).replace("want null or ", "want ")
        if text != "validation failed" and text not in by_path.setdefault(path, []):
            by_path[path].append(text)
    if not by_path:  # an unexpected format: fall back to what kubeconform structured
        for error in result.get("validationErrors") or []:
            by_path.setdefault(str(error.get("path", "")), []).append(str(error.get("msg", "")))
    out = []
    for path, texts in by_path.items():
        if not texts:
            continue
        if texts[0].startswith("oneOf failed") and len(texts) > 1:
            wants = [t.split("want ", 1)[1] for t in texts[1:] if "want " in t]
            got = texts[1].split(",", 1)[0] if texts[1].startswith("got ") else ""
            text = f"{got}, want {' or '.join(wants)}" if got and len(wants) == len(texts) - 1 else "; ".join(texts[1:])
        else:
            text = "; ".join(texts)
        out.append(Violation(_pointer(path), text))
    return out or [Violation((), message)]
