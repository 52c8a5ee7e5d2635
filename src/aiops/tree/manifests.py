"""Kubernetes manifests in a tree of files: every YAML document, with its file and line."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from aiops.tree.shapes import mapping

from aiops.tree.files import KUSTOMIZE_FILES, LAYOUT_FOLDERS, MANIFEST_SUFFIXES, MAX_FILE_BYTES, _display, iter_files, special_file  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Problem:
    """A file or document that could not be read as a manifest (the validator reports these)."""

    file: str
    line: int | None
    kind: str  # unreadable | binary | too-large | unparsable | empty-document | not-kubernetes
    message: str


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object: a YAML document with apiVersion, kind and metadata.name."""

    file: str
    index: int  # position of the document in its file, from 0
    line: int  # 1-based line where the document starts
    body: dict[str, Any] = field(repr=False, compare=False)
    node: yaml.Node | None = field(default=None, repr=False, compare=False)  # the parsed YAML, for line numbers

    def line_of(self, path: Iterable[str | int]) -> int:
        """The line of the field at `path` (keys and list indexes), or of its deepest existing parent."""
        node = self.node if self.node is not None else _lazy_node(self.file, self.index)
        return line_in(node, path) or self.line

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str(mapping(self.body.get("metadata")).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(mapping(self.body.get("metadata")).get("namespace", "") or "")

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies the object in a cluster: (group, kind, namespace, name)."""
        metadata = mapping(self.body.get("metadata"))  # once, not once per part: a diff asks every object
        return (self.group, self.kind, str(metadata.get("namespace", "") or ""), str(metadata.get("name", "")))

    @property
    def environment(self) -> str | None:
        return environment_of(self.file)

    def describe(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


@functools.lru_cache(maxsize=65536)  # asked for every object, and trees have thousands of them per file
def environment_of(file: str) -> str | None:
    """The environment a dist/ path belongs to: the folder above cluster/, apps/, terraform/, ..."""
    parts = Path(file).parts
    for index, part in enumerate(parts[1:], start=1):
        if part in LAYOUT_FOLDERS:
            return parts[index - 1]
    return None


def line_in(node: yaml.Node | None, path: Iterable[str | int]) -> int | None:
    """1-based line of the value at `path` below a YAML node: the key's line for a mapping
    entry, the item's line for a list entry; the deepest existing parent's when the path ends early."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            entry = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(step)), None)
            if entry is None:
                return line
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, yaml.SequenceNode):
            try:
                node = node.value[int(step)]
            except (ValueError, IndexError):
                return line
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_documents(path: Path, shown: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Each YAML document of a file with its start line, or the problem that stopped reading."""
    documents, problems = read_document_nodes(path, shown)
    return [(line, body) for line, body, _ in documents], problems


def read_document_nodes(path: Path, shown: str) -> tuple[list[tuple[int, Any, yaml.Node]], list[Problem]]:
    """Like `read_documents`, with each document's YAML node too (for the line of any field)."""
    try:
        what = special_file(path)
        if what:
            return [], [Problem(shown, None, "unreadable", f"is {what}, not a regular file: not read (it could wait forever)")]
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [Problem(shown, None, "too-large", f"{size} bytes is more than the {MAX_FILE_BYTES} this tool reads")]
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(shown, None, "unreadable", exc.strerror or str(exc))]
    return parse_documents(raw, shown)


def parse_documents(raw: bytes, shown: str, *, keep_nodes: bool = True) -> tuple[list[tuple], list[Problem]]:
    """Each YAML document of a file's bytes, or the problem that stopped reading.

    A document is (start line, body, YAML node) so that the validator can find the line of any
    field; readers that need no more than the document's line (`aiops diff`, on trees of
    thousands of objects) pass keep_nodes=False and get (start line, body): holding every node
    alive costs them more than the parse itself (Python's collector walks them all, again and
    again)."""
    if len(raw) > MAX_FILE_BYTES:
        return [], [Problem(shown, None, "too-large", f"{len(raw)} bytes is more than the {MAX_FILE_BYTES} this tool reads")]
    if b"\0" in raw[:8192]:
        return [], [Problem(shown, None, "binary", "is a binary file, not YAML")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(shown, None, "binary", f"is not UTF-8 text ({exc.reason} at byte {exc.start})")]
    documents: list[tuple[int, Any, yaml.Node]] = []
    loader = yaml.CSafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            body = loader.construct_document(node)
            documents.append((node.start_mark.line + 1, body, node) if keep_nodes else (node.start_mark.line + 1, body))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = " ".join(p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) or str(exc)
        return documents, [Problem(shown, mark.line + 1 if mark else None, "unparsable", f"YAML syntax error: {problem}")]
    finally:
        loader.dispose()
    return documents, []


# A line break then `---`: searched in the text after a line break, so that the first line counts
# too. (A literal first character lets the regex engine skip ahead; `^` in MULTILINE mode tries
# every position and took five times as long.)
_DOCUMENT_START = re.compile(rb"\n---(?=[ \t\r\n]|$)")


def split_documents(raw: bytes) -> list[tuple[int, bytes]]:
    """A file's bytes cut before each `---` document marker: (1-based start line, bytes) per piece.

    YAML forbids a line that starts with `---` and a blank inside any scalar, so such a line always
    starts a document; parsing each piece alone gives the documents the whole file gives (a piece
    may hold only comments, or YAML directives, which the caller must check for).
    """
    starts = [m.start() for m in _DOCUMENT_START.finditer(b"\n" + raw)]  # the offset of `---` in raw
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    pieces = []
    line = 1
    for begin, end in zip(starts, [*starts[1:], len(raw)]):
        piece = raw[begin:end]
        pieces.append((line, piece))
        line += piece.count(b"\n")
    return pieces


@dataclass
class ManifestTree:
    manifests: list[Manifest] = field(default_factory=list)
    kustomize_files: list[tuple[str, dict]] = field(default_factory=list)  # kustomization.yaml files
    problems: list[Problem] = field(default_factory=list)
    # YAML mappings without apiVersion/kind (each also has a not-kubernetes Problem): environment
    # files, Helm values, ... kept so that a caller can recognise and check them its own way.
    other_documents: list[Manifest] = field(default_factory=list)


def scan_manifests(paths: Iterable[Path], root: Path | None = None) -> ManifestTree:
    """Every Kubernetes object in the YAML files under `paths`; what is not one becomes a Problem.

    Files are named relative to `root` when given (e.g. a checkout), else to the working folder.
    """
    tree = ManifestTree()
    for path in iter_files(paths, MANIFEST_SUFFIXES):
        shown = _display(path, root)
        documents, problems = read_document_nodes(path, shown)
        add_documents(tree, shown, path.name, documents, problems)
    return tree


# Files read without YAML nodes (`scan_manifests_fast`): their bytes, to compose the nodes of one
# file only when a finding asks for the line of a field in it.
_LAZY_SOURCES: dict[str, bytes] = {}
_LAZY_NODES: dict[str, list[yaml.Node]] = {}


def _lazy_node(file: str, index: int) -> yaml.Node | None:
    raw = _LAZY_SOURCES.get(file)
    if raw is None:
        return None
    if file not in _LAZY_NODES:
        documents, _ = parse_documents(raw, file)
        _LAZY_NODES[file] = [node for _, _, node in documents]
    nodes = _LAZY_NODES[file]
    return nodes[index] if 0 <= index < len(nodes) else None


def scan_manifests_fast(paths: Iterable[Path], root: Path | None = None) -> ManifestTree:
    """`scan_manifests`, with the documents read by the fast reader (`fast_yaml`, the same answer
    as PyYAML) and without YAML nodes: `Manifest.line_of` composes a file's nodes when first asked.
    On ten thousand objects, building every node in Python took most of a validation's time."""
    from aiops.tree.fast_yaml import parse_many

    tree = ManifestTree()
    read: list[tuple[bytes, str, str]] = []
    for path in iter_files(paths, MANIFEST_SUFFIXES):
        shown = _display(path, root)
        try:
            what = special_file(path)
            if what:
                tree.problems.append(Problem(shown, None, "unreadable", f"is {what}, not a regular file: not read (it could wait forever)"))
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                tree.problems.append(Problem(shown, None, "too-large", f"{size} bytes is more than the {MAX_FILE_BYTES} this tool reads"))
                continue
            raw = path.read_bytes()
        except OSError as exc:
            tree.problems.append(Problem(shown, None, "unreadable", exc.strerror or str(exc)))
            continue
        read.append((raw, shown, path.name))
    parsed = parse_many([(raw, shown) for raw, shown, _ in read])
    for (raw, shown, name), (documents, problems) in zip(read, parsed):
        if any(isinstance(body, dict) and _is_list(body) for _, body, *_ in documents):
            documents, problems = parse_documents(raw, shown)  # List items need their nodes for their lines
        else:
            _LAZY_SOURCES[shown] = raw
            _LAZY_NODES.pop(shown, None)
        add_documents(tree, shown, name, documents, problems)
    return tree


def scan_manifest_files(files: Mapping[str, bytes], parsed: dict[bytes, tuple] | None = None) -> ManifestTree:
    """Like `scan_manifests`, for files held in memory (e.g. read from a git revision), by path.

    `parsed` caches the parse of each distinct content: two revisions of a tree share most of
    their files, and a shared cache parses each of those once (the objects are never mutated).
    """
    from aiops.tree.fast_yaml import parse_many  # it builds on this module

    tree = ManifestTree()
    cache = {} if parsed is None else parsed
    chosen = [shown for shown in sorted(files)
              if PurePosixPath(shown).name.endswith(MANIFEST_SUFFIXES)
              and not any(part.startswith(".") for part in PurePosixPath(shown).parts[:-1])]
    unread = {files[shown]: shown for shown in chosen if files[shown] not in cache}
    cache.update(zip(unread, parse_many([(raw, shown) for raw, shown in unread.items()])))
    for shown in chosen:
        documents, problems = cache[files[shown]]
        add_documents(tree, shown, PurePosixPath(shown).name, documents, [replace(p, file=shown) for p in problems])
    return tree


def add_documents(tree: ManifestTree, shown: str, name: str, documents: list[tuple], problems: list[Problem],
                  first_index: int = 0) -> None:
    """Sort a file's parsed documents into the tree: objects, kustomization.yaml, or problems.

    Each document is (start line, body) or (start line, body, YAML node); with the node, the
    line of any field of the object can be found later (`Manifest.line_of`)."""
    tree.problems.extend(problems)
    if name in KUSTOMIZE_FILES:
        if documents and isinstance(documents[0][1], dict):
            tree.kustomize_files.append((shown, documents[0][1]))
        return
    # Documents without content (a stray `---`) are skipped at the document boundary by YAML
    # itself; an explicit empty document (`--- ~`) is reported.
    for index, (line, body, *node) in enumerate(documents, start=first_index):
        if body is None:
            tree.problems.append(Problem(shown, line, "empty-document", f"document {index + 1} is empty"))
        elif not isinstance(body, dict) or "apiVersion" not in body or "kind" not in body:
            lacking = " and ".join(k for k in ("apiVersion", "kind") if not isinstance(body, dict) or k not in body)
            tree.problems.append(Problem(shown, line, "not-kubernetes", f"document {index + 1} has no {lacking}"))
            if isinstance(body, dict):
                tree.other_documents.append(Manifest(shown, index, line, body, *node))
        elif _is_list(body):
            # kubectl and kustomize apply a List's items, not the List: each item is an object.
            tree.manifests.extend(_list_items(shown, index, line, body, node[0] if node else None))
        else:
            tree.manifests.append(Manifest(shown, index, line, body, *node))


def _is_list(body: dict) -> bool:
    """A `kind: List` (or PodList, ConfigMapList, ...) of v1 whose items are objects."""
    items = body.get("items")
    return (str(body.get("kind", "")).endswith("List") and str(body.get("apiVersion", "")) == "v1"
            and isinstance(items, list) and bool(items) and all(isinstance(i, dict) and "kind" in i for i in items))


def _list_items(shown: str, index: int, line: int, body: dict, node: yaml.Node | None) -> list[Manifest]:
    items_node = None
    if isinstance(node, yaml.MappingNode):
        items_node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "items"), None)
    found = []
    for position, item in enumerate(body["items"]):
        item_node = items_node.value[position] if isinstance(items_node, yaml.SequenceNode) and position < len(items_node.value) else None
        item_line = item_node.start_mark.line + 1 if item_node is not None else line
        found.append(Manifest(shown, index, item_line, item, item_node))
    return found
