"""The files Flux would fetch: a git checkout of one revision, made with real git.

source-controller clones the GitRepository at its revision (shallow, no submodules) and
archives the checkout. We do the same locally: a new repository in a temporary folder that
borrows the objects of the user's repository (git "alternates", as `git clone --shared`
does), checked out at the revision. Nothing is written to the user's repository.

`worktree=True` checks what a `git add -A && git commit` would commit now: the working
tree, including untracked files that .gitignore does not exclude. Its tree and commit
objects are written into the temporary repository only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Fixed identity and dates for the working-tree commit: the same tree gives the same commit.
_COMMIT_ENVIRONMENT = {
    "GIT_AUTHOR_NAME": "aiops flux check",
    "GIT_AUTHOR_EMAIL": "aiops@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "aiops flux check",
    "GIT_COMMITTER_EMAIL": "aiops@localhost",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


class SourceError(Exception):
    """The repository or revision cannot be read (exit status 2)."""


@dataclass(frozen=True)
class Checkout:
    path: Path  # the temporary checkout
    commit: str  # the commit checked out (for the working tree: a commit made of it)
    tree: str  # its tree: equal trees mean equal files
    label: str  # what to call it in reports: "HEAD (1a2b3c4)", "working tree (on 1a2b3c4)"


def _git(args: list[str], cwd: Path, *, env: dict[str, str] | None = None) -> str:
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        if variable not in (env or {}):
            environment.pop(variable, None)
    try:
        result = subprocess.run(["git", *args], cwd=cwd, env=environment, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise SourceError("git is not installed; `aiops flux check` clones the repository with git") from exc
    if result.returncode != 0:
        raise SourceError(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def repository_root(path: Path) -> Path:
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], path))
    except SourceError as exc:
        raise SourceError(f"{path} is not in a git repository ({exc})") from exc


def resolve(repository: Path, revision: str) -> str:
    """The commit a revision names, or SourceError."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], repository)
    except SourceError:
        raise SourceError(f"unknown revision {revision!r} in {repository}") from None


def tree_of(repository: Path, revision: str) -> str:
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{tree}}"], repository)
    except SourceError:
        raise SourceError(f"unknown revision {revision!r} in {repository}") from None


def parent_of(repository: Path, commit: str) -> str | None:
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{commit}^1"], repository)
    except SourceError:
        return None


@contextmanager
def checkout(repository: Path, revision: str | None = "HEAD", *, worktree: bool = False) -> Iterator[Checkout]:
    """A temporary checkout of `revision` (or of the working tree), removed afterwards."""
    top = repository_root(repository)
    objects = Path(_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], top)) / "objects"
    scratch = Path(tempfile.mkdtemp(prefix="aiops-flux-"))
    try:
        clone = scratch / "checkout"
        _git(["init", "--quiet", str(clone)], scratch)
        (clone / ".git" / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
        if worktree:
            commit, label = _commit_worktree(top, clone, scratch)
        else:
            commit = resolve(top, revision or "HEAD")
            label = f"{revision or 'HEAD'} ({commit[:12]})"
        # go-git, which source-controller uses, applies no line-ending or LFS filters.
        _git(["-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "advice.detachedHead=false",
              "-c", "filter.lfs.smudge=", "-c", "filter.lfs.process=", "-c", "filter.lfs.required=false",
              "checkout", "--quiet", "--detach", commit], clone)
        yield Checkout(clone, commit, _git(["rev-parse", f"{commit}^{{tree}}"], clone), label)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _commit_worktree(top: Path, clone: Path, scratch: Path) -> tuple[str, str]:
    """Commit the working tree into the scratch repository's object store; return (commit, label)."""
    index = scratch / "index"
    current_index = Path(_git(["rev-parse", "--path-format=absolute", "--git-path", "index"], top))
    if current_index.exists():
        shutil.copyfile(current_index, index)  # a warm index makes `git add -A` hash only what changed
    env = {
        "GIT_INDEX_FILE": str(index),
        "GIT_OBJECT_DIRECTORY": str(clone / ".git" / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(Path(_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], top)) / "objects"),
        **_COMMIT_ENVIRONMENT,
    }
    _git(["add", "--all", "--", "."], top, env=env)
    tree = _git(["write-tree"], top, env=env)
    try:
        head = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top)
    except SourceError:
        head = None
    parents = ["-p", head] if head else []
    commit = _git(["commit-tree", tree, *parents, "-m", "aiops flux check: working tree"], top, env=env)
    return commit, f"working tree (on {head[:12]})" if head else "working tree"
