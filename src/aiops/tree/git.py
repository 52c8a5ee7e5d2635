"""Trees of files at a git revision, in the working tree, or in any folder: read into memory.

`aiops diff` compares two such trees. Revisions are read with real git (`git ls-tree` and `git
cat-file --batch`, no checkout), so what is compared is exactly what was committed, whatever
the working tree holds. Paths are kept relative to the repository root
("dist/aws-primary/...") because Flux Kustomization paths are relative to it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

DEFAULT_BRANCH_CANDIDATES = ("origin/main", "main", "origin/master", "master")


class TreeReadError(Exception):
    """A revision or folder that cannot be read; the message says what to do."""


def _git(repository: Path, *args: str, binary: bool = False, data: bytes | None = None) -> subprocess.CompletedProcess:
    """git's result; `data`, if given, is its standard input (and the output is bytes)."""
    try:
        return subprocess.run(["git", *args], cwd=repository, input=data, capture_output=True,
                              text=not (binary or data is not None), check=False)
    except FileNotFoundError:
        raise TreeReadError("git is not installed; install git or compare two folders instead") from None


def files_at_revisions(repository: Path, commits: list[str], folder: str) -> list[dict[str, bytes]]:
    """`files_at_revision` of each commit, read at the same time: most of the time is spent
    waiting for git (which inflates every blob), and two gits use two cores."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(commits) or 1) as pool:
        return list(pool.map(lambda commit: files_at_revision(repository, commit, folder), commits))


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
    """Every regular file under `folder` (relative to the repository root) at a commit.

    The blobs as committed, read with two git processes whatever the number of files: `git
    ls-tree` lists them, one `git cat-file --batch` writes them all. (Not `git archive`, which
    applies export-ignore and export-subst attributes, and whose tar Python reads slowly.)"""
    listing = _git(repository, "ls-tree", "-r", "-z", "--full-tree", commit, "--", folder, binary=True)
    if listing.returncode != 0:
        raise TreeReadError(f"cannot list {folder} at {commit}: {listing.stderr.decode(errors='replace').strip()}")
    inside = folder.rstrip("/") + "/"
    entries: list[tuple[str, bytes]] = []
    for record in listing.stdout.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        if not name:
            continue
        mode, kind, blob = meta.split(b" ")
        path = os.fsdecode(name)
        # Regular files only: symlinks and submodules are not manifests.
        if kind == b"blob" and mode in (b"100644", b"100755") and path.startswith(inside):
            entries.append((path, blob))
    if not entries:
        return {}  # the folder does not exist at that commit: everything in the other tree is new
    batch = _git(repository, "cat-file", "--batch", data=b"".join(blob + b"\n" for _, blob in entries))
    if batch.returncode != 0:
        raise TreeReadError(f"cannot read {folder} at {commit}: {batch.stderr.decode(errors='replace').strip()}")
    out, position, files = batch.stdout, 0, {}
    for path, blob in entries:  # each: "<id> blob <size>\n<content>\n", in the order asked
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].rsplit(b" ", 1)[1])
        files[path] = out[header_end + 1:header_end + 1 + size]
        position = header_end + 1 + size + 1
    return files


def files_in_folder(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under a folder on disk, keyed as if the folder were `prefix`/ in the repository."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TreeReadError(f"{folder} is not a folder")
    files: dict[str, bytes] = {}
    # os.scandir and strings, not pathlib: a diff reads thousands of files, and each DirEntry
    # already knows whether it is a symlink, a folder or a file.
    root = str(PurePosixPath(prefix))  # as pathlib would join it: "./dist/" is "dist"
    pending = [(str(folder), "" if root == "." else root)]
    while pending:
        location, shown = pending.pop()
        with os.scandir(location) as entries:
            ordered = sorted(entries, key=lambda entry: entry.name)  # read in a stable order
        for entry in ordered:
            key = f"{shown}/{entry.name}" if shown else entry.name
            if entry.is_symlink():
                continue  # symlinks are not manifests (and could lead out of the folder)
            if entry.is_dir():
                pending.append((entry.path, key))
            elif entry.is_file():
                with open(entry.path, "rb") as handle:
                    files[key] = handle.read()
    return dict(sorted(files.items()))
