"""The first step of `aiops validate`: check what can be checked cheaply, then start kubeconform.

kubeconform takes most of a validation's time (scripts/bench_validate.py), and the platform
rules run while it works; every millisecond before it starts is added to the whole. So this
module, and everything it imports, stays light: no dataclasses, no YAML, no rules (those cost
tens of milliseconds to import). `validator.validate` does the rest.
"""

from __future__ import annotations

from pathlib import Path
from stat import S_ISREG

from aiops.schema_cache import CRD_FOLDER, CRD_TEMPLATE, CacheError, SchemaCache, default_cache_dir
from aiops.tree.files import KUSTOMIZE_FILES, MANIFEST_SUFFIXES, MAX_FILE_BYTES, _display, iter_files, special_file
from aiops.validate import kubeconform
from aiops.validate.errors import UsageError
from aiops.validate.targets import Targets


class Started:
    """kubeconform at work on a tree, with what the rest of the validation needs to read it.

    Whoever holds one must `close` it (validator.validate does): that stops kubeconform if it is
    still running and removes the converted --crd schemas."""

    def __init__(self, cache: SchemaCache, targets: Targets) -> None:
        self.cache = cache
        self.targets = targets  # the Kubernetes version of each file (targets.py)
        self.binary: Path | None = None
        self.files: list[str] = []  # what kubeconform reads
        self.processes: list = []  # kubeconform on the files, one per Kubernetes version among them
        self.asked = None  # `kubeconform -v`, answered beside the validation
        self.extra_dir: Path | None = None  # kubeconform's layout of the --crd schemas
        self.extra_index: dict = {}  # group -> kind -> versions of the --crd schemas
        self._scratch = None

    def check_version(self) -> None:
        kubeconform.check_version(self.binary, self.asked)

    @property
    def version(self) -> str:
        """The version of files outside any environment folder (--kubernetes-version, else the default)."""
        return self.targets.default

    def results(self) -> list[dict]:
        return [result for process in self.processes for result in kubeconform.results(process)]

    def close(self) -> None:
        for child in (self.asked, *self.processes):
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()
        for child in (self.asked, *self.processes):
            if child is not None:
                for stream in (child.stdout, child.stderr):
                    if stream is not None:
                        stream.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def kubeconform_files(paths: list[Path]) -> list[str]:
    """The files kubeconform reads: YAML, except kustomization.yaml (no schema: kustomize input)
    and files too large for the platform rules, which report those instead."""
    files = []
    for path in iter_files(paths, MANIFEST_SUFFIXES):
        if path.name in KUSTOMIZE_FILES:
            continue
        try:
            status = path.stat()
            if status.st_size > MAX_FILE_BYTES or not S_ISREG(status.st_mode):
                continue  # reported by the rules' reading (tree/manifests.py), never opened
        except OSError:
            continue
        files.append(_display(path))
    return files


def start(paths: list[Path], kubernetes_version: str | None = None, crds: list[Path] | None = None,
          cache_dir: Path | None = None) -> Started:
    """Check the paths and the schema cache, and start kubeconform on every YAML file under `paths`.

    Raises UsageError (bad paths, no usable cache, unreadable --crd files) or ToolError (no
    usable kubeconform); nothing is left running then."""
    cache = SchemaCache(cache_dir or default_cache_dir())
    try:
        started = Started(cache, Targets(cache, kubernetes_version))
        locations = cache.schema_locations()
    except CacheError as exc:
        raise UsageError(str(exc)) from None
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    for path in paths:
        what = special_file(path)
        if what:
            raise UsageError(f"{path} is {what}, not a file or folder: reading it could wait forever or read it only once; "
                             "pipe its content into `aiops validate -` instead")
    started.binary = kubeconform.locate()
    try:
        if crds:
            import tempfile

            started._scratch = tempfile.TemporaryDirectory(prefix="aiops-validate-crds-")
            started.extra_dir = Path(started._scratch.name)
            started.extra_index = _extra_crds(crds, started.extra_dir)
            locations = [str(started.extra_dir / CRD_FOLDER / CRD_TEMPLATE), *locations]
        started.files = kubeconform_files(paths)
        started.processes = start_by_version(started, started.files, locations)
        # The version is asked after the validation has started, beside it; the answer is
        # checked before any of its results are used.
        started.asked = kubeconform.ask_version(started.binary)
    except BaseException:
        started.close()
        raise
    return started


def start_by_version(started: Started, files: list[str], locations: list[str], version_of=None) -> list:
    """One kubeconform per Kubernetes version among the files (usually one: every environment on the
    same minor), the cores shared between them."""
    version_of = version_of or started.targets.version_of
    groups: dict[str, list[str]] = {}
    for file in files:
        groups.setdefault(version_of(file), []).append(file)
    share = len(groups) or 1
    return [kubeconform.start(started.binary, group, locations, version, share) for version, group in sorted(groups.items())]


def _extra_crds(crds: list[Path], folder: Path) -> dict:
    """Convert CRD files given on the command line into `folder` (kubeconform's CRD layout)."""
    from aiops.schema_cache.convert import NotACrd
    from aiops.schema_cache.sync import SyncError, add_crds, user_crd_files

    index: dict = {"crds": {}}
    for root in crds:
        files = [root] if root.is_file() else user_crd_files(root)
        if not files:
            raise UsageError(f"--crd {root}: no such file, or a folder without YAML files")
        for path in files:
            try:
                add_crds(folder, index, path.read_text(encoding="utf-8"), str(path), f"{path} (--crd)")
            except (NotACrd, SyncError, UnicodeDecodeError, OSError) as exc:
                raise UsageError(f"--crd {path}: {exc}") from None
    return index["crds"]
