"""`aiops synth`: environments -> dist/, atomically; or `--check` that dist/ is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


def run(args: argparse.Namespace) -> int:
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
        tree = merged_tree(read_tree(dist), synthesis.files, replaced)
        if not args.no_validate:
            refused = _validate(tree, dist)
            if refused is not None:
                return refused
        replace_dist(dist, tree)
    for name in synthesis.environments:
        print(f"{synthesis.summary(name)} -> {display_path(dist / name)}")
    return EXIT_OK


def _validate(tree, dist: Path) -> int | None:
    """`aiops validate` on the tree about to replace dist/, before the swap: errors stop the
    synthesis with dist/ unchanged (exit 1); warnings are printed and the tree is written."""
    from aiops.model.loader import display_path
    from aiops.validate import ToolError, UsageError, validate_tree
    from aiops.validate.output import text

    try:
        report = validate_tree(tree, dist)
    except (UsageError, ToolError) as exc:
        print(f"aiops synth: cannot validate the new tree: {exc}\n{display_path(dist)} was left unchanged "
              "(`aiops synth --no-validate` writes it unvalidated)", file=sys.stderr)
        return EXIT_USAGE
    errors = [f for f in report.findings if f.level == "error"]
    if report.findings:
        sys.stderr.write(text(report))
    if errors:
        print(f"aiops synth: the synthesized tree has {len(errors)} error(s); {display_path(dist)} was left unchanged.", file=sys.stderr)
        return EXIT_FINDINGS
    return None


def register(commands: argparse._SubParsersAction) -> None:
    synth = commands.add_parser("synth", help="synthesize environments into dist/ (Kubernetes YAML and Terraform JSON)")
    synth.add_argument("--env", action="append", metavar="NAME", help="only this environment (repeatable); others in dist/ stay as they are")
    synth.add_argument("--check", action="store_true", help="write nothing; exit 1 and name the files when dist/ is not what the sources produce")
    synth.add_argument("--no-validate", action="store_true", help="write dist/ without running `aiops validate` on it first")
    synth.add_argument("--environments", default="environments", metavar="DIR", help="folder of environment files (default: environments)")
    synth.add_argument("--out", default="dist", metavar="DIR", help="output folder (default: dist)")
    synth.set_defaults(handler=run)
