"""aiops-gitops: GitOps manifests for a multi-cloud GPU ML platform, from one typed model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__version__ = "0.1.0"


def _use_project_node() -> None:
    """Put the project's Node.js (linked into the virtualenv by the set-up) first on PATH.

    jsii, under cdk8s and cdktn, starts `node` from PATH the first time a construct library is
    imported. The machine's Node may be one jsii no longer supports (it prints a banner, or
    fails); the set-up links a supported Node 22 next to this Python, so prefer that one.
    """
    bindir = Path(sys.executable).parent
    if (bindir / "node").exists():
        path = os.environ.get("PATH", "")
        if path.split(os.pathsep, 1)[0] != str(bindir):
            os.environ["PATH"] = f"{bindir}{os.pathsep}{path}"


_use_project_node()
