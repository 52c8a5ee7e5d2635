"""`aiops diff`: what a change to dist/ does to each cluster and cloud, and what it costs."""

from __future__ import annotations

import argparse
import gc
import sys
from contextlib import contextmanager
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FORMATS = ("markdown", "json", "text")


def _catalog_at(repository: Path, commit: str | None) -> tuple[str | None, str]:
    """The project's catalog/instance_types.yaml at a commit (None: the working tree's), as
    (text or None, where), so that each side is priced by its own catalog."""
    from aiops.model.catalog import REPOSITORY_CATALOG
    from aiops.tree import git

    if commit is None:
        path = repository / REPOSITORY_CATALOG
        return (path.read_text(encoding="utf-8") if path.is_file() else None), REPOSITORY_CATALOG
    data = git.files_at_revision(repository, commit, "catalog").get(REPOSITORY_CATALOG)
    return (data.decode("utf-8") if data is not None else None), f"{REPOSITORY_CATALOG} at {git.short(repository, commit)}"


def load_catalogs(args: argparse.Namespace) -> tuple[tuple[str | None, str], tuple[str | None, str]] | None:
    """The catalogs that price base and head (None with two folders: the one in effect prices both)."""
    from aiops.tree import git

    if args.folders:
        return None
    repository = git.repository_root(Path.cwd())
    base = git.resolve_commit(repository, args.base) if args.base else git.merge_base(repository, "HEAD", git.default_branch(repository))
    head = git.resolve_commit(repository, args.head) if args.head else None
    return _catalog_at(repository, base), _catalog_at(repository, head)


def load_sides(args: argparse.Namespace) -> tuple[tuple[dict, str], tuple[dict, str], str]:
    """(files, label) of base and head, and the compared folder's name in the repository."""
    from aiops.tree import git

    root = args.dist.strip("/") or "dist"
    if args.folders:
        if args.base or args.head:
            raise git.TreeReadError("give either two folders or --base/--head revisions, not both")
        old, new = (Path(f) for f in args.folders)
        return (git.files_in_folder(old, root), str(old)), (git.files_in_folder(new, root), str(new)), root
    repository = git.repository_root(Path.cwd())
    if args.base:
        base_commit = git.resolve_commit(repository, args.base)
        base_label = _label(args.base, base_commit, git.short(repository, base_commit))
    else:
        branch = git.default_branch(repository)
        base_commit = git.merge_base(repository, "HEAD", branch)
        base_label = f"{git.short(repository, base_commit)} (merge base with {branch})"
    if args.head:
        head_commit = git.resolve_commit(repository, args.head)
        head_label = _label(args.head, head_commit, git.short(repository, head_commit))
        base_files, head_files = git.files_at_revisions(repository, [base_commit, head_commit], root)
        return (base_files, base_label), (head_files, head_label), root
    folder = repository / root
    head = (git.files_in_folder(folder, root) if folder.is_dir() else {}, "the working tree")
    return (git.files_at_revision(repository, base_commit, root), base_label), head, root


def _label(revision: str, commit: str, short: str) -> str:
    """How a report names a revision: the short commit id, and the name the user gave when it is one."""
    return short if commit.startswith(revision.lower()) else f"{revision} ({short})"


@contextmanager
def _without_cyclic_gc():
    """A diff builds a million small values (parsed objects, field changes, report rows) and
    frees them all at exit. None is part of a reference cycle, so the cyclic collector, which
    would otherwise walk the growing heap again and again, has nothing to find: pausing it
    took a diff of 10,000 changed objects (scripts/bench_diff.py's trees) from 1.9 s to 1.7 s,
    medians of five runs each, 2026-11-29."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(args: argparse.Namespace) -> int:
    from aiops.review.compare import compare
    from aiops.review.render_diff import render_json, render_markdown, render_text
    from aiops.review.snapshot import build_pair
    from aiops.tree.git import TreeReadError

    from aiops.model.catalog import CatalogError

    from datetime import date

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        print(f"aiops diff: --as-of {args.as_of}: use a date like 2026-12-01", file=sys.stderr)
        return EXIT_USAGE
    try:
        (base_files, base_label), (head_files, head_label), root = load_sides(args)
        catalogs = load_catalogs(args)
    except (TreeReadError, OSError) as exc:
        print(f"aiops diff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    render = {"markdown": render_markdown, "json": render_json, "text": render_text}[args.format]
    try:
        with _without_cyclic_gc():
            report = compare(*build_pair(base_files, head_files, base_label, head_label, root, catalogs=catalogs), as_of=as_of)
            text = render(report)
    except CatalogError as exc:
        print(f"aiops diff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    destructive = report.destructive
    if args.fail_on_destroy and destructive:
        print(f"aiops diff: {len(destructive)} destructive change(s) (Flux prunes or Terraform destroys or replaces);"
              " failing because of --fail-on-destroy", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff",
        help="what a change to dist/ does to each cluster and cloud, and what it costs",
        description="Compare dist/ between two git revisions (default: the merge base with the default branch"
        " and the working tree), or two folders that each hold what dist/ holds.",
    )
    diff.add_argument("folders", nargs="*", metavar="FOLDER", help="two folders to compare instead of revisions: OLD NEW")
    diff.add_argument("--base", metavar="REV", help="base revision (default: merge base of HEAD with the default branch)")
    diff.add_argument("--head", metavar="REV", help="head revision (default: the working tree)")
    diff.add_argument("--dist", default="dist", metavar="PATH", help="the compared folder, relative to the repository root (default: dist)")
    diff.add_argument("--format", choices=FORMATS, default="markdown", help="markdown (a pull-request comment), json or text")
    diff.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    diff.add_argument("--fail-on-destroy", action="store_true",
                      help="exit 1 when Flux prunes an object or Terraform destroys or replaces a resource")
    diff.add_argument("--as-of", metavar="DATE", help="judge the age of the catalog's prices as of this day (default: today)")
    diff.set_defaults(handler=_checked)


def _checked(args: argparse.Namespace) -> int:
    if len(args.folders) not in (0, 2):
        print("aiops diff: give two folders (OLD NEW), or none to compare git revisions", file=sys.stderr)
        return EXIT_USAGE
    return run(args)
