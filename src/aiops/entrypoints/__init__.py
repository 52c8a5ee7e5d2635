"""The apps that cdk8s.yaml and cdktf.json run: the same synthesis as `aiops synth`."""

from __future__ import annotations

import sys
from pathlib import Path

from aiops.model import InvalidEnvironment, load_environments
from aiops.synth import Synthesis
from aiops.synth.dist_tree import dist_lock, read_tree, replace_dist

ENVIRONMENTS, DIST = Path("environments"), Path("dist")


def synthesize_into_dist(workdir: Path) -> Synthesis:
    """Synthesize every environment and replace dist/ in one step; exit 2 on invalid input or
    on files in dist/ that synth does not own (the same checks as `aiops synth`)."""
    from aiops.synth.plan import Refused, plan
    from aiops.validate.environment_rules import synth_refusals

    try:
        environments = load_environments(ENVIRONMENTS)
    except InvalidEnvironment as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        sys.exit(2)
    refusals = synth_refusals(environments, ENVIRONMENTS)
    for error in refusals:
        print(error, file=sys.stderr)
    if refusals:
        sys.exit(2)
    with dist_lock(DIST):
        try:
            planned = plan(environments, environments_dir=ENVIRONMENTS, dist=DIST, current=read_tree(DIST), replaced=None, workdir=workdir)
        except Refused as exc:
            for error in exc.errors:
                print(error, file=sys.stderr)
            sys.exit(2)
        replace_dist(DIST, planned.tree)
    return planned.synthesis


__all__ = ["DIST", "read_tree", "synthesize_into_dist"]
