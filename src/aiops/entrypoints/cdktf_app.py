"""`cdktn synth` (see cdktf.json): rewrite dist/ and leave the regular cdktf.out for the CLI.

The CLI sets CDKTF_OUTDIR and then reads manifest.json and stacks/<stack>/cdk.tf.json from
it (for `cdktn diff`, `cdktn deploy`, ...). The synthesis that writes dist/ also writes that
folder, so both come from the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from aiops.entrypoints import synthesize_into_dist


def main() -> None:
    outdir = Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    with tempfile.TemporaryDirectory(prefix="aiops-cdktf-") as workdir:
        synthesis = synthesize_into_dist(Path(workdir))
        # Each environment is its own cdktn app (aiops.synth): merge their outputs into one.
        manifest: dict = {}
        for name in synthesis.environments:
            out = Path(workdir) / name / "cdktf.out"
            shutil.copytree(out, outdir, dirs_exist_ok=True)
            part = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            manifest = {**part, "stacks": {**manifest.get("stacks", {}), **part["stacks"]}}
        (outdir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
