"""The project an `aiops` command works on, found from any folder inside it.

The project root is the nearest folder, from the working folder upwards, that holds an
`environments/` folder beside a `dist/` folder, a `pyproject.toml` or a `.git` (so a subfolder
named environments/ elsewhere is not mistaken for it). Commands take their default paths
(environments/, dist/, manifests/) from it; paths given on the command line stay relative to
the working folder, as a shell user expects.
"""

from __future__ import annotations

from pathlib import Path

ENVIRONMENTS, DIST = "environments", "dist"
_MARKERS = (DIST, "pyproject.toml", ".git")


def find_root(start: Path | None = None) -> Path | None:
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ENVIRONMENTS).is_dir() and any((candidate / marker).exists() for marker in _MARKERS):
            return candidate
    return None


def _relative(path: Path) -> Path:
    """`path` relative to the working folder when it is below it (messages stay short)."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        import os

        try:
            return Path(os.path.relpath(path))
        except ValueError:
            return path


def resolve_defaults(environments: str | None, out: str | None) -> tuple[Path, Path, Path]:
    """(project root, environments folder, dist folder): the given ones, else the project's."""
    root = find_root() or Path.cwd().resolve()
    environments_dir = Path(environments) if environments else _relative(root / ENVIRONMENTS)
    dist = Path(out) if out else _relative(root / DIST)
    project = Path(environments_dir).resolve().parent if environments else root
    return project, environments_dir, dist


def default_path(name: str) -> Path:
    """A folder of the project (dist, environments), for commands whose default path it is."""
    root = find_root() or Path.cwd().resolve()
    return _relative(root / name)
