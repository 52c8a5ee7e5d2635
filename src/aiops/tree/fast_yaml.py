"""Reading many YAML documents quickly, with exactly the result PyYAML gives.

`aiops diff` reads trees of ten thousand objects. PyYAML parses in C but builds every value in
Python: about 2.5 s per 5 MB here, most of a diff's time. rapidyaml (C++, the `rapidyaml`
wheel) parses and writes JSON, which orjson reads into Python values: with the checks below,
about half a second for the same 5 MB on this machine, and a large batch is shared between two
processes (`_read_all`).

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
- no flow collection (`[...]`, `{...}`) over several lines, none with a comment or a `?` in
  it, and no `:` right before a flow indicator: there the two differ in ways a text check
  cannot follow;
- rapidyaml reads it, with as many documents as the `---` markers delimit, its JSON parses
  (without NaN or Infinity), and no document is empty.

A file that fails any of these is read whole by PyYAML (`manifests.parse_documents`), which
also reports the errors. The checks look at the text, so they err on the side of PyYAML (a
`yes` in a block of prose sends its file there). tests/test_fast_yaml.py proves the two readers
agree on dist/, the upstream samples and CRDs, YAML 1.1 traps in every place a scalar can stand,
the flow-collection cases, and random documents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import orjson
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
# Read alike by both (and by orjson: integers up to 18 digits, as it reads longer ones as floats).
_ALIKE = r"true|false|null|-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]*)?"

_RESOLVED_NOT_ALIKE = re.compile(f"(?!(?:{_ALIKE})$)(?:{_RESOLVED})".encode())
_RESOLVED_ANY = re.compile(f"(?:{_RESOLVED}|{_ALIKE})".encode())

# Where a plain scalar can begin: after `key: `, after `- ` or `? `, at the start of a line (a
# key, or a document that is one scalar), and inside flow collections. Collected there: scalars
# whose first character could make them anything but a string (a digit, sign or dot; ~ < = for
# null, merge and value; ! & * for tags, anchors and aliases; @ ` : % ? for errors and empty
# keys), and the words PyYAML reads as booleans or null, in any case, where they end a scalar or
# a key. Each distinct one is judged once by PyYAML's own patterns (`_is_trap`). (Collecting
# every scalar that merely begins with y, n, o, t or f, like `namespace` or `obj-1`, cost more
# than the rest of the check.) Each search starts with a literal, which Python's re finds fast
# (a set of characters, like [-?], takes it several times as long), and matches the spaces
# before a scalar possessively (`*+`): a scalar never starts with a space, and giving
# indentation back one space at a time made the line-start search seven times as slow.
_WORDS = rb"[yY][eE][sS]|[nN](?:[oO]|[uU][lL][lL])|[oO](?:[nN]|[fF][fF])|[tT][rR][uU][eE]|[fF][aA][lL][sS][eE]"
_FIRST = rb"(?:[-+.0-9~<=!&*@`:%?]|(?:" + _WORDS + rb")(?=[ \r]*(?:[:\n#,\]}]|$)))"
_REST = rb"[^\n#,\]}]*)"
_SCALAR_STARTS: list[re.Pattern[bytes]] = [
    re.compile(rb": ++(" + _FIRST + _REST),
    re.compile(rb"- ++(" + _FIRST + _REST),
    re.compile(rb"\? ++(" + _FIRST + _REST),
    # (At the start of a line, not `- ` or `---`: the `- ` search sees what follows an item's dash.)
    re.compile(rb"\n[ ]*+(?![-?] |--)(" + _FIRST + _REST),
    re.compile(rb"\[ *+(" + _FIRST + _REST),
    re.compile(rb"\{ *+(" + _FIRST + _REST),
    re.compile(rb", *+(" + _FIRST + _REST),
    # In a flow collection a colon after a quoted key (or a space, or a closing bracket) is a
    # value indicator even with no space after it: PyYAML reads {"a":yes} as {'a': True}.
    # Any value there is collected, as PyYAML refuses some that rapidyaml reads ({"a":%x}).
    *(re.compile(re.escape(literal) + rb"([^ \t\r\n\"'\[{]" + _REST) for literal in (b'":', b"':", b" :", b"]:", b"}:")),
]
# Anywhere in the text: .inf or .nan, which rapidyaml writes in its own spelling even when
# quoted (and, checked with `in`, directives, document ends and tabs, which PyYAML refuses in
# more places than rapidyaml).
_INF_NAN = re.compile(rb"\.(?:[iI][nN][fF]|[nN][aA][nN])")
_DOCUMENT_END = re.compile(rb"\n\.\.\.(?=[ \t\r\n])")
# Flow collections ([...] and {...}) are where the two readers differ most, so only those that
# open and close on one line are trusted, and only without a comment or a `?` after the opening
# bracket: rapidyaml reads `{b: x #c}` as {"b": "x #c"} and `[x?y]` as ["x?y"], where PyYAML ends
# the scalar at ` #` (and the line) or at `?` (which starts a key there).
_FLOW_COMMENT_OR_KEY = re.compile(rb"[\[{][^\n]*(?: #|\?)")
# A colon right before a flow indicator: libyaml, under PyYAML, refuses `[x:]` ("found unexpected
# ':'"), rapidyaml reads [{"x": null}].
_COLON_THEN_FLOW = re.compile(rb":[,\[\]{}]")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}\n")))
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
    if token[:1] in b"!&*" and token[1:2] not in (b"", b" ") or token[:1] in b"@`%|>:?":
        # a tag, anchor or alias; a reserved or misplaced indicator; a key left out or left
        # empty; or, in a flow collection, where PyYAML reads `:x` as `: x` and `?x` as `? x`,
        # a value or key indicator
        return True
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
    if (b"\t" in text or b"\n%" in text or _DOCUMENT_END.search(text) or _INF_NAN.search(text)
            or (b" #" in text or b"?" in text) and _FLOW_COMMENT_OR_KEY.search(text) or _COLON_THEN_FLOW.search(text)
            or _has_multiline_flow(text)):
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


def _has_multiline_flow(text: bytes) -> bool:
    """Whether a bracket opened on a line is not closed on it: a flow collection over several
    lines (or a bracket in a string or block scalar, which the text alone cannot tell apart)."""
    if b"[" not in text and b"{" not in text:
        return False
    brackets = text.translate(None, _NOT_BRACKETS)  # brackets and line breaks only, in C
    while True:  # take out pairs opened and closed on one line, innermost first
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if shorter == brackets:
            return b"[" in brackets or b"{" in brackets
        brackets = shorter


def _has_special_characters(raw: bytes) -> bool:
    if not raw.translate(None, _PRINTABLE_ASCII):
        return False
    return _SPECIAL.search(raw) is not None or not _is_utf8(raw)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
    return [(documents, []) if documents is not None else parse_documents(raw, shown, keep_nodes=False)
            for (raw, shown), documents in zip(texts, _read_all([raw for raw, _ in texts]))]


def read_fast(raw: bytes) -> list[tuple[int, Any]] | None:
    """A text's documents as (start line, body), read by rapidyaml; None when its reading could
    differ from PyYAML's (or rapidyaml cannot read the text), and PyYAML must read it."""
    with _quiet_stderr():
        return _read(raw)


# Below this many bytes a second process costs more than it saves (starting and ending it takes
# about 15 ms here).
PARALLEL_MIN_BYTES = 1 << 20


def _read_all(raws: list[bytes], workers: int | None = None) -> list[list[tuple[int, Any]] | None]:
    """`read_fast` of each text. A large batch (a diff that rewrites a tree) is cut in two halves
    of about equal size: a forked process converts one to JSON while this one reads the other,
    as the checks and rapidyaml are most of the reading, and most machines have a second core.
    Only the JSON text comes back (bytes travel cheaply between processes; built Python values
    would cost as much to send as to build). Where fork is missing, or the child fails, this
    process reads everything itself: the answer is the same either way."""
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = min(2, cores)
    if workers < 2 or sum(map(len, raws)) < PARALLEL_MIN_BYTES or "fork" not in _start_methods():
        return _read_list(raws)
    cut = _halfway(raws)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The child is forked with the texts in its memory; sending them as the call's argument
    # would copy megabytes through a pipe first (it started about 30 ms later).
    _FOR_THE_CHILD[:] = raws[:cut]
    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        theirs = pool.submit(_convert_in_child, cut)
    except Exception:  # noqa: BLE001 - no second process here (a daemonic caller, a process limit)
        return _read_list(raws)
    finally:
        _FOR_THE_CHILD.clear()  # this process's copy: the child has its own
    with pool:
        mine = _read_list(raws[cut:])
        try:
            first = [_load(converted) if converted is not None else None for converted in theirs.result()]
        except Exception:  # noqa: BLE001 - a child that died (out of memory, killed): do its half here
            first = _read_list(raws[:cut])
    return first + mine


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _halfway(raws: list[bytes]) -> int:
    """The index that cuts `raws` into two runs of about equal total size."""
    half, total = sum(map(len, raws)) / 2, 0
    for index, raw in enumerate(raws):
        total += len(raw)
        if total >= half:
            return index + 1
    return len(raws)


_FOR_THE_CHILD: list[bytes] = []


def _convert_in_child(count: int) -> list[Converted | None]:
    if len(_FOR_THE_CHILD) != count:  # forked before the texts were set: the caller reads them itself
        raise RuntimeError("the texts did not reach the child process")
    with _quiet_stderr():
        return [_convert(raw) for raw in _FOR_THE_CHILD]


def _read_list(raws: list[bytes]) -> list[list[tuple[int, Any]] | None]:
    with _quiet_stderr():
        return [_read(raw) for raw in raws]


def _read(raw: bytes) -> list[tuple[int, Any]] | None:
    converted = _convert(raw)
    return _load(converted) if converted is not None else None


# A text as rapidyaml read it: the start line of each document, and one JSON array of them.
Converted = tuple[list[int], str]


def _convert(raw: bytes) -> Converted | None:
    """What rapidyaml reads in a text, as JSON; None when its reading could differ from PyYAML's,
    it cannot read the text, or it finds other documents than the `---` markers delimit."""
    if len(raw) > MAX_FILE_BYTES or b"\0" in raw[:8192] or _has_special_characters(raw) or _has_traps(raw):
        return None
    lines = []
    for start, piece in split_documents(raw):
        line = _content_line(piece)
        if line is None:
            if piece.lstrip().startswith(b"---"):
                return None  # an empty document: PyYAML decides what it is
            continue
        lines.append(start + line - 1)
    if not lines:
        return [], "[]"  # comments and blank lines only: no document
    try:
        tree = ryml.parse_in_arena(raw)  # the whole text at once: a quarter faster than piece by piece
        root = tree.root_id()
        documents = list(ryml.children(tree, root)) if tree.is_stream(root) else [root]
        if len(documents) != len(lines):
            return None
        emitted = [ryml.emit_json(tree, document) for document in documents]
    except Exception:  # noqa: BLE001 - whatever rapidyaml cannot do, PyYAML does (and reports)
        return None
    if not all(emitted):
        return None
    return lines, "[" + ",".join(emitted) + "]"


def _load(converted: Converted) -> list[tuple[int, Any]] | None:
    lines, text = converted
    try:
        bodies = orjson.loads(text)  # strict JSON: NaN and Infinity are errors, as they must be here
    except orjson.JSONDecodeError:
        return None
    if any(body is None for body in bodies):
        return None
    return list(zip(lines, bodies))
