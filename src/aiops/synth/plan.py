"""A synthesis of the repository: the environments, the files synth keeps, and the checks that
keep synth from deleting what it does not own. Shared by `aiops synth` and the cdk8s/cdktn apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aiops.failover import Resolved, resolve
from aiops.model import Environment
from aiops.model.errors import SourceError
from aiops.model.loader import display_path, environment_files
from aiops.synth import Synthesis, synthesize
from aiops.synth.dist_tree import Tree, merged_tree
from aiops.synth.ownership import bootstrap_files, foreign_files, sync_conflicts, user_manifests


class Refused(Exception):
    """The synthesis would lose or overwrite files it does not own; nothing was written."""

    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Planned:
    synthesis: Synthesis
    tree: dict[PurePosixPath, bytes]  # the whole next dist/


def plan(
    environments: list[Environment],
    *,
    environments_dir: Path,
    dist: Path,
    current: Tree,
    replaced: list[str] | None,
    jobs: int = 1,
    progress: Callable[[str, float], None] | None = None,
    workdir: Path | None = None,
    resolved: Resolved | None = None,
) -> Planned:
    """The next dist/: `environments` synthesized in place of `replaced` (None: all of dist/)."""
    every = [p.stem for p in environment_files(environments_dir)]
    names = [e.name for e in environments]
    dist_shown = display_path(dist)
    errors = foreign_files(current, replaced, every, dist_shown)
    errors += sync_conflicts(current, {e.name: e.git for e in environments}, dist_shown, display_path(environments_dir))
    user, problems = user_manifests(Path(environments_dir).resolve().parent, names, every)
    errors += problems
    if errors:
        raise Refused(errors)
    kept = bootstrap_files(current, names) | user
    # Failover pairs: a standby in `active` state is built at serving scale, a primary with its
    # traffic policy (aiops.failover); `aiops synth` resolves them first to report their errors.
    resolved = resolved or resolve(Path(environments_dir), environments)
    if resolved.errors:
        raise Refused(resolved.errors)
    synthesis = synthesize(resolved.environments, source_dir=Path(environments_dir).name, kept=kept, jobs=jobs, progress=progress,
                           workdir=workdir, traffic=resolved.traffic)
    clashes = [p for p, data in user.items() if synthesis.files.get(p) != data]
    if clashes:
        raise Refused([
            SourceError(data.decode("utf-8", "replace").split(" from ", 1)[1].split(";", 1)[0], None, None,
                        f"{dist_shown}/{p} is generated from the environment, so this file cannot take its place",
                        "give your file another name")
            for p, data in ((p, user[p]) for p in clashes)
        ])
    return Planned(synthesis, merged_tree(current, synthesis.files, replaced))
