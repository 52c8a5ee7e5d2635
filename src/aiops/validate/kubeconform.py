"""Running the pinned kubeconform against the local schema cache, and reading what it says.

kubeconform runs as a subprocess with `-strict -output json`, reading schemas from the cache
folder only (every -schema-location is a local path template, so it never touches the network).
It is started before the platform rules run and read after them, so the two overlap; this
module is imported before anything else of the validator, so it keeps its imports light.
What kubeconform says about a field is read by `schema_errors.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aiops.validate.errors import ToolError

PINNED_VERSION = "v0.7.0"  # tools/go/kubeconform/go.mod pins the same (tests/test_validate_cli.py checks)
BINARY_ENV = "AIOPS_KUBECONFORM"
INSTALL_HINT = "run `make setup` in the project (it builds the pinned kubeconform into .venv/bin)"


def locate() -> Path:
    """The kubeconform to run: $AIOPS_KUBECONFORM, else the one beside this Python (.venv/bin), else PATH."""
    configured = os.environ.get(BINARY_ENV)
    if configured:
        candidate = Path(configured)
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise ToolError(f"kubeconform not found at {candidate} (from ${BINARY_ENV}); {INSTALL_HINT}")
        return candidate
    beside = Path(sys.executable).parent / "kubeconform"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    import shutil  # not needed on the usual path, and not cheap to import

    found = shutil.which("kubeconform")
    if found:
        return Path(found)
    raise ToolError(f"kubeconform {PINNED_VERSION} is not installed (looked in {beside.parent} and on PATH); {INSTALL_HINT}")


def ask_version(binary: Path) -> subprocess.Popen[bytes]:
    """Start `kubeconform -v`; `check_version` reads it (the validation starts meanwhile)."""
    try:
        return subprocess.Popen([str(binary), "-v"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as exc:
        raise ToolError(f"{binary} does not run ({exc}); {INSTALL_HINT}") from None


def check_version(binary: Path, asked: subprocess.Popen[bytes] | None = None) -> None:
    asked = asked or ask_version(binary)
    try:
        stdout, _ = asked.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        asked.kill()
        raise ToolError(f"{binary} -v did not answer; {INSTALL_HINT}") from None
    version = stdout.decode(errors="replace").strip()
    if asked.returncode != 0 or version != PINNED_VERSION:
        raise ToolError(f"{binary} is kubeconform {version or '(unknown version)'}, but aiops needs {PINNED_VERSION}; {INSTALL_HINT}")


def start(binary: Path, files: list[str], schema_locations: list[str], kubernetes_version: str, share: int = 1) -> subprocess.Popen[bytes] | None:
    """Start kubeconform on these files (None when there are none); read it with `results`.
    `share`: how many kubeconform run at once (one per Kubernetes version), sharing the workers."""
    if not files:
        return None
    # kubeconform runs beside the platform rules (see validate()); leave them one core, or the
    # two contend and both slow down (scripts/bench_validate.py on 2 cores, 2026-11-28, before the
    # other start-up work was cut: 1.25x to 1.53x kubeconform alone with one worker, 1.56x to
    # 1.57x with two, 1.65x to 1.66x with kubeconform's default of four).
    workers = str(max(1, ((os.cpu_count() or 2) - 1) // max(1, share)))
    arguments = [str(binary), "-strict", "-output", "json", "-n", workers, "-kubernetes-version", kubernetes_version]
    for location in schema_locations:
        arguments += ["-schema-location", location]
    return subprocess.Popen([*arguments, "--", *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def results(process: subprocess.Popen[bytes] | None) -> list[dict]:
    """kubeconform's results: one dict per object it did not find valid."""
    if process is None:
        return []
    stdout, stderr = process.communicate()
    try:
        return list(json.loads(stdout or b"{}").get("resources") or [])
    except ValueError:
        raise ToolError(f"kubeconform exited {process.returncode} without JSON output: {stderr.decode(errors='replace').strip()}") from None
