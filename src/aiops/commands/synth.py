"""`aiops synth`: environments -> dist/, atomically; or `--check` that dist/ is current."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from aiops.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


def default_jobs() -> int:
    """Environments at once, where the cores allow: one more than the cores that are free now,
    since a synthesis keeps a core less than busy while Python and jsii's Node wait on each
    other; one at a time, in this process, when no core is free. On a busy machine parallel
    processes only share the same CPU and each pays its own start-up (README, Synthesis:
    measured with scripts/bench_synth.py)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    busy = busy_cores()
    free = cores - busy
    return 1 if free < 1 else int(free) + 1


def busy_cores(interval: float = 0.2) -> float:
    """How many cores other programs keep busy now: the machine's non-idle CPU time over
    `interval` seconds (/proc/stat). The 1-minute load average, the fallback where /proc/stat is
    missing, still counts a synthesis that finished seconds ago, so it wrongly ran every
    synthesis that followed another one at a time."""
    try:
        first = _cpu_times()
        time.sleep(interval)
        second = _cpu_times()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:
            return 0.0
    total = sum(second) - sum(first)
    idle = (second[3] + second[4]) - (first[3] + first[4])  # idle and iowait
    return 0.0 if total <= 0 else (os.cpu_count() or 1) * (total - idle) / total


def _cpu_times() -> list[int]:
    """The machine's CPU time so far (user, nice, system, idle, iowait, ...) in clock ticks."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    if fields[0] != "cpu":
        raise ValueError("/proc/stat does not start with the cpu line")
    return [int(x) for x in fields[1:9]]


def _refused(errors, what: str) -> int:
    print(f"aiops synth: {len(errors)} {what}; nothing was written.", file=sys.stderr)
    for error in errors:
        print(error, file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from aiops.model import InvalidEnvironment, load_environments
    from aiops.model.loader import display_path
    from aiops.project import resolve_defaults
    from aiops.synth import stamp
    from aiops.synth.dist_tree import compare_trees, dist_lock, read_tree, replace_dist
    from aiops.synth.plan import Refused, plan

    project, environments_dir, dist = resolve_defaults(args.environments, args.out)
    key = [*sorted(args.env or []), str(Path(environments_dir).resolve()), str(Path(dist).resolve())]  # the same from any folder
    if args.check and not args.full and stamp.unchanged(project, environments_dir, dist, key):
        print(f"{display_path(dist)} is up to date (nothing that feeds synthesis changed since the last full check; `--full` checks again)")
        return EXIT_OK
    try:
        environments = load_environments(environments_dir, args.env or None)
    except InvalidEnvironment as exc:
        return _refused(exc.errors, "error(s) in the environment files")
    from aiops.validate.environment_rules import synth_refusals

    refusals = synth_refusals(environments, environments_dir)
    if refusals:
        return _refused(refusals, "error(s) in the environment files")
    from aiops.failover import resolve

    try:  # the other side of each failover pair is read too: both files decide what is built
        resolved = resolve(environments_dir, environments)
    except InvalidEnvironment as exc:
        return _refused(exc.errors, "error(s) in the environment files")
    if resolved.errors:
        return _refused(resolved.errors, "error(s) in the environment files")
    started = time.perf_counter()

    def progress(name: str, seconds: float) -> None:
        print(f"{name}: synthesized in {seconds:.1f} s", flush=True)

    replaced = args.env or None
    jobs = args.jobs or (default_jobs() if len(environments) > 1 else 1)
    if len(environments) > 1:
        print(f"synthesizing {len(environments)} environments, {min(jobs, len(environments))} at a time", flush=True)
    if args.check:
        current = read_tree(dist)
        try:
            planned = plan(environments, environments_dir=environments_dir, dist=dist, current=current, replaced=replaced, jobs=jobs, progress=progress, resolved=resolved)
        except Refused as exc:
            return _refused(exc.errors, "file(s) in the way")
        except ValueError as exc:  # a construct refusing its props (InvalidProps and the k8s constructs' ValueError)
            return _construct_error(exc)
        changes = compare_trees(planned.tree, current)
        if changes:
            print(f"aiops synth --check: {display_path(dist)} is not what the environments produce:", file=sys.stderr)
            for kind, path in changes:
                print(f"  {kind:8} {display_path(dist / path)}", file=sys.stderr)
            print("run `aiops synth` and commit the result", file=sys.stderr)
            stamp.forget(project, key)
            return EXIT_FINDINGS
        stamp.record(project, environments_dir, dist, key)
        print(f"{display_path(dist)} is up to date ({len(planned.tree)} files, checked in {time.perf_counter() - started:.1f} s)")
        return EXIT_OK
    with dist_lock(dist):
        try:
            planned = plan(environments, environments_dir=environments_dir, dist=dist, current=read_tree(dist), replaced=replaced, jobs=jobs, progress=progress, resolved=resolved)
        except Refused as exc:
            return _refused(exc.errors, "file(s) in the way")
        except ValueError as exc:
            return _construct_error(exc)
        if not args.no_validate:
            validating = time.perf_counter()
            refused = _validate(planned.tree, dist)
            if refused is not None:
                return refused
            print(f"validated the new tree in {time.perf_counter() - validating:.1f} s", flush=True)
        replace_dist(dist, planned.tree)
    stamp.record(project, environments_dir, dist, key)
    for name in planned.synthesis.environments:
        print(f"{planned.synthesis.summary(name)} -> {display_path(dist / name)}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _construct_error(exc: ValueError) -> int:
    print(f"aiops synth: a construct refused its input; nothing was written.\n{exc}", file=sys.stderr)
    return EXIT_USAGE


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
    synth.add_argument("--full", action="store_true", help="with --check: always synthesize, even when nothing that feeds synthesis changed since the last full check (CI)")
    synth.add_argument("--no-validate", action="store_true", help="write dist/ without running `aiops validate` on it first")
    synth.add_argument("--jobs", type=int, metavar="N", help="environments synthesized at once, each in its own process (default: the cores free now + 1; 1 when none is free)")
    synth.add_argument("--environments", metavar="DIR", help="folder of environment files (default: environments/ of the project)")
    synth.add_argument("--out", metavar="DIR", help="output folder (default: dist/ of the project)")
    synth.set_defaults(handler=run)
