"""`cdk8s synth` (see cdk8s.yaml): rewrite dist/, then hand the manifests to the cdk8s CLI.

The CLI sets CDK8S_OUTDIR (cdk8s.out, or a temporary folder for `--stdout`) and lists or
prints the YAML it finds there, so the dist/ manifests are copied into it, folders and all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aiops.entrypoints import DIST, read_tree, synthesize_into_dist
from aiops.layout import KUSTOMIZATION_FILE


def main() -> None:
    outdir = Path(os.environ.get("CDK8S_OUTDIR", "cdk8s.out"))
    with tempfile.TemporaryDirectory(prefix="aiops-cdk8s-") as workdir:
        synthesize_into_dist(Path(workdir))
    for path, data in read_tree(DIST).items():
        if path.suffix == ".yaml" and path.name != KUSTOMIZATION_FILE:
            target = outdir.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


if __name__ == "__main__":
    main()
