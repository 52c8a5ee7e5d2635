"""Running `flux-apply`, our Go program on kustomize-controller's own apply and health-check code
(github.com/fluxcd/pkg/ssa and its kstatus poller): see tools/go/flux-apply/main.go."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aiops.simulate.binaries import tool

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
KUSTOMIZE_CONTROLLER = "kustomize-controller"
HELM_CONTROLLER = "helm-controller"


@dataclass
class ApplyResult:
    changes: list[dict[str, str]] = field(default_factory=list)
    apply_error: str = ""
    health_error: str = ""
    healthy: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.apply_error and self.healthy


def apply(kubeconfig: Path, objects: list[dict[str, Any]], *, field_manager: str, owner: tuple[str, str, str] | None = None,
          wait: bool = False, timeout: str = "5m") -> ApplyResult:
    """Apply `objects` server-side as `field_manager` (staged as kustomize-controller stages them)
    and, with `wait`, run its health check on them; `owner`: (group, name, namespace) labels."""
    request = {
        "kubeconfig": str(kubeconfig), "fieldManager": field_manager,
        "ownerGroup": owner[0] if owner else "", "ownerName": owner[1] if owner else "", "ownerNamespace": owner[2] if owner else "",
        "objects": yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False), "wait": wait, "timeout": timeout,
    }
    result = subprocess.run([str(tool("flux-apply")), "apply"], input=json.dumps(request), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return ApplyResult(apply_error=result.stderr.strip() or f"flux-apply exited with {result.returncode}")
    data = json.loads(result.stdout)
    return ApplyResult(data.get("changes") or [], data.get("applyError", ""), data.get("healthError", ""), bool(data.get("healthy")), float(data.get("seconds", 0)))
