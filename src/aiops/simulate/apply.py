"""Running `flux-apply`, our Go program on kustomize-controller's own apply and health-check code
(github.com/fluxcd/pkg/ssa and its kstatus poller): see tools/go/flux-apply/main.go.

`Applier` keeps one `flux-apply serve` per control plane: every apply of a simulation goes
through it."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiops.simulate.binaries import tool

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


class Applier:
    """One `flux-apply serve` beside a control plane: every apply of a simulation goes through
    it, in turn, on one client and REST mapper (as one kustomize-controller and one
    helm-controller would), instead of a process, a TLS session and a discovery per apply.
    It is one of the plane's components: stopped with it, and dead with its parent."""

    def __init__(self, plane) -> None:
        self.component = plane.start("flux-apply", [str(tool("flux-apply")), "serve", f"--kubeconfig={plane.kubeconfig}"], pipes=True)
        self._answers: queue.Queue[str] = queue.Queue()
        self._last = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.component.process.stdout:
            self._answers.put(line)
        self._answers.put("")  # it ended

    def apply(self, objects: list[dict[str, Any]], *, field_manager: str, owner: tuple[str, str, str] | None = None,
              wait: bool = False, timeout: str = "5m", give_up: Callable[[], str | None] | None = None, helm: bool = False,
              record: Path | None = None) -> ApplyResult:
        """Apply `objects` server-side as `field_manager` (staged as kustomize-controller stages them,
        or with `helm` as helm-controller's Helm creates a chart's objects, in their order) and,
        with `wait`, run its health check on them; `owner`: (group, name, namespace) labels.

        `give_up` is asked once a second during the health check: a reason when waiting longer
        cannot help (the cluster has settled with pods the scheduler cannot place), None to go on.
        `record`: a file to write the objects to, as they are sent.
        """
        self._last += 1
        number = self._last
        # JSON, which the Go side reads as it reads YAML and Python writes ten times faster.
        documents = [json.dumps(o, ensure_ascii=False, default=_as_yaml_text) for o in objects]
        if record is not None:
            record.write_text("".join(f"---\n{d}\n" for d in documents))  # JSON is YAML: one document each
        request = {
            "id": number, "fieldManager": field_manager,
            "ownerGroup": owner[0] if owner else "", "ownerName": owner[1] if owner else "", "ownerNamespace": owner[2] if owner else "",
            "objects": "\n".join(documents), "wait": wait, "timeout": timeout, "engine": "helm" if helm else "",
        }
        started = time.monotonic()
        reason = None
        if not self._send(request):
            return self._died()
        while True:
            try:
                line = self._answers.get(timeout=1.0)
            except queue.Empty:
                if reason is None and give_up is not None and wait:
                    reason = give_up()
                    if reason and not self._send({"cancel": number}):
                        return self._died()
                continue
            if not line:
                return self._died()
            data = json.loads(line)
            if data.get("id") != number:
                continue  # the answer to a request given up on before
            if reason:
                return ApplyResult(health_error=reason, seconds=time.monotonic() - started)
            if data.get("error"):
                return ApplyResult(apply_error=f"flux-apply: {data['error']}")
            return ApplyResult(data.get("changes") or [], data.get("applyError", ""), data.get("healthError", ""), bool(data.get("healthy")), float(data.get("seconds", 0)))

    def _send(self, message: dict[str, Any]) -> bool:
        try:
            self.component.process.stdin.write(json.dumps(message) + "\n")
            self.component.process.stdin.flush()
            return True
        except (OSError, ValueError):  # a closed pipe: it has ended
            return False

    def _died(self) -> ApplyResult:
        self.component.process.wait(10)
        return ApplyResult(apply_error=f"flux-apply exited with {self.component.process.returncode}; its log ends:\n{self.component.tail()}")


def _as_yaml_text(value: Any) -> str:
    """A YAML timestamp of a chart's manifest (loaded as a date), written back as YAML would."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat(" ") if isinstance(value, datetime.datetime) else value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} {value!r} to the API server")
