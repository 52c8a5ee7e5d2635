"""The `aiops` command line. Thin: parse arguments, call the library, map results to exit codes.

Exit codes: 0 success; 1 a check found differences (or findings); 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _synth(args: argparse.Namespace) -> int:
    from aiops.model import InvalidEnvironment, load_environments
    from aiops.model.loader import display_path
    from aiops.synth import synthesize
    from aiops.synth.dist_tree import compare_trees, dist_lock, merged_tree, read_tree, replace_dist

    environments_dir, dist = Path(args.environments), Path(args.out)
    try:
        environments = load_environments(environments_dir, args.env or None)
    except InvalidEnvironment as exc:
        print(f"aiops synth: {len(exc.errors)} error(s) in the environment files; nothing was written.", file=sys.stderr)
        for error in exc.errors:
            print(error, file=sys.stderr)
        return EXIT_USAGE
    synthesis = synthesize(environments, source_dir=environments_dir.name)
    replaced = args.env or None
    if args.check:
        current = read_tree(dist)
        expected = merged_tree(current, synthesis.files, replaced)
        changes = compare_trees(expected, current)
        if changes:
            print(f"aiops synth --check: {display_path(dist)} is not what the environments produce:", file=sys.stderr)
            for kind, path in changes:
                print(f"  {kind:8} {display_path(dist / path)}", file=sys.stderr)
            print("run `aiops synth` and commit the result", file=sys.stderr)
            return EXIT_FINDINGS
        print(f"{display_path(dist)} is up to date ({len(expected)} files)")
        return EXIT_OK
    with dist_lock(dist):
        replace_dist(dist, merged_tree(read_tree(dist), synthesis.files, replaced))
    for name in synthesis.environments:
        print(f"{synthesis.summary(name)} -> {display_path(dist / name)}")
    return EXIT_OK


def _schemas_export(args: argparse.Namespace) -> int:
    from aiops.schema_export import ENVIRONMENT_SCHEMA, render_environment_schema

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops", description="GitOps manifests for a multi-cloud GPU ML platform.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="synthesize environments into dist/ (Kubernetes YAML and Terraform JSON)")
    synth.add_argument("--env", action="append", metavar="NAME", help="only this environment (repeatable); others in dist/ stay as they are")
    synth.add_argument("--check", action="store_true", help="write nothing; exit 1 and name the files when dist/ is not what the sources produce")
    synth.add_argument("--environments", default="environments", metavar="DIR", help="folder of environment files (default: environments)")
    synth.add_argument("--out", default="dist", metavar="DIR", help="output folder (default: dist)")
    synth.set_defaults(handler=_synth)

    schemas = commands.add_parser("schemas", help="JSON schemas: export the environment schema")
    schema_commands = schemas.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
    export = schema_commands.add_parser("export", help="write schemas/environment.schema.json from the models")
    export.add_argument("--check", action="store_true", help="exit 1 when the committed schema is stale")
    export.add_argument("--output", default="schemas/environment.schema.json", metavar="FILE")
    export.set_defaults(handler=_schemas_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
