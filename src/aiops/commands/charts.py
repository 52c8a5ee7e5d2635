"""`aiops charts ...`: the Helm chart packages `aiops simulate` renders (tools/charts.lock)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_OK, EXIT_USAGE


def _lock(args: argparse.Namespace) -> Path:
    from aiops.charts import LOCK_FILE
    from aiops.project import default_path

    return Path(args.lock) if args.lock else default_path(str(LOCK_FILE))


def _helm(args: argparse.Namespace) -> Path:
    if args.helm:
        return Path(args.helm)
    from aiops.simulate.binaries import tool

    return tool("helm")


def install(args: argparse.Namespace) -> int:
    from aiops.charts import ChartError, read_lock
    from aiops.charts.fetch import install as fill
    from aiops.flux.chart_crds import charts_dir
    from aiops.simulate.binaries import MissingBinary

    into = Path(args.into) if args.into else charts_dir()
    try:
        fill(read_lock(_lock(args)), args.source, into, lambda: _helm(args))
    except (ChartError, MissingBinary) as exc:
        print(f"aiops charts install: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"chart cache ready: {into}")
    return EXIT_OK


def pin(args: argparse.Namespace) -> int:
    from aiops.charts import ChartError
    from aiops.charts.pin import pin as learn
    from aiops.simulate.binaries import MissingBinary

    lock = _lock(args)
    try:
        result = learn(lock, _helm(args), args.charts)
    except (ChartError, MissingBinary) as exc:
        print(f"aiops charts pin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for error in result.errors:
        print(f"aiops charts pin: {error}", file=sys.stderr)
    if result.pinned:
        print(f"wrote {lock}: {len(result.pinned)} published digests pinned; review the change and commit it")
    else:
        print(f"{lock} unchanged")
    return EXIT_USAGE if result.errors else EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    charts = commands.add_parser("charts", help="the Helm charts aiops simulate renders: install the pinned packages, pin their published digests")
    subcommands = charts.add_subparsers(dest="charts_command", required=True, metavar="SUBCOMMAND")
    installer = subcommands.add_parser("install", help="fill the chart cache from a mirror folder or the network, each package checked by sha256 (the set-up runs this)")
    installer.add_argument("--from", dest="source", required=True, metavar="DIR|network",
                           help="a folder with the mirror's packages (checked against mirror-sha256), or network: pull each with Helm (checked against published-sha256)")
    installer.add_argument("--into", metavar="DIR", help="the chart cache (default: <venv>/share/aiops/charts)")
    installer.add_argument("--lock", metavar="FILE", help="the pins (default: the project's tools/charts.lock)")
    installer.add_argument("--helm", metavar="FILE", help="the Helm to pull with (default: the pinned one in <venv>/bin)")
    installer.set_defaults(handler=install)
    pinner = subcommands.add_parser("pin", help="pull every chart from its repository with the pinned Helm and write its published sha256 into tools/charts.lock (needs network)")
    pinner.add_argument("charts", nargs="*", metavar="CHART", help="only these charts (default: all)")
    pinner.add_argument("--lock", metavar="FILE", help="the pins (default: the project's tools/charts.lock)")
    pinner.add_argument("--helm", metavar="FILE", help="the Helm to pull with (default: the pinned one in <venv>/bin)")
    pinner.set_defaults(handler=pin)
