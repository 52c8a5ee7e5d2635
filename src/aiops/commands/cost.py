"""`aiops cost`: what the node pools of a tree cost a month, per environment, cloud and pool."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_OK, EXIT_USAGE

FORMATS = ("table", "json", "markdown")
DEFAULT_MAX_AGE_DAYS = 365  # aiops.cost.prices.DEFAULT_MAX_AGE_DAYS (not imported: the parser is built on every command)


def run(args: argparse.Namespace) -> int:
    from datetime import date

    from aiops.cost.prices import price_warnings
    from aiops.model.catalog import load_catalog
    from aiops.cost.pools import pool_costs
    from aiops.cost.render import render_json, render_markdown, render_table
    from aiops.tree import git
    from aiops.tree.terraform import scan_terraform_files

    from aiops.project import default_path

    from aiops.model.catalog import REPOSITORY_CATALOG, CatalogError, using_catalog

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        print(f"aiops cost: --as-of {args.as_of}: use a date like 2026-12-01", file=sys.stderr)
        return EXIT_USAGE
    if args.max_price_age < 1:
        print(f"aiops cost: --max-price-age {args.max_price_age}: use a number of days, 1 or more", file=sys.stderr)
        return EXIT_USAGE

    def render_costs(hours: int) -> str:
        costs = pool_costs(tree)
        return render(costs, hours, price_warnings(costs, as_of=as_of, max_age_days=args.max_price_age))

    catalog: tuple[str | None] | None = None  # None: the catalog in effect (the working tree's)
    try:
        if args.rev:
            repository = git.repository_root(Path.cwd())
            commit = git.resolve_commit(repository, args.rev)
            files = git.files_at_revision(repository, commit, (args.path or "dist").strip("/"))
            # priced with the catalog of that revision, not the checked-out one
            catalog = (git.files_at_revision(repository, commit, "catalog").get(REPOSITORY_CATALOG, b"").decode() or None,)
        else:
            # the project's dist/ is read under its own name, from whatever folder this runs in
            path = args.path or str(default_path("dist"))
            files = git.files_in_folder(Path(path), (args.path or "dist").rstrip("/"))
    except (git.TreeReadError, OSError) as exc:
        print(f"aiops cost: {exc}", file=sys.stderr)
        return EXIT_USAGE
    tree = scan_terraform_files(files)
    for problem in tree.problems:
        print(f"aiops cost: {problem.file}{f':{problem.line}' if problem.line else ''}: {problem.message}", file=sys.stderr)
    if tree.problems:
        return EXIT_USAGE
    render = {"table": render_table, "json": render_json, "markdown": render_markdown}[args.format]
    try:
        if catalog is None:
            sys.stdout.write(render_costs(load_catalog().hours_per_month))
        else:
            with using_catalog(catalog[0], f"{REPOSITORY_CATALOG} at {args.rev}") as at_revision:
                sys.stdout.write(render_costs(at_revision.hours_per_month))
    except CatalogError as exc:
        print(f"aiops cost: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    cost = commands.add_parser("cost", help="monthly cost of the node pools in dist/, per environment, cloud and pool")
    cost.add_argument("path", nargs="?", metavar="PATH", help="folder to read (default: the project's dist/; with --rev: dist)")
    cost.add_argument("--rev", metavar="REV", help="read PATH (relative to the repository root) at this git revision")
    cost.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or markdown")
    cost.add_argument("--as-of", metavar="DATE", help="judge the age of prices as of this day (default: today)")
    cost.add_argument("--max-price-age", metavar="DAYS", type=int, default=DEFAULT_MAX_AGE_DAYS,
                      help=f"warn about prices older than this many days (default: {DEFAULT_MAX_AGE_DAYS})")
    cost.set_defaults(handler=run)
