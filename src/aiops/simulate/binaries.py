"""Where the simulation's programs are, and which Kubernetes versions it can run.

Everything is built by the set-up (scripts/bootstrap.sh) from pinned Go modules:

- `tools/kubernetes/<minor>/`: kube-apiserver, kube-controller-manager, kube-scheduler and
  kubectl of one Kubernetes minor, into `.venv/libexec/aiops/kubernetes-<minor>/`;
- `tools/go/<tool>/`: etcd, KWOK, Helm, flux-apply (ours), the KubeRay operator and Kueue's
  controller manager, into `.venv/bin/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The minors the Go module proxy serves as k8s.io/kubernetes (v1.34.x to v1.37.x, 2026-12); a
# minor outside this list cannot be built here at all.
SERVED_MINORS = ("1.34", "1.35", "1.36", "1.37")


class MissingBinary(Exception):
    """A program the simulation needs is not built (exit status 2)."""


def _venv() -> Path:
    return Path(sys.executable).parent.parent


def built_minors() -> list[str]:
    """The Kubernetes minors whose control plane the set-up has built."""
    libexec = _venv() / "libexec" / "aiops"
    found = [p.name.removeprefix("kubernetes-") for p in libexec.glob("kubernetes-*") if (p / "kube-apiserver").exists()]
    return sorted(found, key=lambda minor: tuple(int(part) for part in minor.split(".")))


def control_plane_dir(minor: str) -> Path:
    """The folder of the control-plane binaries of `minor`, or MissingBinary saying what can run."""
    folder = _venv() / "libexec" / "aiops" / f"kubernetes-{minor}"
    if (folder / "kube-apiserver").exists():
        return folder
    built = built_minors()
    repository = Path(__file__).resolve().parents[3]
    pinned = sorted(p.name for p in (repository / "tools" / "kubernetes").glob("1.*"))
    if minor not in SERVED_MINORS:
        raise MissingBinary(
            f"Kubernetes {minor} cannot be simulated: the Go module proxy serves k8s.io/kubernetes "
            f"{', '.join(SERVED_MINORS)} only, and this set-up builds {', '.join(built) or 'none'}; "
            f"move the environment's kubernetesVersion to one of those"
        )
    if minor in pinned:
        raise MissingBinary(f"the Kubernetes {minor} control plane is pinned in tools/kubernetes/{minor} but not built: run `make setup`")
    raise MissingBinary(
        f"Kubernetes {minor} is not pinned for simulation (tools/kubernetes/ pins {', '.join(pinned) or 'none'}, "
        f"built: {', '.join(built) or 'none'}); add tools/kubernetes/{minor} like tools/kubernetes/{pinned[-1] if pinned else '1.36'} "
        f"and run `make setup`"
    )


def tool(name: str) -> Path:
    """One of the tools in .venv/bin (etcd, kwok, helm, flux-apply, ray-operator, kueue)."""
    path = _venv() / "bin" / name
    if not path.exists():
        raise MissingBinary(f"{name} is not installed: run `make setup` (it builds tools/go/{name} into .venv/bin)")
    return path
