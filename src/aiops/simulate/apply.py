"""Running `flux-apply`, our Go program on kustomize-controller's own apply and health-check code
(github.com/fluxcd/pkg/ssa and its kstatus poller): see tools/go/flux-apply/main.go."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aiops.simulate.binaries import tool

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
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
          wait: bool = False, timeout: str = "5m", give_up: Callable[[], str | None] | None = None) -> ApplyResult:
    """Apply `objects` server-side as `field_manager` (staged as kustomize-controller stages them)
    and, with `wait`, run its health check on them; `owner`: (group, name, namespace) labels.

    `give_up` is asked once a second during the health check: a reason when waiting longer
    cannot help (the cluster has settled with pods the scheduler cannot place), None to go on.
    """
    request = {
        "kubeconfig": str(kubeconfig), "fieldManager": field_manager,
        "ownerGroup": owner[0] if owner else "", "ownerName": owner[1] if owner else "", "ownerNamespace": owner[2] if owner else "",
        "objects": yaml.dump_all(objects, Dumper=DUMPER, sort_keys=False), "wait": wait, "timeout": timeout,
    }
    started = time.monotonic()
    process = subprocess.Popen([str(tool("flux-apply")), "apply"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output: dict[str, str] = {}
    reader = threading.Thread(target=lambda: output.update(zip(("stdout", "stderr"), process.communicate(json.dumps(request)))), daemon=True)
    reader.start()
    while reader.is_alive():
        reader.join(1.0)
        reason = give_up() if (give_up is not None and wait and reader.is_alive()) else None
        if reason:
            process.terminate()
            reader.join()
            return ApplyResult(health_error=reason, seconds=time.monotonic() - started)
    if process.returncode != 0:
        return ApplyResult(apply_error=output.get("stderr", "").strip() or f"flux-apply exited with {process.returncode}")
    data = json.loads(output["stdout"])
    return ApplyResult(data.get("changes") or [], data.get("applyError", ""), data.get("healthError", ""), bool(data.get("healthy")), float(data.get("seconds", 0)))
