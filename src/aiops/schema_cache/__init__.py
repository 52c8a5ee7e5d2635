"""The schema cache that `aiops validate` hands to kubeconform: local files only, never the network.

Layout (built by `aiops schemas sync`, see `sync.py`; pinned by schemas/sources.yaml):

    <cache>/index.json                                        what is in the cache, and from where
    <cache>/kubernetes/v1.36.0-standalone-strict/<kind>-<group>-<version>.json
    <cache>/crds/<group>/<kind>_<version>.json                 CRD schemas (openapi2jsonschema style)
    <cache>/downloads/                                         verified wheels, kept for the next sync

The cache lives inside the installation (`.venv/share/aiops/schemas` for this project), or where
AIOPS_SCHEMA_CACHE points. This module only reads it and is cheap to import: validation starts
kubeconform before anything heavy is loaded.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cached_property
from pathlib import Path

CACHE_ENV = "AIOPS_SCHEMA_CACHE"
INDEX_FILE = "index.json"
INDEX_FORMAT = 1
CORE_FOLDER = "kubernetes"
CRD_FOLDER = "crds"

# kubeconform's template variables: NormalizedKubernetesVersion is "v" + the -kubernetes-version
# given; StrictSuffix is "-strict" with -strict; KindSuffix is "-<first part of the group>-<version>".
CORE_TEMPLATE = "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
CRD_TEMPLATE = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


def default_cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(sys.prefix) / "share" / "aiops" / "schemas"


def full_version(version: str) -> str:
    """'1.36' -> '1.36.0'; 'v1.36.2' -> '1.36.2' (kubeconform wants major.minor.patch)."""
    parts = version.strip().lstrip("v").split(".")
    return ".".join((parts + ["0", "0"])[:3])


def crd_schema_name(kind: str, version: str) -> str:
    return f"{kind.lower()}_{version}.json"


class CacheError(Exception):
    """The cache is missing, stale or incomplete; the message says how to fix it."""


class SchemaCache:
    """The cache at `root`. A plain class: `aiops validate` builds one before it imports dataclasses."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"SchemaCache({str(self.root)!r})"

    @cached_property
    def index(self) -> dict[str, object]:
        path = self.root / INDEX_FILE
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CacheError(
                f"no schema cache at {self.root}; build it with `aiops schemas sync` "
                "(or `make setup`, which runs it from the mirror; see README)"
            ) from None
        except (OSError, ValueError) as exc:
            raise CacheError(f"the schema cache index {path} is unreadable ({exc}); rebuild it with `aiops schemas sync`") from None
        if index.get("format") != INDEX_FORMAT:
            raise CacheError(f"the schema cache at {self.root} has an old format; rebuild it with `aiops schemas sync`")
        return index

    @property
    def kubernetes_versions(self) -> list[str]:
        return list(self.index["kubernetes"]["versions"])

    @property
    def default_kubernetes_version(self) -> str:
        return str(self.index["kubernetes"]["default"])

    def kubernetes_version(self, requested: str | None) -> str:
        """The full version to validate against; CacheError when the cache has no schemas for it."""
        version = full_version(requested) if requested else self.default_kubernetes_version
        if version not in self.kubernetes_versions:
            have = ", ".join(v.rsplit(".", 1)[0] for v in self.kubernetes_versions)
            raise CacheError(
                f"the schema cache has no Kubernetes {version.rsplit('.', 1)[0]} schemas (it has {have}); "
                "add the version to kubernetes.versions in schemas/sources.yaml and run `aiops schemas sync`"
            )
        return version

    def schema_locations(self) -> list[str]:
        """kubeconform -schema-location arguments: Kubernetes kinds first, then the CRDs."""
        return [str(self.root / CORE_FOLDER / CORE_TEMPLATE), str(self.root / CRD_FOLDER / CRD_TEMPLATE)]

    def sources_digest(self) -> str:
        return str(self.index.get("sources", ""))

    def crd(self, group: str, kind: str) -> dict | None:
        """What the cache knows of a custom resource kind: its served versions and where it came from."""
        return (self.index.get("crds", {}).get(group) or {}).get(kind)

    def schema_file(self, api_version: str, kind: str, kubernetes_version: str) -> Path | None:
        """The file kubeconform reads for this kind, where the cache has one."""
        group, _, version = api_version.rpartition("/")
        if group and self.crd(group, kind) is not None:
            path = self.root / CRD_FOLDER / group / crd_schema_name(kind, version)
        else:
            suffix = "-" + (group.split(".")[0].lower() if group else version.lower())
            if group:
                suffix += "-" + version.lower()
            path = self.root / CORE_FOLDER / f"v{kubernetes_version}-standalone-strict" / f"{kind.lower()}{suffix}.json"
        return path if path.is_file() else None
