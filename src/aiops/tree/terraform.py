"""Terraform JSON (cdk.tf.json and other *.tf.json) in a tree: resources by type and name."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from aiops.tree.manifests import Problem, _display, environment_of, iter_files
from aiops.tree.shapes import mapping

TERRAFORM_SUFFIX = ".tf.json"
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class TerraformResource:
    file: str
    type: str
    name: str
    body: dict[str, Any] = field(repr=False, compare=False)
    line: int | None = field(default=None, compare=False)  # where its block starts in the file

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def environment(self) -> str | None:
        return environment_of(self.file)

    @property
    def stack(self) -> str:
        return Path(self.file).parent.name

    def references(self, value: Any = None) -> list[tuple[str, str]]:
        """The resources (type, name) that a value of this resource refers to as ${type.name...}."""
        text = json.dumps(self.body if value is None else value)
        return [(m.group(1), m.group(2)) for m in _REFERENCE.finditer(text) if m.group(1) not in ("var", "local", "data")]


@dataclass
class TerraformTree:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: list[TerraformResource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _texts: dict[str, str] = field(default_factory=dict, repr=False)

    def line_of(self, resource: TerraformResource, *path: str) -> int | None:
        """The line of a resource's attribute (or of the resource) in its file.

        JSON has no line numbers once parsed, so this finds the keys in order in the text:
        exact for the pretty-printed JSON that cdktn writes, the nearest key above otherwise."""
        text = self._texts.get(resource.file)
        if text is None:
            try:
                text = self._texts[resource.file] = Path(resource.file).read_text(encoding="utf-8")
            except OSError:
                return None
        position, found = 0, None
        for key in ("resource", resource.type, resource.name, *path):
            at = text.find(json.dumps(key) + ":", position)
            if at < 0:
                break
            position = found = at
        return None if found is None else text.count("\n", 0, found) + 1

    def of_type(self, resource_type: str) -> list[TerraformResource]:
        return [r for r in self.resources if r.type == resource_type]

    def get(self, file: str, resource_type: str, name: str) -> TerraformResource | None:
        return next((r for r in self.resources if r.file == file and r.type == resource_type and r.name == name), None)


def scan_terraform(paths: Iterable[Path]) -> TerraformTree:
    tree = TerraformTree()
    for path in iter_files(paths, (TERRAFORM_SUFFIX,)):
        if not path.name.endswith(TERRAFORM_SUFFIX):
            continue
        shown = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            tree.problems.append(Problem(shown, None, "unparsable", f"not Terraform JSON: {exc}"))
            continue
        _add_file(tree, shown, text)
    return tree


def scan_terraform_files(files: Mapping[str, bytes]) -> TerraformTree:
    """Like `scan_terraform`, for files held in memory (e.g. read from a git revision), by path."""
    tree = TerraformTree()
    for shown in sorted(files):
        if not shown.endswith(TERRAFORM_SUFFIX) or any(part.startswith(".") for part in PurePosixPath(shown).parts[:-1]):
            continue
        try:
            text = files[shown].decode("utf-8")
        except UnicodeDecodeError as exc:
            tree.problems.append(Problem(shown, None, "unparsable", f"not Terraform JSON: {exc}"))
            continue
        _add_file(tree, shown, text)
    return tree


def _add_file(tree: TerraformTree, shown: str, text: str) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        tree.problems.append(Problem(shown, exc.lineno, "unparsable", f"not Terraform JSON: {exc}"))
        return
    if not isinstance(document, dict):
        tree.problems.append(Problem(shown, 1, "unparsable", "not Terraform JSON: the top level is not an object"))
        return
    tree.files[shown] = document
    resources_at = text.find('"resource"')
    for resource_type, by_name in sorted(mapping(document.get("resource")).items()):
        type_at = text.find(json.dumps(resource_type) + ":", resources_at)
        for name, body in sorted(mapping(by_name).items()):
            if isinstance(body, dict):
                tree.resources.append(TerraformResource(shown, resource_type, name, body, _line_of(text, json.dumps(name), type_at)))
            else:
                tree.problems.append(Problem(shown, None, "unparsable", f"resource {resource_type}.{name} is not an object"))


def _line_of(text: str, key: str, start: int) -> int | None:
    """The line of `"key": {` after `start` (JSON keeps no positions; the pretty-printed text does)."""
    if start < 0:
        return None
    for separator in (": {", ":{"):
        at = text.find(key + separator, start)
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return None
