"""aiops/tree/fast_yaml.py must give exactly what PyYAML gives, only faster.

PyYAML (through `parse_documents`) is the oracle: for every file and snippet the fast reader's
documents, lines and problems must equal PyYAML's, and the YAML 1.1 traps must be handed to
PyYAML rather than read by rapidyaml.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from aiops.tree.fast_yaml import parse_many, read_fast
from aiops.tree.manifests import parse_documents
from conftest import REPO
from validate_helpers import SAMPLES

UPSTREAM = SAMPLES.parent


def _corpus() -> list[Path]:
    roots = [REPO / "dist", REPO / "environments", REPO / "tests" / "data", UPSTREAM]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _fast(raw: bytes) -> bool:
    """Whether rapidyaml (not the PyYAML fallback) reads the text."""
    return read_fast(raw) is not None


def _same_as_pyyaml(raw: bytes, shown: str = "f.yaml") -> None:
    assert parse_many([(raw, shown)]) == [parse_documents(raw, shown, keep_nodes=False)], raw


def test_every_real_file_reads_as_pyyaml_reads_it():
    files = _corpus()
    assert len(files) > 60
    texts = [(path.read_bytes(), str(path)) for path in files]
    assert parse_many(texts) == [parse_documents(raw, shown, keep_nodes=False) for raw, shown in texts]


def test_the_fast_reader_reads_the_reference_tree_itself():
    """Not a vacuous equality: rapidyaml, not the PyYAML fallback, reads nearly all of dist/."""
    pieces = [piece for path in sorted((REPO / "dist").rglob("*.yaml"))
              for piece in path.read_bytes().split(b"\n---\n") if piece.strip()]
    trusted = sum(1 for piece in pieces if _fast(piece))
    assert trusted >= 0.9 * len(pieces), f"{trusted} of {len(pieces)}"


# YAML 1.1 as PyYAML reads it, where rapidyaml (YAML 1.2) reads something else: each must go to PyYAML.
TRAPS = [
    "a: ~", "a: Null", "a: NULL", "a: True", "a: FALSE", "a: yes", "a: No", "a: on", "a: OFF",
    "a: 0755", "a: 010", "a: 0x1F", "a: 0b101", "a: 1_000", "a: +12", "a: 1:20", "a: 1:20.5",
    "a: 1e3", "a: 1.5e3", "a: -2E-4", "a: .5", "a: .inf", "a: -.Inf", "a: .NaN",
    "a: 2026-01-01", "a: 2026-01-01T10:00:00Z", "a: 2001-12-14 21:59:43.10 -5",
    "1: a", "-1.5: a", "true: a", "null: a", "yes: a", "~: a", "2026-01-01: a",
    "x: &anchor 1\ny: *anchor", "base: &b {k: 1}\nmerged:\n  <<: *b\n  j: 2", "a: !!str 12", "a: !custom x",
    "- yes\n- no", "a: [yes, 1e3]", "a: {b: on}", "? yes\n: 1", "a: =",
    "%YAML 1.1\n---\na: 1", "a: 1\n...\n", "a:\n\t- 1",
    # In flow collections `:` after a quoted key needs no space: PyYAML reads {"b":yes} as {'b': True}.
    'a: {"b":yes}', "a: {'b':0755}", 'a: {"b" :~}', 'a: ["b":on]', 'a: {"b":!!str 1}',
    # ... and `?x` is a key: PyYAML reads [?x] as [{'x': None}], [?] as [{None: None}].
    "a: [?x]", "a: [b, ?]", "- ?",
    # An integer of more than 18 digits: orjson, which reads rapidyaml's JSON, would make it a float.
    "a: 12345678901234567890",
    # A comment or a `?` inside a flow collection: rapidyaml keeps them in the scalar, PyYAML
    # does not; and flow collections over several lines, where more such differences hide.
    "a: {b: x #c}", "a: [x #c]", "a: [x?y]", "a: {? x:?y}", "a: [\n  x:?y\n]", "a: {b: [1],\n  c: 2}",
    "a: [x:]", "a: {x:, y: 1}",
]


@pytest.mark.parametrize("text", TRAPS)
def test_yaml_1_1_traps_are_left_to_pyyaml(text):
    raw = text.encode() + b"\n"
    _same_as_pyyaml(raw)
    assert not _fast(raw), f"rapidyaml's reading of {text!r} was trusted"


# Forms both read alike, in every place a scalar can stand: rapidyaml's reading is trusted and equal.
ALIKE = ["true", "false", "null", "0", "-0", "7", "-12", "123456789012345678", "0.5", "-3.25", "1.", "09",
         "'yes'", '"0755"', '"~"', "'1e3'", '"true"', "plain text", "it's", "a:b", "http://x:80/y", "50%", "'*'",
         '"say \\"hi\\"\\t\\u00e9"', "'single ''quoted'''", "é ü 日本", "'#not a comment'", "v1.2.3", "1.2.3.4", "NaN", "Infinity"]
VALUE_PLACES = ["a: {}", "- {}", "a: [{}]", "a: [x, {}]", "a: {{b: {}}}", "a:\n- - {}"]
KEY_PLACES = ["a:\n  {}: nested", "a: {{{}: x}}", "- {}: item"]
PLACES = VALUE_PLACES + KEY_PLACES
NOT_STRINGS = {"true", "false", "null", "0", "-0", "7", "-12", "123456789012345678", "0.5", "-3.25", "1."}


@pytest.mark.parametrize("place", VALUE_PLACES)
def test_values_both_read_alike_take_the_fast_path(place):
    for value in ALIKE:
        raw = place.format(value).encode() + b"\n"
        _same_as_pyyaml(raw)
        assert _fast(raw), f"{raw!r} went to PyYAML"


@pytest.mark.parametrize("place", KEY_PLACES)
def test_keys_take_the_fast_path_only_when_pyyaml_reads_them_as_strings(place):
    """JSON keys are always strings; PyYAML reads a plain `7:` as the number 7."""
    for value in ALIKE:
        raw = place.format(value).encode() + b"\n"
        _same_as_pyyaml(raw)
        assert _fast(raw) == (value not in NOT_STRINGS), raw


def test_every_trap_in_every_place_reads_as_pyyaml_reads_it():
    values = [t.split(": ", 1)[1] for t in TRAPS if t.startswith("a: ") and "\n" not in t]
    for place, value in itertools.product(PLACES, values):
        _same_as_pyyaml(place.format(value).encode() + b"\n")


BLOCKS = [
    "a: |\n  line one\n  yes\n\n", "a: >-\n  folded\n  text\n", "a: |+\n  kept\n\n\n", "a: 'multi\n  line'\n",
    "a: plain\n  continued on\n  yes\n", "# only a comment\n", "---\n", "--- ~\n", "---\n# c\n---\na: 1\n",
    "a: 1\n---\n---\nb: 2\n", "--- {a: 1}\n", "--- |\n  text\n", "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\n",
    "\ufeffa: 1\n", "a: \x85\n", "a: b\u2028c\n", "a: [1, 2\n", "a: 'open\n", "a: b: c\n", "a:\n- b\n  c: d\n",
    "a: 1\na: 2\n", "a:\n  - b: 1\n    c: [x, {d: e}]\n", "- - nested\n  - list\n", "key with spaces: v\n",
    "a: \"\\x41\\N\"\n", "apiVersion: v1\nkind: List\nitems: []\n", "a: b # comment: yes\n",
]


@pytest.mark.parametrize("text", BLOCKS)
def test_structures_and_bad_yaml_read_as_pyyaml_reads_them(text):
    _same_as_pyyaml(text.encode("utf-8"))


def test_lines_are_where_pyyaml_puts_them():
    raw = b"# header\n\n---\n# about x\napiVersion: v1\nkind: A\n---   # trailing\n\nkind: B\napiVersion: v1\n--- {apiVersion: v1, kind: C}\n"
    documents, problems = parse_many([(raw, "f.yaml")])[0]
    assert [line for line, _ in documents] == [5, 9, 11]
    assert problems == []
    _same_as_pyyaml(raw)


def test_binary_huge_and_non_utf8_files_are_pyyaml_problems():
    for raw in (b"\0\1binary", b"a: \xff\xfe\n", b"a: " + b"x" * (6 * 1024 * 1024)):
        documents, problems = parse_many([(raw, "f.yaml")])[0]
        assert problems and problems == parse_documents(raw, "f.yaml", keep_nodes=False)[1]


def test_parse_errors_print_nothing(capfd):
    parse_many([(b"a: [1, 2\n", "f.yaml"), (b"? [a]\n: 1\n", "g.yaml")])
    assert capfd.readouterr().err == ""


def test_random_documents_read_as_pyyaml_reads_them():
    """Documents built at random from scalars both readers agree on, YAML 1.1 traps, comments,
    block scalars, nesting and syntax errors: the fast reader always answers as PyYAML does."""
    import random

    rng = random.Random(20261128)
    safe = ALIKE + ["name", "a-b", "-x", ":x", "x:", "k=v", "a,b", "(x)", "a|b", "a>b", "%x", "!", "~x", "x~", "[]", "{}",
                    "[a, 1, true]", "{a: 1, b: [x, y]}", "x #c", "a#b", "1.0e+3"]
    traps = [t.split(": ", 1)[1] for t in TRAPS if t.startswith("a: ") and "\n" not in t] + ["@a", "`b`", "*x", "&y z"]

    def scalar() -> str:
        return rng.choice(traps) if rng.random() < 0.05 else rng.choice(safe)

    def node(depth: int, indent: int) -> str:
        roll, pad = rng.random(), " " * indent
        if depth > 3 or roll < 0.35:
            return " " + scalar() + rng.choice(["", "", " # c"]) + "\n"
        if roll < 0.42:
            return " |\n" + "".join(f"{pad}  {rng.choice(safe)}\n" for _ in range(rng.randint(1, 3)))
        if roll < 0.46:
            return f" {rng.choice(safe)}\n{pad}  {rng.choice(safe)}\n"
        if roll < 0.50:  # quoted keys in a flow mapping, where `:` needs no space after it
            return " {" + ", ".join(f'"{rng.choice(["k", "a b", "yes"])}"{rng.choice([":", ": ", " :"])}{scalar()}'
                                    for _ in range(rng.randint(1, 3))) + "}\n"
        if roll < 0.75:
            return "\n" + "".join(f"{pad}  {scalar()}:{node(depth + 1, indent + 2)}" for _ in range(rng.randint(1, 4)))
        return "\n" + "".join(f"{pad}  -{node(depth + 1, indent + 2)}" for _ in range(rng.randint(1, 3)))

    trusted = 0
    for _ in range(3000):
        text = "".join(f"{scalar()}:{node(0, 0)}" for _ in range(rng.randint(1, 4)))
        text = rng.choice(["", "", "---\n", "# head\n---\n"]) + text
        raw = text.encode()
        _same_as_pyyaml(raw)
        trusted += _fast(raw)
    assert trusted > 250  # the fast path really was taken, often


def _big_batch() -> list[bytes]:
    from aiops.tree.fast_yaml import PARALLEL_MIN_BYTES

    corpus = [path.read_bytes() for path in _corpus()]
    raws = corpus * (PARALLEL_MIN_BYTES // sum(map(len, corpus)) + 1)
    assert sum(map(len, raws)) >= PARALLEL_MIN_BYTES
    return raws


def test_a_large_batch_is_shared_with_a_second_process_and_read_the_same():
    from aiops.tree import fast_yaml

    raws = _big_batch()
    both = fast_yaml._read_all(raws, workers=2)
    assert both == fast_yaml._read_all(raws, workers=1)
    assert sum(documents is not None for documents in both) > 0.5 * len(raws)  # rapidyaml read most


def test_a_large_batch_really_takes_two_processes(monkeypatch):
    import os

    from aiops.tree import fast_yaml

    # Every text "converts" to the id of the process that converted it (the fork inherits this).
    monkeypatch.setattr(fast_yaml, "_convert", lambda raw: ([1], f"[{os.getpid()}]"))
    raws = _big_batch()
    readers = [documents[0][1] for documents in fast_yaml._read_all(raws, workers=2)]
    cut = fast_yaml._halfway(raws)
    assert 0 < cut < len(raws)
    assert readers[cut:] == [os.getpid()] * (len(raws) - cut)
    assert len(set(readers[:cut])) == 1 and readers[0] != os.getpid()
    assert {documents[0][1] for documents in fast_yaml._read_all(raws, workers=1)} == {os.getpid()}


def test_when_the_second_process_dies_this_one_reads_its_half(monkeypatch):
    import os

    from aiops.tree import fast_yaml

    parent, convert = os.getpid(), fast_yaml._convert

    def dies_in_the_child(raw):
        if os.getpid() != parent:
            os._exit(3)  # as if killed, e.g. out of memory
        return convert(raw)

    raws = _big_batch()
    expected = fast_yaml._read_all(raws, workers=1)
    monkeypatch.setattr(fast_yaml, "_convert", dies_in_the_child)
    assert fast_yaml._read_all(raws, workers=2) == expected
