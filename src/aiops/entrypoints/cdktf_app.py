"""`cdktn synth` (see cdktf.json): rewrite dist/ and leave the regular cdktf.out for the CLI.

The CLI sets CDKTF_OUTDIR and then reads manifest.json and stacks/<stack>/cdk.tf.json from
it (for `cdktn diff`, `cdktn deploy`, ...). The synthesis that writes dist/ also writes that
folder, so both come from the same run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from aiops.entrypoints import synthesize_into_dist


def main() -> None:
    outdir = Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    with tempfile.TemporaryDirectory(prefix="aiops-cdktf-") as workdir:
        synthesize_into_dist(Path(workdir))
        shutil.copytree(Path(workdir) / "cdktf.out", outdir, dirs_exist_ok=True)


if __name__ == "__main__":
    main()
