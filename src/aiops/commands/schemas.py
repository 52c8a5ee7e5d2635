"""`aiops schemas ...`: the JSON schemas this project generates or gathers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


def export(args: argparse.Namespace) -> int:
    from aiops.schema_export import render_environment_schema

    from aiops.project import default_path

    target = Path(args.output) if args.output else default_path("schemas/environment.schema.json")
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


def sync(args: argparse.Namespace) -> int:
    from aiops.schema_cache import default_cache_dir
    from aiops.schema_cache.sync import SyncError, build_cache

    mirror = Path(args.mirror) if args.mirror else None
    if mirror is not None and not mirror.is_dir():
        print(f"aiops schemas sync: the mirror {mirror} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    from aiops.project import default_path

    cache = Path(args.cache) if args.cache else default_cache_dir()
    sources = Path(args.sources) if args.sources else default_path("schemas/sources.yaml")
    crds = Path(args.crds) if args.crds else default_path("schemas/crds")
    try:
        build_cache(cache, sources_path=sources, user_crds=crds, mirror=mirror)
    except SyncError as exc:
        print(f"aiops schemas sync: {exc}; the previous cache (if any) is unchanged", file=sys.stderr)
        return EXIT_USAGE
    print(f"schema cache ready: {cache}")
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    schemas = commands.add_parser("schemas", help="JSON schemas: export the environment schema, build the validation schema cache")
    subcommands = schemas.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
    exporter = subcommands.add_parser("export", help="write schemas/environment.schema.json from the models")
    exporter.add_argument("--check", action="store_true", help="exit 1 when the committed schema is stale")
    exporter.add_argument("--output", metavar="FILE", help="default: the project's schemas/environment.schema.json")
    exporter.set_defaults(handler=export)
    syncer = subcommands.add_parser("sync", help="build the schema cache that `aiops validate` gives kubeconform, from schemas/sources.yaml")
    syncer.add_argument("--mirror", metavar="DIR", help="take pinned files from this folder (same relative paths as `mirror:` in the pins; wheels by file name) before the network")
    syncer.add_argument("--sources", metavar="FILE", help="the pins (default: the project's schemas/sources.yaml)")
    syncer.add_argument("--crds", metavar="DIR", help="your own CRDs to add (default: the project's schemas/crds)")
    syncer.add_argument("--cache", metavar="DIR", help="where to build it (default: $AIOPS_SCHEMA_CACHE, else <venv>/share/aiops/schemas)")
    syncer.set_defaults(handler=sync)
