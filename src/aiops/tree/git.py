"""Trees of files at a git revision, in the working tree, or in any folder: read into memory.

`aiops diff` compares two such trees. Revisions are read with real git (`git archive` of the
folder at a commit, one process, no checkout), so what is compared is exactly what was
committed, whatever the working tree holds. Paths are kept relative to the repository root
("dist/aws-primary/...") because Flux Kustomization paths are relative to it.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

DEFAULT_BRANCH_CANDIDATES = ("origin/main", "main", "origin/master", "master")


class TreeReadError(Exception):
    """A revision or folder that cannot be read; the message says what to do."""


def _git(repository: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=repository, capture_output=True, text=not binary, check=False)
    except FileNotFoundError:
        raise TreeReadError("git is not installed; install git or compare two folders instead") from None


def repository_root(start: Path) -> Path:
    result = _git(start, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise TreeReadError(f"{start} is not inside a git repository; run aiops diff in your clone, or pass two folders to compare")
    return Path(result.stdout.strip())


def resolve_commit(repository: Path, revision: str) -> str:
    """The full commit id a revision names, or a clear error."""
    result = _git(repository, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if result.returncode != 0 or not result.stdout.strip():
        raise TreeReadError(
            f"unknown revision {revision!r}: no such commit, branch or tag in {repository}"
            " (in CI, fetch the history first, e.g. actions/checkout with fetch-depth: 0)"
        )
    return result.stdout.strip()


def default_branch(repository: Path) -> str:
    """The branch pull requests merge into: origin's HEAD, else the first of main/master that exists."""
    result = _git(repository, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.strip()
    for candidate in DEFAULT_BRANCH_CANDIDATES:
        if _git(repository, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").returncode == 0:
            return candidate
    raise TreeReadError(f"cannot tell the default branch of {repository} (no origin/HEAD, main or master); pass --base REV")


def merge_base(repository: Path, a: str, b: str) -> str:
    result = _git(repository, "merge-base", a, b)
    if result.returncode != 0:
        raise TreeReadError(f"{a} and {b} have no common ancestor; pass --base REV")
    return result.stdout.strip()


def short(repository: Path, commit: str) -> str:
    result = _git(repository, "rev-parse", "--short=12", commit)
    return result.stdout.strip() if result.returncode == 0 else commit[:12]


def files_at_revision(repository: Path, commit: str, folder: str) -> dict[str, bytes]:
    """Every regular file under `folder` (relative to the repository root) at a commit."""
    listing = _git(repository, "ls-tree", "-d", "--name-only", commit, "--", folder)
    if listing.returncode != 0:
        raise TreeReadError(f"cannot list {folder} at {commit}: {listing.stderr.strip()}")
    if not listing.stdout.strip():
        return {}  # the folder does not exist at that commit: everything in the other tree is new
    archive = _git(repository, "archive", "--format=tar", commit, "--", folder, binary=True)
    if archive.returncode != 0:
        raise TreeReadError(f"cannot read {folder} at {commit}: {archive.stderr.decode(errors='replace').strip()}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        for member in tar:
            if member.isfile():  # symlinks and submodules are not manifests
                files[member.name] = tar.extractfile(member).read()
    return files


def files_in_folder(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under a folder on disk, keyed as if the folder were `prefix`/ in the repository."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TreeReadError(f"{folder} is not a folder")
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            files[str(PurePosixPath(prefix) / path.relative_to(folder).as_posix())] = path.read_bytes()
    return files
