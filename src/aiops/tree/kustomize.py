"""Files that a kustomization.yaml reads as build inputs, not as objects.

A patch (`patches: [{path: ...}]`, `patchesStrategicMerge`, `patchesJson6902`), a generator's
source file (`configMapGenerator` / `secretGenerator` `files` and `envs`), a transformer
configuration (`configurations`), a replacement, an OpenAPI file or a Helm values file is not
applied to a cluster: kustomize reads it while building. A patch looks like an object (it has
apiVersion, kind and name) but is partial on purpose, so judging it as an object gives false
alarms (`spec: missing property 'interval'` on a HelmRelease values patch). What the build
produces from it is checked by building (`aiops flux check`, `aiops validate --flux`).

A file that some kustomization.yaml also lists under `resources` is an object there, and stays one.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any


def _paths(value: Any) -> list[str]:
    """File names in a list of strings or of mappings with `path`."""
    found = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str) and "\n" not in item:
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            found.append(item["path"])
    return found


def _generator_files(value: Any) -> list[str]:
    found = []
    for generator in value if isinstance(value, list) else []:
        if not isinstance(generator, dict):
            continue
        for entry in [*(generator.get("files") or []), *(generator.get("envs") or []), generator.get("env")]:
            if isinstance(entry, str):
                found.append(entry.split("=", 1)[1] if "=" in entry else entry)
    return found


def input_files(kustomization: dict[str, Any]) -> dict[str, str]:
    """The files one kustomization.yaml reads as inputs, relative to its folder: {file: how}."""
    inputs: dict[str, str] = {}
    for field in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        for path in _paths(kustomization.get(field)):
            inputs.setdefault(path, f"a patch ({field})")
    for path in _generator_files(kustomization.get("configMapGenerator")):
        inputs.setdefault(path, "a configMapGenerator source")
    for path in _generator_files(kustomization.get("secretGenerator")):
        inputs.setdefault(path, "a secretGenerator source")
    for field in ("configurations", "crds", "replacements", "transformers", "generators", "validators"):
        for path in _paths(kustomization.get(field)):
            inputs.setdefault(path, f"a kustomize input ({field})")
    openapi = kustomization.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        inputs.setdefault(openapi["path"], "an OpenAPI schema (openapi)")
    for chart in kustomization.get("helmCharts") or []:
        if isinstance(chart, dict) and isinstance(chart.get("valuesFile"), str):
            inputs.setdefault(chart["valuesFile"], "Helm values (helmCharts valuesFile)")
    return inputs


def kustomize_inputs(kustomize_files: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Files (named as the kustomization.yaml files are) that are only build inputs, with why:
    {"apps/production/podinfo-values.yaml": "a patch (patches) in apps/production/kustomization.yaml"}."""
    inputs: dict[str, str] = {}
    resources: set[str] = set()
    for file, body in kustomize_files:
        if not isinstance(body, dict):
            continue
        folder = posixpath.dirname(file)
        for path in _paths(body.get("resources")):
            resources.add(posixpath.normpath(posixpath.join(folder, path)))
        for path, how in input_files(body).items():
            inputs.setdefault(posixpath.normpath(posixpath.join(folder, path)), f"{how} in {file}")
    return {file: how for file, how in sorted(inputs.items()) if file not in resources}
