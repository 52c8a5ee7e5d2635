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
    from aiops.cost.route53 import dns_costs, dns_warnings
    from aiops.cost.cloud_dns import cloud_dns_warnings
    from aiops.cost.traffic_manager import traffic_manager_warnings
    from aiops.tree import git
    from aiops.tree.terraform import scan_terraform_files

    from aiops.project import default_path

    from aiops.model.catalog import REPOSITORY_CATALOG, CatalogError, using_catalog

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        print(f"aiops cost: --as-of {args.as_of}: use a date like 2026-12-01", file=sys.stderr)
        return EXIT_USAGE
    if (args.simulation or args.env) and not args.advise:
        print("aiops cost: --simulation and --env go with --advise", file=sys.stderr)
        return EXIT_USAGE
    if args.advise and args.rev and not args.simulation:
        print(f"aiops cost: --advise --rev {args.rev}: the simulation runs on the working tree; simulate the revision "
              "(aiops simulate --rev REV --format json) and pass its output with --simulation FILE", file=sys.stderr)
        return EXIT_USAGE
    if args.max_price_age < 1:
        print(f"aiops cost: --max-price-age {args.max_price_age}: use a number of days, 1 or more", file=sys.stderr)
        return EXIT_USAGE

    def render_costs(hours: int) -> str:
        costs = pool_costs(tree)
        if args.advise:
            return _advice(args, costs)
        dns = dns_costs(tree)
        return render(costs, hours, [*price_warnings(costs, as_of=as_of, max_age_days=args.max_price_age), *dns_warnings(dns, tree), *traffic_manager_warnings(tree), *cloud_dns_warnings(tree)], dns)

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
    except (CatalogError, AdviceInputError) as exc:
        print(f"aiops cost: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


class AdviceInputError(Exception):
    """The simulation behind --advise could not be read or run."""


def _simulation(args: argparse.Namespace) -> dict:
    """The simulation JSON: the file given, or a run of `aiops simulate --format json` on the same tree."""
    import json
    import subprocess

    if args.simulation:
        try:
            return json.loads(Path(args.simulation).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AdviceInputError(f"--simulation {args.simulation}: {exc}") from None
    command = [sys.executable, "-m", "aiops", "simulate", "--format", "json", "--quiet"]
    if args.path:
        command += ["--dist", args.path]
    for name in args.env or ():
        command += ["--env", name]
    print("aiops cost: running aiops simulate for the advice (pass --simulation FILE to reuse a simulation's JSON)", file=sys.stderr, flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1):  # 1: the simulation found problems, and still measured the pools
        raise AdviceInputError(f"aiops simulate failed: {result.stderr.strip() or result.stdout.strip()}")
    try:
        return json.loads(result.stdout)
    except ValueError as exc:
        raise AdviceInputError(f"aiops simulate printed no JSON: {exc}") from None


def _advice(args: argparse.Namespace, costs) -> str:
    from aiops.cost.advise import advise
    from aiops.cost.render_advice import render_json, render_markdown, render_text
    from aiops.cost.waste import SimulationInputError, pool_passes
    from aiops.project import default_path

    try:
        passes = pool_passes(_simulation(args), costs)
    except SimulationInputError as exc:
        raise AdviceInputError(f"{args.simulation or 'aiops simulate'}: {exc}") from None
    if args.env:
        passes = [p for p in passes if p.environment in args.env]
    advice = advise(passes, costs, default_path("environments"))
    return {"table": render_text, "json": render_json, "markdown": render_markdown}[args.format](passes, advice)


def register(commands: argparse._SubParsersAction) -> None:
    cost = commands.add_parser("cost", help="monthly cost of the node pools in dist/, per environment, cloud and pool")
    cost.add_argument("path", nargs="?", metavar="PATH", help="folder to read (default: the project's dist/; with --rev: dist)")
    cost.add_argument("--rev", metavar="REV", help="read PATH (relative to the repository root) at this git revision")
    cost.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or markdown")
    cost.add_argument("--advise", action="store_true",
                      help="list idle capacity (from aiops simulate) and the changes to the environment files that save money")
    cost.add_argument("--simulation", metavar="FILE", help="with --advise: read this `aiops simulate --format json` output instead of running it")
    cost.add_argument("--env", action="append", metavar="NAME", help="with --advise: only this environment (repeatable)")
    cost.add_argument("--as-of", metavar="DATE", help="judge the age of prices as of this day (default: today)")
    cost.add_argument("--max-price-age", metavar="DAYS", type=int, default=DEFAULT_MAX_AGE_DAYS,
                      help=f"warn about prices older than this many days (default: {DEFAULT_MAX_AGE_DAYS})")
    cost.set_defaults(handler=run)
