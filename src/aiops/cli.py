"""The `aiops` command line. Thin: each command lives in aiops/commands/<name>.py.

Exit codes: 0 success; 1 a check found differences (or findings); 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import gc
import sys

from aiops.commands import cost, diff, flux, schemas, synth, validate

# Add a command by writing aiops/commands/<name>.py with `register` and listing it here.
COMMANDS = (synth, schemas, validate, flux, diff, cost)


def build_parser() -> argparse.ArgumentParser:
    from aiops import __version__

    parser = argparse.ArgumentParser(prog="aiops", description="GitOps manifests for a multi-cloud GPU ML platform. "
                                     "Run it anywhere in the project: default paths are the project's (the nearest "
                                     "folder above with environments/).")
    parser.add_argument("--version", action="version", version=f"aiops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from aiops.model.catalog import CatalogError, use_repository_catalog
    from aiops.project import find_root

    try:  # the project's own instance types (catalog/instance_types.yaml), for every command
        use_repository_catalog(find_root())
    except (CatalogError, OSError) as exc:
        print(f"aiops: {exc}", file=sys.stderr)
        return 2
    return args.handler(args)


def run() -> None:
    """The `aiops` program: main(), then exit with its code."""
    code = main()
    # The process ends here: move what is left out of the collector's reach, so that the
    # interpreter's exit does not walk every object once more (about 15 ms of an `aiops
    # validate` run; scripts/bench_validate.py). Not in main(), which tests call in-process.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
