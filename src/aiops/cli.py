"""The `aiops` command line. Thin: each command lives in aiops/commands/<name>.py.

Exit codes: 0 success; 1 a check found differences (or findings); 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import gc
import sys

from aiops.commands import charts, cost, diff, flux, schemas, simulate, synth, validate

# Add a command by writing aiops/commands/<name>.py with `register` and listing it here.
COMMANDS = (synth, schemas, validate, flux, diff, cost, simulate, charts)


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
    from aiops.project import find_root

    root = find_root()
    # The project's own instance types, for every command. Read only when the file is there, so
    # that a project without one imports nothing more before `aiops validate` starts kubeconform.
    if root is not None and (root / "catalog" / "instance_types.yaml").is_file():
        from aiops.model.catalog import CatalogError, use_repository_catalog

        try:
            use_repository_catalog(root)
        except (CatalogError, OSError) as exc:
            print(f"aiops: {exc}", file=sys.stderr)
            return 2
    else:
        _no_repository_catalog()
    return args.handler(args)


def _no_repository_catalog() -> None:
    """In-process callers (tests) may have used a project catalog before: forget it."""
    catalog = sys.modules.get("aiops.model.catalog")
    if catalog is not None:
        catalog.use_catalog_text(None)


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
