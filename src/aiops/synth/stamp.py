"""The answer of a no-op `aiops synth --check`, derived from its inputs.

A full check (or a synthesis) records one digest of everything that feeds synthesis and of the
dist/ it found (or wrote). The next check computes the same digest first; only when it is equal
does it answer without synthesizing. The digest covers, byte for byte: the environment files
manifests/ and catalog/ of the project, every file of the `aiops` and `aiops_constructs` packages
(code, the instance catalog and other data), the project's lock files and synthesis
configuration, the names of the installed distributions (so their versions), the Python
interpreter, the command's arguments, and every file of dist/. Any change to one of them
forces the real check, so a stale answer cannot pass; CI runs `--full`, which never reads it.

The record lives in the virtualenv (`<prefix>/share/aiops/synth-check/`), one file per project
folder and arguments, so a rebuilt virtualenv starts without one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

# Project files that change what synthesis produces, besides environments/ and manifests/.
PROJECT_FILES = ("requirements.lock", "package-lock.json", "pyproject.toml", "cdk8s.yaml", "cdktf.json", "node_modules/.package-lock.json")
_SKIP_DIRS = {"__pycache__", ".pytest_cache"}


def _files(root: Path) -> Iterable[Path]:
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            if not name.endswith(".pyc"):
                yield Path(folder, name)


def _add_tree(digest, label: str, root: Path) -> None:
    digest.update(f"\0tree {label}\0".encode())
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


def inputs_digest(project: Path, environments_dir: Path, dist: Path, arguments: list[str]) -> str:
    import aiops
    import aiops_constructs

    digest = hashlib.sha256()
    digest.update(json.dumps({"python": sys.version, "executable": sys.executable, "arguments": arguments}).encode())
    _add_tree(digest, "environments", environments_dir)
    _add_tree(digest, "manifests", project / "manifests")
    _add_tree(digest, "catalog", project / "catalog")  # the project's instance types
    _add_tree(digest, "aiops", Path(aiops.__file__).parent)
    _add_tree(digest, "aiops_constructs", Path(next(iter(aiops_constructs.__path__))))
    for name in PROJECT_FILES:
        path = project / name
        digest.update(f"\0file {name}\0".encode() + (path.read_bytes() if path.is_file() else b"(none)"))
    site = Path(sysconfig.get_paths()["purelib"])
    digest.update(b"\0site\0" + "\n".join(sorted(os.listdir(site)) if site.is_dir() else []).encode())
    _add_tree(digest, "dist", dist)
    return digest.hexdigest()


def _record(project: Path, arguments: list[str]) -> Path:
    key = hashlib.sha256(json.dumps([str(project.resolve()), arguments]).encode()).hexdigest()[:24]
    return Path(sys.prefix) / "share" / "aiops" / "synth-check" / key


def unchanged(project: Path, environments_dir: Path, dist: Path, arguments: list[str]) -> bool:
    """True when the last full check of these arguments passed on exactly these inputs."""
    try:
        recorded = _record(project, arguments).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return recorded == inputs_digest(project, environments_dir, dist, arguments)


def record(project: Path, environments_dir: Path, dist: Path, arguments: list[str]) -> None:
    """After a full check passed (or a synthesis wrote dist/): remember its inputs."""
    path = _record(project, arguments)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(inputs_digest(project, environments_dir, dist, arguments) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only virtualenv: every check is a full one


def forget(project: Path, arguments: list[str]) -> None:
    try:
        _record(project, arguments).unlink()
    except OSError:
        pass
