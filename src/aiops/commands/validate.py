"""`aiops validate [PATH ...]`: schemas (kubeconform, offline) and the platform rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FAIL_ON = ("error", "warning", "info", "none")


def _skips(values: list[str] | None) -> frozenset[str]:
    return frozenset(rule.strip() for value in values or [] for rule in value.split(",") if rule.strip())


def run(args: argparse.Namespace) -> int:
    # kubeconform is started before the rest of the validator is imported (see aiops/validate/start.py).
    from aiops.validate.errors import ToolError, UsageError
    from aiops.validate.start import start

    if not args.flux and (args.dist or args.rev):
        print(f"aiops validate: {'--dist' if args.dist else '--rev'} chooses what --flux builds; add --flux", file=sys.stderr)
        return EXIT_USAGE
    from aiops.project import default_path

    crds = [Path(p) for p in args.crd or []]
    stdin = None
    try:
        paths, stdin = _with_stdin(args.paths or [str(default_path("dist"))])
        started = start(paths, args.kubernetes_version, crds)
    except (UsageError, ToolError) as exc:
        print(f"aiops validate: {exc}", file=sys.stderr)
        if stdin is not None:
            stdin.cleanup()
        return EXIT_USAGE
    try:
        from datetime import date

        from aiops.validate.validator import Options, validate

        try:
            today = date.fromisoformat(args.as_of) if args.as_of else None
        except ValueError:
            print(f"aiops validate: --as-of {args.as_of}: use a date like 2026-11-28", file=sys.stderr)
            return EXIT_USAGE
        options = Options(
            paths=paths,
            kubernetes_version=args.kubernetes_version,
            skip=_skips(args.skip),
            crds=crds,
            repo_root=Path(args.repo_root) if args.repo_root else None,
            today=today,
            flux=args.flux,
            flux_dist=args.dist,
            flux_rev=args.rev,
        )
        report = validate(options, started)
    except (UsageError, ToolError) as exc:
        print(f"aiops validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        started.close()
    if stdin is not None:
        _name_stdin(report, Path(stdin.name) / STDIN_FILE)
        stdin.cleanup()
    return emit(report, args.format, args.fail_on)


# What a user may type for standard input; `<(...)` and other pipes are refused (start.py).
STDIN_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
STDIN_FILE = "stdin.yaml"
STDIN_SHOWN = "<stdin>"


def _with_stdin(names: list[str]):
    """The paths to validate, with standard input (`-`, /dev/stdin) read into a scratch file first:
    kubeconform and the rules each read the files, and a stream can be read only once."""
    import tempfile

    from aiops.validate.errors import UsageError

    wanted = [name for name in names if name in STDIN_NAMES]
    if not wanted:
        return [Path(name) for name in names], None
    if len(wanted) > 1:
        raise UsageError(f"standard input is named more than once ({', '.join(wanted)}): it can be read only once")
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(f"{wanted[0]}: standard input is a terminal; pipe the manifests in (`kubectl get ... -o yaml | aiops validate -`)")
    scratch = tempfile.TemporaryDirectory(prefix="aiops-validate-stdin-")
    (Path(scratch.name) / STDIN_FILE).write_bytes(sys.stdin.buffer.read())
    return [Path(scratch.name) / STDIN_FILE if name in STDIN_NAMES else Path(name) for name in names], scratch


def _name_stdin(report, scratch_file: Path) -> None:
    """Findings name standard input `<stdin>`, not the scratch file it was read into."""
    from dataclasses import replace

    report.findings[:] = [
        replace(f, file=STDIN_SHOWN if f.file == str(scratch_file) else f.file, message=f.message.replace(str(scratch_file), STDIN_SHOWN))
        for f in report.findings
    ]


def emit(report, output_format: str, fail_on: str, stream=None) -> int:
    """Print the report; the exit code for it."""
    from aiops import __version__
    from aiops.validate import output
    from aiops.validate.findings import RANK

    stream = stream or sys.stdout
    if output_format == "json":
        stream.write(output.as_json(report))
    elif output_format == "sarif":
        stream.write(output.sarif(report, __version__))
    else:
        stream.write(output.text(report))
    if report.unreadable:
        return EXIT_USAGE
    failing = [f for f in report.findings if RANK[f.level] >= RANK[fail_on]]
    return EXIT_FINDINGS if failing else EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser(
        "validate",
        help="validate manifests: kubeconform against the offline schema cache, plus the GPU platform rules",
        description="Validate Kubernetes manifests and Terraform JSON under PATHs (default: dist/). "
        "Exit 0 clean, 1 findings at or above --fail-on, 2 usage or unreadable input.",
    )
    validate.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the project's dist/)")
    validate.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format (sarif: SARIF 2.1.0 for code scanning)")
    validate.add_argument("--kubernetes-version", metavar="X.Y", help="validate against this Kubernetes version's schemas (default: the cache's, see schemas/sources.yaml)")
    validate.add_argument("--skip", action="append", metavar="RULE", help="do not report this rule (repeatable, or comma-separated)")
    validate.add_argument("--fail-on", choices=FAIL_ON, default="error", help="exit 1 when a finding of this severity or worse is reported (default: error)")
    validate.add_argument("--crd", action="append", metavar="FILE", help="also validate against the CRDs in this file or folder (repeatable)")
    validate.add_argument("--repo-root", metavar="DIR", help="the repository root Flux paths are relative to (default: the git work tree, else the current folder)")
    validate.add_argument("--flux", action="store_true", help="also build every Flux Kustomization of the git working tree as kustomize-controller does (aiops flux check; seconds)")
    validate.add_argument("--dist", metavar="DIR", help="with --flux: the folder of the repository to find Kustomizations in, "
                          "as `aiops flux check --dist` (default: the one folder validated, else dist)")
    validate.add_argument("--rev", metavar="REV", help="with --flux: build this git revision instead of the working tree, as `aiops flux check --rev`")
    validate.add_argument("--as-of", metavar="DATE", help="judge instance retirement dates as of this day (default: today)")
    validate.set_defaults(handler=run)
