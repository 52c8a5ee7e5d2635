"""`aiops schemas ...`: the JSON schemas this project generates or gathers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK


def export(args: argparse.Namespace) -> int:
    from aiops.schema_export import render_environment_schema

    target = Path(args.output)
    text = render_environment_schema()
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale; run `aiops schemas export`", file=sys.stderr)
            return EXIT_FINDINGS
        print(f"{target} is up to date")
        return EXIT_OK
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    schemas = commands.add_parser("schemas", help="JSON schemas: export the environment schema")
    subcommands = schemas.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
    exporter = subcommands.add_parser("export", help="write schemas/environment.schema.json from the models")
    exporter.add_argument("--check", action="store_true", help="exit 1 when the committed schema is stale")
    exporter.add_argument("--output", default="schemas/environment.schema.json", metavar="FILE")
    exporter.set_defaults(handler=export)
