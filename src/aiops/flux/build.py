"""Running `flux-build`, our small Go program on kustomize-controller's own build code.

`tools/go/flux-build` is built by the set-up into `.venv/bin/flux-build`. It does what
kustomize-controller v1.9.4 does between fetching an artifact and applying it (generate the
kustomization.yaml with spec.patches/images/targetNamespace/..., kustomize build, postBuild
substitution) by calling github.com/fluxcd/pkg/kustomize, and what source-controller does
to turn a checkout into an artifact (.sourceignore, spec.ignore, default exclusions).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class FluxBuildMissing(Exception):
    """The flux-build binary is not installed (exit status 2)."""


def flux_build_binary() -> Path:
    """The project's flux-build: next to this Python (.venv/bin), else on PATH."""
    beside = Path(sys.executable).parent / "flux-build"
    if beside.exists():
        return beside
    found = shutil.which("flux-build")
    if found:
        return Path(found)
    raise FluxBuildMissing(
        "flux-build is not installed: run `make setup` (it builds tools/go/flux-build with Go into .venv/bin)"
    )


def _run(args: list[str], stdin: str | None = None) -> str:
    result = subprocess.run([str(flux_build_binary()), *args], input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"flux-build {args[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def make_artifact(checkout: Path, artifact: Path, ignore: str | None) -> None:
    """Copy into `artifact` what source-controller would archive from `checkout`."""
    _run(["artifact", *(["--ignore", ignore] if ignore is not None else []), str(checkout), str(artifact)])


@dataclass(frozen=True)
class BuildJob:
    id: str
    kustomization: dict[str, Any]  # the Flux Kustomization object
    strict: bool = True
    sources: tuple[dict[str, Any], ...] = ()  # ConfigMaps/Secrets postBuild.substituteFrom may read


@dataclass(frozen=True)
class BuiltObject:
    origin: str  # file relative to the repository root ("" when kustomize generated the object)
    body: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class BuildResult:
    id: str
    stage: str  # ok | decode | path | generate | build | conventions | substitute
    error: str
    undefined: tuple[tuple[str, str, tuple[str, ...]], ...]  # (object, origin file, variables)
    generated: bool  # Flux generated the kustomization.yaml (the folder has none)
    kustomization_file: str | None  # relative to the repository root
    kustomization: str  # the kustomization.yaml Flux builds, after adding the spec fields
    objects: tuple[BuiltObject, ...]

    @property
    def ok(self) -> bool:
        return self.stage == "ok"


def build(artifact: Path, jobs: list[BuildJob]) -> dict[str, BuildResult]:
    """Build each Kustomization in a fresh copy of the artifact (one flux-build run); results by job id."""
    if not jobs:
        return {}
    request = {
        "artifact": str(artifact),
        "kustomizations": [
            {"id": job.id, "object": job.kustomization, "strict": job.strict, "sources": list(job.sources)} for job in jobs
        ],
    }
    response = json.loads(_run(["build"], json.dumps(request, default=str)))
    results = {}
    for raw in response["results"]:
        results[raw["id"]] = BuildResult(
            id=raw["id"],
            stage=raw["stage"],
            error=raw.get("error", ""),
            undefined=tuple((u["object"], u.get("origin", ""), tuple(u["variables"])) for u in raw.get("undefined") or []),
            generated=raw.get("generated", False),
            kustomization_file=raw.get("kustomizationFile") or None,
            kustomization=raw.get("kustomization", ""),
            objects=tuple(BuiltObject(o.get("origin", ""), o["object"]) for o in raw.get("objects") or []),
        )
    return results
