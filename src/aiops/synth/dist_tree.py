"""The dist/ tree as data, and replacing it on disk in one step.

A synthesis produces every file of the environments it covers in memory (they are small);
`replace_dist` writes them to a staging folder beside dist/ and swaps it in with one atomic
rename (Linux renameat2 RENAME_EXCHANGE). A failure or a kill at any moment leaves either the
old tree or the new one, never a mixture, and files of resources that no longer exist vanish.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

Tree = Mapping[PurePosixPath, bytes]

STAGING_PREFIX = ".aiops-synth-"
BACKUP_SUFFIX = ".aiops-previous"
LOCK_FILE = ".aiops-synth.lock"


def read_tree(root: Path) -> dict[PurePosixPath, bytes]:
    """Every file under `root`, by its path relative to `root`."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {
        PurePosixPath(path.relative_to(root).as_posix()): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def compare_trees(expected: Tree, actual: Tree) -> list[tuple[str, PurePosixPath]]:
    """What differs between two trees: ('missing' | 'differs' | 'extra', path), sorted by path."""
    changes = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            changes.append(("missing", path))
        elif path not in expected:
            changes.append(("extra", path))
        elif expected[path] != actual[path]:
            changes.append(("differs", path))
    return changes


def merged_tree(current: Tree, new: Tree, replaced_environments: Iterable[str] | None) -> dict[PurePosixPath, bytes]:
    """`new` in place of the named environments of `current`; `new` alone when none are named."""
    if replaced_environments is None:
        return dict(new)
    replaced = set(replaced_environments)
    kept = {path: data for path, data in current.items() if path.parts[0] not in replaced}
    return {**kept, **new}


def _write_tree(root: Path, tree: Tree) -> None:
    for path, data in sorted(tree.items()):
        target = root.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, 0o644)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically. False when the platform cannot (not Linux, old kernel, odd fs)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


@contextmanager
def dist_lock(dist: Path) -> Iterator[None]:
    """Serialize syntheses into the same dist/, and clean up what a killed one left behind."""
    parent = Path(dist).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with open(parent / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        backup = parent / (Path(dist).name + BACKUP_SUFFIX)
        if backup.exists() and not Path(dist).exists():
            backup.rename(dist)  # killed between the two renames of the fallback path: restore
        for leftover in parent.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)
        yield


def replace_dist(dist: Path, tree: Tree) -> None:
    """Make `dist` hold exactly `tree`, in one step. Call inside `dist_lock`."""
    dist = Path(dist).resolve()
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=dist.parent))
    try:
        _write_tree(staging, tree)
        os.chmod(staging, 0o755)
        if not dist.exists():
            staging.rename(dist)
            return
        if _exchange(staging, dist):
            shutil.rmtree(staging)  # now holds the previous tree
            return
        backup = dist.parent / (dist.name + BACKUP_SUFFIX)
        dist.rename(backup)
        staging.rename(dist)
        shutil.rmtree(backup)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
