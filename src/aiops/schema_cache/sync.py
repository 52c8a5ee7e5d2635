"""`aiops schemas sync`: build the schema cache from the pins in schemas/sources.yaml.

Every pinned file comes from the mirror folder when it is there and from the network
otherwise, and its sha256 is checked before it is read. Wheels are fetched with
`pip download --no-deps` (so PIP_INDEX_URL and pip's own configuration apply) and never
installed. CRDs of the user's own, in schemas/crds/, are converted too. The new cache is built
beside the old one and swapped in only when complete, so a failed sync leaves the old cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiops.schema_cache import CORE_FOLDER, CRD_FOLDER, INDEX_FILE, INDEX_FORMAT, crd_schema_name, full_version
from aiops.schema_cache.convert import NotACrd, crd_versions, iter_crds, standalone_kind_schemas

SOURCES_FILE = Path("schemas/sources.yaml")
USER_CRDS = Path("schemas/crds")
DOWNLOADS = "downloads"
_WHEEL_SCHEMA_FOLDER = "kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"


class _Pin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PinnedFile(_Pin):
    url: str
    mirror: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PinnedWheel(_Pin):
    package: str
    version: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    members: list[str] = []


class KubernetesPin(_Pin):
    package: str
    version: str
    license: str
    wheel: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    versions: list[str] = Field(min_length=1)
    default: str

    def as_wheel(self) -> PinnedWheel:
        return PinnedWheel(package=self.package, version=self.version, file=self.wheel, sha256=self.sha256)


class CrdBundle(_Pin):
    name: str
    version: str
    license: str
    files: list[PinnedFile] = []
    wheel: PinnedWheel | None = None


class Sources(_Pin):
    kubernetes: KubernetesPin
    crds: list[CrdBundle]


class SyncError(Exception):
    """A pin is wrong, a file is missing or does not match its checksum; the message says which."""


def load_sources(path: Path) -> tuple[Sources, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SyncError(f"{path}: {exc.strerror or exc}") from None
    try:
        sources = Sources.model_validate(yaml.safe_load(raw))
    except yaml.YAMLError as exc:
        raise SyncError(f"{path}: not YAML: {exc}") from None
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SyncError(f"{path}: {details}") from None
    if full_version(sources.kubernetes.default) not in {full_version(v) for v in sources.kubernetes.versions}:
        raise SyncError(f"{path}: kubernetes.default {sources.kubernetes.default} is not one of kubernetes.versions")
    return sources, raw


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified(data: bytes, expected: str, what: str) -> bytes:
    actual = _sha256(data)
    if actual != expected:
        raise SyncError(f"{what}: sha256 is {actual}, but schemas/sources.yaml pins {expected}; refusing to use it")
    return data


class Fetcher:
    """Pinned files from the mirror, a download folder of earlier syncs, or the network."""

    def __init__(self, mirror: Path | None, downloads: Path, log: Callable[[str], None]):
        self.mirror, self.downloads, self.log = mirror, downloads, log

    def file(self, pin: PinnedFile) -> bytes:
        if self.mirror is not None:
            candidate = self.mirror / pin.mirror
            if candidate.is_file():
                return _verified(candidate.read_bytes(), pin.sha256, str(candidate))
        self.log(f"downloading {pin.url}")
        try:
            with urllib.request.urlopen(pin.url, timeout=60) as response:  # noqa: S310 (pinned https URL, checksummed)
                return _verified(response.read(), pin.sha256, pin.url)
        except OSError as exc:
            where = f"not in the mirror {self.mirror} ({pin.mirror}) and " if self.mirror else ""
            raise SyncError(
                f"{pin.mirror}: {where}could not download {pin.url}: {exc}; "
                "without access to it, pass --mirror DIR (make setup: AIOPS_SCHEMA_MIRROR=DIR) with a copy of the pinned files"
            ) from None

    def wheel(self, pin: PinnedWheel) -> bytes:
        for folder in (self.mirror, self.downloads):
            if folder is not None and (folder / pin.file).is_file():
                return _verified((folder / pin.file).read_bytes(), pin.sha256, str(folder / pin.file))
        self.log(f"downloading {pin.file} with pip")
        with tempfile.TemporaryDirectory(prefix="aiops-wheel-") as scratch:
            requirement = Path(scratch) / "requirement.txt"
            requirement.write_text(f"{pin.package}=={pin.version} --hash=sha256:{pin.sha256}\n")
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--require-hashes",
                 "--dest", scratch, "-r", str(requirement)],
                capture_output=True, text=True,
            )
            wheel = Path(scratch) / pin.file
            if result.returncode != 0 or not wheel.is_file():
                raise SyncError(
                    f"{pin.file}: not in the mirror and `pip download {pin.package}=={pin.version}` failed:\n"
                    f"{result.stderr.strip()}\nput the wheel in the --mirror folder, or set PIP_INDEX_URL to a mirror"
                )
            data = _verified(wheel.read_bytes(), pin.sha256, pin.file)
        self.downloads.mkdir(parents=True, exist_ok=True)
        (self.downloads / pin.file).write_bytes(data)
        return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def add_crds(build: Path, index: dict, text: str, source: str, label: str) -> int:
    written = 0
    for crd in iter_crds(text, source):
        group, kind, versions = crd_versions(crd, source)
        known = index["crds"].setdefault(group, {})
        if kind in known:
            raise SyncError(f"{source}: {group} {kind} is already defined by {known[kind]['source']}; keep one of them")
        known[kind] = {"source": label, "versions": [{k: v for k, v in version.items() if k != "schema"} for version in versions]}
        for version in versions:
            if version["schema"] is not None:
                _write(build / CRD_FOLDER / group / crd_schema_name(kind, version["name"]),
                       json.dumps(version["schema"], sort_keys=True, separators=(",", ":")).encode())
                written += 1
    return written


def user_crd_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()) if folder.is_dir() else []


def sources_digest(sources_raw: bytes, user_files: list[Path]) -> str:
    digest = hashlib.sha256(sources_raw)
    for path in user_files:
        digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# The pinned CRD files themselves (Flux's, KubeRay's, Kueue's), at their mirror paths: `aiops
# simulate` installs Flux's from here, as `flux bootstrap` would.
CRD_SOURCES_FOLDER = "crd-sources"


def build_cache(
    cache: Path,
    *,
    sources_path: Path = SOURCES_FILE,
    user_crds: Path = USER_CRDS,
    mirror: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Build the whole cache beside `cache` and swap it in; returns the new index."""
    sources, raw = load_sources(sources_path)
    users = user_crd_files(user_crds)
    cache = cache.resolve()
    cache.parent.mkdir(parents=True, exist_ok=True)
    downloads = cache / DOWNLOADS
    fetch = Fetcher(mirror, downloads, log)
    build = Path(tempfile.mkdtemp(prefix=".aiops-schemas-", dir=cache.parent))
    try:
        index: dict = {
            "format": INDEX_FORMAT,
            "sources": sources_digest(raw, users),
            "kubernetes": {"package": f"{sources.kubernetes.package} {sources.kubernetes.version}", "versions": [], "default": full_version(sources.kubernetes.default)},
            "crds": {},
        }
        wheel = zipfile.ZipFile(io.BytesIO(fetch.wheel(sources.kubernetes.as_wheel())))
        names = wheel.namelist()
        for version in sources.kubernetes.versions:
            full = full_version(version)
            prefix = _WHEEL_SCHEMA_FOLDER.format(version=full)
            files = {name[len(prefix):]: wheel.read(name) for name in names if name.startswith(prefix) and name.endswith(".json") and "/" not in name[len(prefix):]}
            if not files:
                raise SyncError(f"{sources.kubernetes.wheel} has no schemas for Kubernetes {version}; choose versions it carries")
            count = 0
            for name, data in standalone_kind_schemas(files):
                _write(build / CORE_FOLDER / f"v{full}-standalone-strict" / name, data)
                count += 1
            index["kubernetes"]["versions"].append(full)
            log(f"Kubernetes {full}: {count} kinds from {sources.kubernetes.package} {sources.kubernetes.version}")
        for bundle in sources.crds:
            label = f"{bundle.name} {bundle.version}"
            count = 0
            texts: list[tuple[str, str]] = [(pin.mirror, fetch.file(pin).decode()) for pin in bundle.files]
            if bundle.wheel:
                archive = zipfile.ZipFile(io.BytesIO(fetch.wheel(bundle.wheel)))
                for member in bundle.wheel.members:
                    try:
                        texts.append((f"{bundle.wheel.file}:{member}", archive.read(member).decode()))
                    except KeyError:
                        raise SyncError(f"{bundle.wheel.file} has no member {member}; check schemas/sources.yaml") from None
            for source, text in texts:
                count += add_crds(build, index, text, source, label)
                if ":" not in source:  # a pinned CRD file: kept as it is for `aiops simulate`, which installs it
                    _write(build / CRD_SOURCES_FOLDER / source, text.encode())
            log(f"{label}: {count} CRD schemas")
        for path in users:
            try:
                count = add_crds(build, index, path.read_text(encoding="utf-8"), str(path), f"{path} (your own)")
            except (NotACrd, UnicodeDecodeError) as exc:
                raise SyncError(f"{exc}; schemas/crds/ may hold only CustomResourceDefinitions") from None
            log(f"{path}: {count} CRD schemas")
        (build / INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if downloads.is_dir():
            shutil.move(str(downloads), build / DOWNLOADS)
        _swap(build, cache)
        return index
    except NotACrd as exc:
        raise SyncError(str(exc)) from None
    finally:
        if build.exists():
            if (build / DOWNLOADS).is_dir() and not downloads.exists():
                shutil.move(str(build / DOWNLOADS), downloads)  # keep verified downloads on failure too
            shutil.rmtree(build, ignore_errors=True)


def _swap(build: Path, cache: Path) -> None:
    old = cache.with_name(cache.name + ".previous")
    shutil.rmtree(old, ignore_errors=True)
    if cache.exists():
        os.rename(cache, old)
    os.rename(build, cache)
    shutil.rmtree(old, ignore_errors=True)
