"""Finding the files of a tree and naming them as the user would.

Kept apart from the YAML reading (manifests.py) and free of heavy imports, so that `aiops
validate` can hand the file list to kubeconform before it loads anything else.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

MANIFEST_SUFFIXES = (".yaml", ".yml")
KUSTOMIZE_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_FILE_BYTES = 5 * 1024 * 1024  # larger files are reported, not parsed
# The folders synth writes under dist/<environment>/: a file below one of them belongs to the
# environment named by the folder above it.
LAYOUT_FOLDERS = frozenset({"cluster", "infrastructure", "apps", "terraform"})


def iter_files(paths: Iterable[Path], suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files with these suffixes under the given files and folders, sorted, hidden folders skipped."""
    for root in paths:
        root = Path(root)
        if root.is_file():
            yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.endswith(suffixes):
                    yield Path(folder) / name


def _display(path: Path, root: Path | None = None) -> str:
    """How to name a file: relative to `root` if given; else relative to the working folder when
    it lies under it (as the user typed it, e.g. dist/x.yaml), else as given."""
    if root is not None:
        return Path(os.path.relpath(path, root)).as_posix()
    text = os.fspath(path)
    if not os.path.isabs(text) and ".." not in text.split(os.sep):
        return os.path.normpath(text)  # already under the working folder: no need to resolve links
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else text
    except ValueError:
        return text


def environment_folder(file: str) -> str | None:
    """The dist/<environment> folder a file belongs to (the folder above cluster/, apps/,
    infrastructure/ or terraform/), as the file is named; None outside such a layout."""
    parts = Path(file).parts
    for index, part in enumerate(parts[1:], start=1):
        if part in LAYOUT_FOLDERS:
            return str(Path(*parts[:index]))
    return None


def special_file(path: Path) -> str | None:
    """What a path is when it is neither a regular file nor a folder (a FIFO, a device, a socket),
    found without opening it: opening a FIFO waits for a writer."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (a named pipe, or a `<(...)` process substitution)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
