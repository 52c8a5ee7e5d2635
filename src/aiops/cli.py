"""The `aiops` command line. Thin: each command lives in aiops/commands/<name>.py.

Exit codes: 0 success; 1 a check found differences (or findings); 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys

from aiops.commands import cost, diff, flux, schemas, synth, validate

# Add a command by writing aiops/commands/<name>.py with `register` and listing it here.
COMMANDS = (synth, schemas, validate, flux, diff, cost)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops", description="GitOps manifests for a multi-cloud GPU ML platform.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
