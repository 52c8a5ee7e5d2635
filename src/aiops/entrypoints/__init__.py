"""The apps that cdk8s.yaml and cdktf.json run: the same synthesis as `aiops synth`."""

from __future__ import annotations

import sys
from pathlib import Path

from aiops.model import InvalidEnvironment, load_environments
from aiops.synth import Synthesis, synthesize
from aiops.synth.dist_tree import dist_lock, read_tree, replace_dist

ENVIRONMENTS, DIST = Path("environments"), Path("dist")


def synthesize_into_dist(workdir: Path) -> Synthesis:
    """Synthesize every environment and replace dist/ in one step; exit 2 on invalid input."""
    try:
        environments = load_environments(ENVIRONMENTS)
    except InvalidEnvironment as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        sys.exit(2)
    synthesis = synthesize(environments, source_dir=ENVIRONMENTS.name, workdir=workdir)
    with dist_lock(DIST):
        replace_dist(DIST, synthesis.files)
    return synthesis


__all__ = ["DIST", "read_tree", "synthesize_into_dist"]
