"""One side of a comparison: what a tree of files declares, indexed for matching.

Built from files in memory (a git revision, the working tree or a folder) with the shared tree
readers: Kubernetes objects by (environment, group, kind, namespace, name), so that a move to
another file or an apiVersion change within a group is the same object; Terraform resources by
(file, type, name), because each stack folder has its own state; node pools with their cost;
and the Flux Kustomizations that decide what a deletion does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import NamedTuple

from aiops.cost.pools import PoolCost, pool_costs
from aiops.tree.fast_yaml import parse_many
from aiops.tree.flux import FluxKustomization, flux_kustomizations, owner_of
from aiops.tree.manifests import (
    KUSTOMIZE_FILES,
    MANIFEST_SUFFIXES,
    Manifest,
    ManifestTree,
    Problem,
    add_documents,
    environment_of,
    scan_manifest_files,
    split_documents,
)
from aiops.tree.terraform import TerraformResource, scan_terraform_files

ObjectKey = tuple[str, str, str, str, str]  # environment, group, kind, namespace, name
ResourceKey = tuple[str, str, str]  # file, type, name
OTHER = "(other)"  # files outside any environment folder

# Top-level blocks of Terraform JSON other than resources, compared as settings of the stack.
TERRAFORM_SETTINGS = ("terraform", "provider", "variable", "output", "locals", "data", "module")


def environment(file: str) -> str:
    return environment_of(file) or OTHER


@dataclass
class Snapshot:
    label: str
    root: str  # the compared folder relative to the repository root, e.g. "dist"
    files: Mapping[str, bytes]
    objects: dict[ObjectKey, Manifest] = field(default_factory=dict)
    duplicates: list[tuple[Manifest, Manifest]] = field(default_factory=list)
    kustomizations: list[FluxKustomization] = field(default_factory=list)
    resources: dict[ResourceKey, TerraformResource] = field(default_factory=dict)
    settings: dict[tuple[str, str], object] = field(default_factory=dict)  # (file, block address) -> value
    moved: dict[tuple[str, str], str] = field(default_factory=dict)  # (file, to-address) -> from-address
    pools: dict[tuple[str, str], PoolCost] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)  # every folder that holds a file

    @property
    def environments(self) -> set[str]:
        return {environment(f) for f in self.files}

    def has_files_under(self, folder: PurePosixPath) -> bool:
        return str(folder) in self.folders

    def covers(self, folder: PurePosixPath) -> bool:
        """Whether this snapshot holds the files of `folder` (so a missing folder really is missing)."""
        return folder.is_relative_to(self.root)


FLUX_MARKER = b"kustomize.toolkit.fluxcd.io"  # files that may hold Flux Kustomizations are always read whole


def build_snapshot(files: Mapping[str, bytes], label: str, root: str, parsed: dict | None = None,
                   manifests: ManifestTree | None = None) -> Snapshot:
    """What a tree declares. `manifests`: the Kubernetes objects already read (`build_pair` reads
    only what can have changed); None reads every YAML file. Terraform is always read whole: it is
    small, and costs need every pool."""
    snapshot = Snapshot(label=label, root=root, files=files)
    for path in files:  # repository-relative POSIX paths; string operations, as pathlib is slow here
        folder = path.rpartition("/")[0]
        while folder and folder not in snapshot.folders:  # a folder already seen has its parents too
            snapshot.folders.add(folder)
            folder = folder.rpartition("/")[0]
    if manifests is None:
        manifests = scan_manifest_files(files, parsed)
    snapshot.problems.extend(manifests.problems)
    for manifest in manifests.manifests:
        key = (environment(manifest.file), *manifest.key)
        if key in snapshot.objects:
            snapshot.duplicates.append((snapshot.objects[key], manifest))
        snapshot.objects[key] = manifest
    snapshot.kustomizations = flux_kustomizations(manifests.manifests)
    terraform = scan_terraform_files(files)
    snapshot.problems.extend(terraform.problems)
    for resource in terraform.resources:
        snapshot.resources[(resource.file, resource.type, resource.name)] = resource
    for file, document in terraform.files.items():
        for block in TERRAFORM_SETTINGS:
            value = document.get(block)
            if isinstance(value, dict) and block in ("provider", "variable", "output", "data", "module"):
                for name, body in value.items():
                    snapshot.settings[(file, f"{block}.{name}")] = body
            elif value is not None:
                snapshot.settings[(file, block)] = value
        for move in document.get("moved") or []:
            if isinstance(move, dict) and move.get("from") and move.get("to"):
                snapshot.moved[(file, str(move["to"]))] = str(move["from"])
    for cost in pool_costs(terraform):
        snapshot.pools[cost.key] = cost
    return snapshot


class _Piece(NamedTuple):  # a tuple: tens of thousands are made for a big diff
    file: str
    index: int
    line: int
    data: bytes


def _file_name(path: str) -> str:
    return path.rpartition("/")[2]


def _is_manifest_file(path: str) -> bool:
    name = _file_name(path)
    return name.endswith(MANIFEST_SUFFIXES) and name not in KUSTOMIZE_FILES


def build_pair(base: Mapping[str, bytes], head: Mapping[str, bytes], base_label: str, head_label: str,
               root: str, catalogs=None) -> tuple[Snapshot, Snapshot]:
    """Both sides of a comparison, parsing only the YAML documents that can have changed.

    A diff must cost what the change costs, not what the tree costs (parsing YAML is by far the
    slowest step). So:
    - files with the same bytes on both sides are not parsed: the same objects in the same place;
    - files that differ are cut into documents at their `---` markers, and a document whose bytes
      occur as often on both sides, in files the same Flux Kustomization applies, is not parsed
      either: the same object, at most moved to another file (which is not a change);
    - files that mention Flux Kustomizations are parsed whole on both sides, since they decide
      what a deletion does; a file with YAML directives or a piece that does not parse alone is
      parsed whole, so errors keep their real line;
    - what is parsed is read by `fast_yaml` (rapidyaml wherever its reading equals PyYAML's).
    `catalogs`: (text, where) of the project catalog that prices each side (its revision's
    catalog/instance_types.yaml); None prices both with the catalog in effect.
    The one thing this cannot see is an object defined twice: with one copy skipped, the other can
    show as added or removed. Duplicates are an error Flux itself stops on; `aiops validate` and
    `aiops flux check` report them.
    """
    parsed: dict = {}
    flux_files = [{p: d for p, d in side.items() if FLUX_MARKER in d and _is_manifest_file(p)} for side in (base, head)]
    trees = [scan_manifest_files(files, parsed) for files in flux_files]
    kustomizations = [flux_kustomizations(tree.manifests) for tree in trees]
    differing = {p for p in base.keys() | head.keys() if base.get(p) != head.get(p) and _is_manifest_file(p)}
    pieces: list[list[_Piece]] = [[], []]
    whole: list[set[str]] = [set(), set()]
    for side, files in enumerate((base, head)):
        for path in sorted(differing & files.keys()):
            if path in flux_files[side]:
                continue
            if files[path].startswith(b"%") or b"\n%" in files[path]:  # a YAML directive
                whole[side].add(path)
                continue
            pieces[side] += [_Piece(path, i, line, data) for i, (line, data) in enumerate(split_documents(files[path]))]
    counts = [Counter(piece.data for piece in side) for side in pieces]
    owners: dict[tuple[int, str], object] = {}

    def owner(side: int, file: str):
        """Where a document lands: its environment and the Kustomization that applies its file."""
        if (side, file) not in owners:
            found = owner_of(file, kustomizations[side])
            owners[(side, file)] = (environment(file), (found.namespace, found.name) if found else None)
        return owners[(side, file)]

    # Where each document that occurs as often on both sides lands (the others have changed anyway).
    same_owner: dict[bytes, set] = {}
    for side in (0, 1):
        for piece in pieces[side]:
            if counts[0][piece.data] == counts[1][piece.data]:
                same_owner.setdefault(piece.data, set()).add(owner(side, piece.file))
    partial: list[tuple[int, str, list[_Piece]]] = []  # (side, file, its changed documents)
    for side in (0, 1):
        by_file: dict[str, list[_Piece]] = {}
        in_file: Counter[str] = Counter()
        for piece in pieces[side]:
            in_file[piece.file] += 1
            unchanged = counts[0][piece.data] == counts[1][piece.data] and len(same_owner[piece.data]) == 1
            if not unchanged:
                by_file.setdefault(piece.file, []).append(piece)
        for path, selected in by_file.items():
            if len(selected) == in_file[path]:
                whole[side].add(path)  # every document changed: one parse of the file is cheaper
            else:
                partial.append((side, path, selected))
    # Both sides in one batch, so that a large one is shared between two processes.
    sides = (base, head)
    read = iter(parse_many([(piece.data, path) for _, path, selected in partial for piece in selected]
                           + [(sides[side][path], path) for side in (0, 1) for path in sorted(whole[side])]))
    partial_documents = [[next(read) for _ in selected] for _, _, selected in partial]
    whole_documents = {(side, path): next(read) for side in (0, 1) for path in sorted(whole[side])}
    for (side, path, _), results in zip(partial, partial_documents):
        if any(problems for _, problems in results):
            whole[side].add(path)  # a piece that does not parse alone: the whole file, for the real line
    retried = [(side, path) for side in (0, 1) for path in sorted(whole[side]) if (side, path) not in whole_documents]
    whole_documents.update(zip(retried, parse_many([(sides[side][path], path) for side, path in retried])))
    for (side, path, selected), results in zip(partial, partial_documents):
        if path in whole[side]:
            continue
        for piece, (documents, _) in zip(selected, results):
            moved = [(line + piece.line - 1, body, *node) for line, body, *node in documents]
            add_documents(trees[side], path, _file_name(path), moved, [], first_index=piece.index)
    for side in (0, 1):
        for path in sorted(whole[side]):
            documents, problems = whole_documents[(side, path)]
            add_documents(trees[side], path, _file_name(path), documents, problems)
    if catalogs is None:
        return (build_snapshot(base, base_label, root, manifests=trees[0]),
                build_snapshot(head, head_label, root, manifests=trees[1]))
    from aiops.model.catalog import using_catalog

    with using_catalog(*catalogs[0]):  # pool costs are priced as each snapshot is built
        before = build_snapshot(base, base_label, root, manifests=trees[0])
    with using_catalog(*catalogs[1]):
        after = build_snapshot(head, head_label, root, manifests=trees[1])
    return before, after
