"""Which Helm charts install which CRD API groups, read from the charts themselves.

The set-up renders every chart package of the chart cache (tools/charts.lock, the same files
`aiops simulate` installs) with Helm, CRDs included, and records each CRD's API group and
where the chart keeps it: in a `crds/` folder (its own or a subchart's), which a HelmRelease
can turn off with `spec.install.crds: Skip`, or among its templates, which Helm renders
whatever that setting says. `aiops chart-crds` (run by scripts/bootstrap.sh) writes the
result beside the charts; `aiops flux check` and `aiops validate` read it. A chart that is
not in the cache is unknown: what depends on its CRDs is reported as unchecked, never guessed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

INDEX_FILE = "crd-groups.json"
_SOURCE = re.compile(r"^# Source: (\S+)$", re.M)


def charts_dir() -> Path:
    return Path(sys.executable).parent.parent / "share" / "aiops" / "charts"


def groups_of_render(text: str) -> dict[str, str]:
    """{group: crds-folder | templates} of the CRDs in `helm template --include-crds` output."""
    import yaml

    found: dict[str, str] = {}
    current = ""  # the file a document came from: Helm writes "# Source:" once, and a CRD file
    # that starts with its own "---" puts the CRD in the next document
    for document in text.split("\n---"):
        source = _SOURCE.search(document)
        if source:
            current = source.group(1)
        try:
            body = yaml.load(document, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            continue
        if not isinstance(body, dict) or body.get("kind") != "CustomResourceDefinition":
            continue
        group = str((body.get("spec") or {}).get("group") or "")
        where = "templates" if "/templates/" in f"/{current}" else "crds-folder"
        if group and found.get(group) != "templates":  # templates win: Skip cannot turn those off
            found[group] = where
    return found


def index_charts(folder: Path, helm: Path, kubernetes_version: str) -> dict:
    """Render every chart package in `folder`; returns (and writes) the index."""
    charts: dict[str, dict] = {}
    for package in sorted(folder.glob("*.tgz")):
        result = subprocess.run([str(helm), "template", "crds", str(package), "--include-crds", "--kube-version", kubernetes_version],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"helm template {package.name} failed: {result.stderr.strip()}")
        name = package.name[: -len(".tgz")].rsplit("-", 1)[0]
        charts[name] = {"package": package.name, "groups": groups_of_render(result.stdout)}
    index = {"format": 1, "kubernetesVersion": kubernetes_version, "charts": charts}
    (folder / INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index


def read_index(folder: Path | None = None) -> dict[str, dict[str, str]]:
    """{chart: {group: crds-folder | templates}} of the chart cache; {} when it is not installed."""
    path = (folder or charts_dir()) / INDEX_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {chart: dict(entry.get("groups") or {}) for chart, entry in (data.get("charts") or {}).items()}


def main(argv: list[str] | None = None) -> int:
    """`python -m aiops.flux.chart_crds FOLDER HELM KUBERNETES_VERSION` (the set-up's step)."""
    args = argv if argv is not None else sys.argv[1:]
    index = index_charts(Path(args[0]), Path(args[1]), args[2])
    for chart, entry in sorted(index["charts"].items()):
        groups = ", ".join(f"{g} ({w})" for g, w in sorted(entry["groups"].items())) or "no CRDs"
        print(f"{chart}: {groups}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
