"""Reading many YAML documents quickly, with exactly the result PyYAML gives.

`aiops diff` reads trees of ten thousand objects. PyYAML parses in C but builds every value in
Python: about 2.5 s per 5 MB here, most of a diff's time. rapidyaml (C++, the `rapidyaml`
wheel) parses and writes JSON, which the json module reads in C: about 0.3 s for the same 5 MB,
and about 0.9 s with the checks below (scripts/bench_diff.py, "parse only").

rapidyaml reads YAML 1.2, PyYAML (like Kubernetes' sigs.k8s.io/yaml) YAML 1.1: plain `yes`,
`~`, `0755`, `1_000`, `1:20`, `.inf`, timestamps and non-string keys mean other things, and
`1e3` is a number to one and a string to the other. rapidyaml also leaves tags, anchors and
merge keys to its caller. So its answer is used only for a document that has none of those:

- no plain scalar that PyYAML reads as anything but a string, except the forms both read
  alike (`true`, `false`, `null`, plain decimal numbers), and no plain key PyYAML reads as
  anything but a string;
- no tag, anchor, alias, reserved indicator (`@`, a backtick), directive or document-end
  marker, no tab, and no character PyYAML treats apart (controls, NEL, line and paragraph
  separators, a BOM);
- rapidyaml reads it, its JSON parses (without NaN or Infinity), and it is not empty.

A file that fails any of these is read whole by PyYAML (`manifests.parse_documents`), which
also reports the errors. The checks look at the text, so they err on the side of PyYAML (a
`yes` in a block of prose sends its file there). tests/test_fast_yaml.py proves the two readers
agree on dist/, the upstream samples and CRDs, YAML 1.1 traps in every place a scalar can stand,
and random documents.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import ryml

from aiops.tree.manifests import MAX_FILE_BYTES, Problem, parse_documents, split_documents

# Plain scalars as PyYAML's implicit resolvers read them (yaml/resolver.py, YAML 1.1).
_BOOL = r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
_NULL = r"~|null|Null|NULL"
_INT = r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
_FLOAT = (r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
          r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_TIMESTAMP = (r"[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?"
              r"(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?")
_OTHER = r"<<|=|[!&*]"  # merge key, YAML 1.1 value key, PyYAML's 'yaml' tag
_EXPONENT = r"[-+]?[0-9.][0-9_.]*[eE][-+]?[0-9]+"  # a number to rapidyaml, often a string to PyYAML
_RESOLVED = f"{_BOOL}|{_NULL}|{_INT}|{_FLOAT}|{_TIMESTAMP}|{_OTHER}|{_EXPONENT}"
_ALIKE = r"true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?"  # read alike by both

_RESOLVED_NOT_ALIKE = re.compile(f"(?!(?:{_ALIKE})$)(?:{_RESOLVED})".encode())
_RESOLVED_ANY = re.compile(f"(?:{_RESOLVED}|{_ALIKE})".encode())

# Where a plain scalar can begin: after `key: `, after `- ` (or `? `), at the start of a line
# (a key, or a document that is one scalar), and inside flow collections. Each search starts
# with a literal, which Python's re finds fast; only scalars whose first character could make
# them anything but a string (a digit, sign or dot; y/n/o/t/f/N/T/F/O/Y for booleans and null;
# ~ < = for null, merge and value; ! & * for tags, anchors and aliases; @ ` : for errors) are
# collected, and each distinct one is judged once by PyYAML's own patterns (`_is_trap`).
_FIRST = rb"[-+.0-9yYnNoOtTfF~<=!&*@`:]"
_SCALAR_STARTS = [
    re.compile(rb": +(" + _FIRST + rb"[^\n#,\]}]*)"),
    re.compile(rb"[-?] +(" + _FIRST + rb"[^\n#,\]}]*)"),
    re.compile(rb"\n[ ]*(" + _FIRST + rb"[^\n#,\]}]*)"),
    re.compile(rb"[\[{,] *(" + _FIRST + rb"[^\n#,\]}]*)"),
]
# Anywhere in the text: .inf or .nan, which rapidyaml writes in its own spelling even when
# quoted (and, checked with `in`, directives, document ends and tabs, which PyYAML refuses in
# more places than rapidyaml).
_INF_NAN = re.compile(rb"\.(?:[iI][nN][fF]|[nN][aA][nN])")
_DOCUMENT_END = re.compile(rb"\n\.\.\.(?=[ \t\r\n])")
# Characters PyYAML refuses or reads as line breaks (its reader's NON_PRINTABLE and breaks),
# in UTF-8; and a carriage return that does not end a line. Most files are printable ASCII:
# deleting those characters (`bytes.translate`, in C) leaves nothing, and the search is skipped.
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
_SPECIAL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf|\xef\xbf[\xbe\xbf]|\r(?!\n)")
_LEADING_INDICATORS = re.compile(rb"^(?:[-?] +)+")
_judged: dict[bytes, bool] = {}


def _is_trap(token: bytes) -> bool:
    """Whether a plain scalar as collected (maybe `key: value`, maybe after `- `) is one that
    PyYAML reads otherwise than rapidyaml: judged by PyYAML's own patterns."""
    token = _LEADING_INDICATORS.sub(b"", token.rstrip(b" \r"))
    if not token:
        return False
    if token[:1] in b"!&*" and token[1:2] not in (b"", b" ") or token[:1] in b"@`" or token[:1] == b":" and token[1:2] in (b"", b" "):
        return True  # a tag, anchor or alias; a reserved indicator; a key left out
    key, colon, value = token.partition(b": ")
    if not colon and token.endswith(b":"):
        key, colon, value = token[:-1], b":", b""
    if colon:
        if _RESOLVED_ANY.fullmatch(key.rstrip()):
            return True  # JSON keys are strings; PyYAML's keys can be numbers, booleans, null
        return bool(value) and _is_trap(value)
    return _RESOLVED_NOT_ALIKE.fullmatch(token) is not None


def _has_traps(text: bytes) -> bool:
    """Whether a text may hold anything that PyYAML and rapidyaml read differently."""
    text = b"\n" + text
    if b"\t" in text or b"\n%" in text or _DOCUMENT_END.search(text) or _INF_NAN.search(text):
        return True
    for pattern in _SCALAR_STARTS:
        for token in set(pattern.findall(text)):
            judged = _judged.get(token)
            if judged is None:
                if len(_judged) > 200_000:  # a long-lived process reading many trees: start afresh
                    _judged.clear()
                judged = _judged[token] = _is_trap(token)
            if judged:
                return True
    return False


def _has_special_characters(raw: bytes) -> bool:
    if not raw.translate(None, _PRINTABLE_ASCII):
        return False
    return _SPECIAL.search(raw) is not None or not _is_utf8(raw)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _content_line(piece: bytes) -> int | None:
    """The 1-based line where the document of a piece begins (where PyYAML's node starts), or
    None for a piece of comments and blank lines only (no document at all)."""
    for number, line in enumerate(piece.split(b"\n"), start=1):
        text = line.strip()
        if not text or text.startswith(b"#"):
            continue
        if line.startswith(b"---"):
            rest = line[3:].strip()
            if not rest or rest.startswith(b"#"):
                continue
        return number
    return None


def _as_json(pieces: list[bytes]) -> bytes | None:
    """One JSON array of the pieces' documents, as rapidyaml reads them; None when it cannot
    read one of them, or any piece holds other than one document."""
    out = []
    try:
        for piece in pieces:
            tree = ryml.parse_in_arena(piece)
            root = tree.root_id()
            documents = list(ryml.children(tree, root)) if tree.is_stream(root) else [root]
            if len(documents) != 1:
                return None
            emitted = ryml.emit_json(tree, documents[0])
            if not emitted:
                return None
            out.append(emitted)
    except Exception:  # noqa: BLE001 - whatever rapidyaml cannot do, PyYAML does (and reports)
        return None
    return "[" + ",".join(out) + "]"


@contextmanager
def _quiet_stderr():
    """rapidyaml prints each parse error to the process's standard error before it raises; the
    error is PyYAML's to report (with its line), so this silences the C++ library meanwhile."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def parse_many(texts: Sequence[tuple[bytes, str]]) -> list[tuple[list[tuple[int, Any]], list[Problem]]]:
    """`parse_documents(raw, shown, keep_nodes=False)` for each (raw, shown): each document of
    the text as (start line, body), and the problems; the same answer, found faster."""
    results: list[tuple[list[tuple[int, Any]], list[Problem]]] = []
    with _quiet_stderr():
        for raw, shown in texts:
            results.append(_parse(raw, shown))
    return results


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(raw: bytes, shown: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    documents = read_fast(raw)
    if documents is None:
        return parse_documents(raw, shown, keep_nodes=False)
    return documents, []


def read_fast(raw: bytes) -> list[tuple[int, Any]] | None:
    """A text's documents as (start line, body), read by rapidyaml; None when its reading could
    differ from PyYAML's (or rapidyaml cannot read the text), and PyYAML must read it."""
    if len(raw) > MAX_FILE_BYTES or b"\0" in raw[:8192] or _has_special_characters(raw) or _has_traps(raw):
        return None
    lines, pieces = [], []
    for start, piece in split_documents(raw):
        line = _content_line(piece)
        if line is None:
            if piece.lstrip().startswith(b"---"):
                return None  # an empty document: PyYAML decides what it is
            continue
        lines.append(start + line - 1)
        pieces.append(piece)
    converted = _as_json(pieces)
    try:
        bodies = json.loads(converted, parse_constant=_no_constants) if converted is not None else None
    except ValueError:
        return None
    if bodies is None or any(body is None for body in bodies):
        return None
    return list(zip(lines, bodies))
