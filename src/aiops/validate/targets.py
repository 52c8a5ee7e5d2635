"""Which Kubernetes version each file is validated against.

A tree that `aiops synth` wrote says which version its cluster runs: dist/<env>/terraform/
declares the cluster with the environment's kubernetesVersion (aws_eks_cluster.version,
azurerm_kubernetes_cluster.kubernetes_version, google_container_cluster.min_master_version).
That attribute is what creates the cluster, so it cannot disagree with the version that runs
there (`aiops simulate` reads the same attribute). Every file under dist/<env>/ (cluster/,
infrastructure/, apps/, terraform/) is checked at its environment's version, even when only one
of those folders is validated. `--kubernetes-version` overrides them all; any other file (a
foreign tree, an environment folder without cluster Terraform) is checked at the schema cache's
default (schemas/sources.yaml says why it is the version it is).

Kept light (json and pathlib only): kubeconform starts after this has run (start.py).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from aiops.schema_cache import SchemaCache, full_version
from aiops.tree.files import environment_folder, iter_files
from aiops.validate.errors import UsageError

# (Terraform resource type, the attribute holding its Kubernetes version)
CLUSTER_VERSION_ATTRIBUTES = (
    ("aws_eks_cluster", "version"),
    ("azurerm_kubernetes_cluster", "kubernetes_version"),
    ("google_container_cluster", "min_master_version"),
)
TERRAFORM_SUFFIX = ".tf.json"
DEFAULT_SOURCE = "the schema cache's default (schemas/sources.yaml)"
REQUESTED_SOURCE = "--kubernetes-version"
# EKS "1.36", AKS "1.36" or "1.36.3", GKE "1.36" or "1.36.3-gke.1200": the minor is what matters.
_MINOR = re.compile(r"^v?(\d+)\.(\d+)(?:[.-]|$)")


class Targets:
    """The version of each file: its environment's cluster, --kubernetes-version, or the default."""

    def __init__(self, cache: SchemaCache, requested: str | None) -> None:
        self.cache = cache
        self.requested = requested is not None
        self.default = cache.kubernetes_version(requested)  # full, e.g. 1.36.0; CacheError when not cached
        self.default_source = REQUESTED_SOURCE if self.requested else DEFAULT_SOURCE
        self._folders: dict[str, tuple[str, str] | None] = {}  # environment folder -> (full version, where it is declared)
        self._scopes: dict[str, tuple[str | None, str, str]] = {}

    def version_of(self, file: str) -> str:
        return self.scope_of(file)[1]

    def scope_of(self, file: str) -> tuple[str | None, str, str]:
        """(the environment folder or None, the full version, where the version comes from)."""
        if file not in self._scopes:  # asked for every object by the rules
            self._scopes[file] = self._scope_of(file)
        return self._scopes[file]

    def _scope_of(self, file: str) -> tuple[str | None, str, str]:
        if self.requested:
            return None, self.default, self.default_source
        # (validated from inside an environment folder, `apps/x.yaml` names no environment: its full path does)
        folder = environment_folder(file) or environment_folder(os.path.abspath(file))
        if folder is None:
            return None, self.default, self.default_source
        if folder not in self._folders:
            self._folders[folder] = self._cluster_version(folder)
        declared = self._folders[folder]
        if declared is None:
            return None, self.default, self.default_source
        return folder, declared[0], declared[1]

    def scopes(self, files: list[str]) -> list[tuple[str | None, str, str]]:
        """The distinct scopes of these files, environment folders first (by name), then the rest."""
        found = {self.scope_of(file) for file in files}
        return sorted(found, key=lambda scope: (scope[0] is None, scope[0] or "", scope[1]))

    def _cluster_version(self, folder: str) -> tuple[str, str] | None:
        declared = cluster_versions(Path(folder) / "terraform")
        if not declared:
            return None
        versions = sorted({minor for minor, _, _ in declared})
        if len(versions) > 1:
            listed = "; ".join(f"{what} at {where} runs {minor}" for minor, where, what in declared)
            raise UsageError(
                f"{folder}: its Terraform declares clusters of different Kubernetes versions ({listed}); "
                "one environment folder is one cluster: give them one kubernetesVersion, or pass --kubernetes-version"
            )
        minor, where, what = declared[0]
        if full_version(minor) not in self.cache.kubernetes_versions:
            have = ", ".join(v.rsplit(".", 1)[0] for v in self.cache.kubernetes_versions)
            raise UsageError(
                f"{where}: {what} runs Kubernetes {minor}, and the schema cache has no Kubernetes {minor} schemas (it has {have}); "
                f'add "{minor}" to kubernetes.versions in schemas/sources.yaml and run `aiops schemas sync` (or `make setup`), '
                "or pass --kubernetes-version to check this tree at another version"
            )
        return full_version(minor), where


def cluster_versions(folder: Path) -> list[tuple[str, str, str]]:
    """(minor, file:line, resource address) of every cluster the Terraform under `folder` declares
    with a literal version. Unreadable files are left to the Terraform rules, which report them."""
    if not folder.is_dir():
        return []
    found = []
    for path in iter_files([folder], (TERRAFORM_SUFFIX,)):
        try:
            text = path.read_text(encoding="utf-8")
            resources = json.loads(text).get("resource")
        except (OSError, ValueError, UnicodeDecodeError, AttributeError):
            continue
        if not isinstance(resources, dict):
            continue
        for kind, attribute in CLUSTER_VERSION_ATTRIBUTES:
            blocks = resources.get(kind)
            for name, body in (blocks.items() if isinstance(blocks, dict) else ()):
                value = body.get(attribute) if isinstance(body, dict) else None
                match = _MINOR.match(value) if isinstance(value, str) else None
                if match is None:
                    continue  # no version, or one Terraform computes (a variable): not known from the files
                found.append((f"{match.group(1)}.{match.group(2)}", _where(path, text, attribute, value), f"{kind}.{name}"))
    return found


def _where(path: Path, text: str, attribute: str, value: str) -> str:
    """file:line of the attribute (cdktn writes one key a line), the file alone when not found."""
    at = text.find(f'"{attribute}": {json.dumps(value)}')
    return f"{path}:{text.count(chr(10), 0, at) + 1}" if at >= 0 else str(path)
