"""Kubernetes manifests: a cdk8s App with one Chart per file of dist/.

This module decides which constructs make up an environment and which file each lands in;
the constructs themselves (under constructs/aiops_constructs/k8s) decide what the objects are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdk8s import App, Chart, YamlOutputType

from aiops.layout import EnvironmentLayout
from aiops.model import Environment
from aiops_constructs.k8s.flux_sync import FluxKustomizations, GitSync, SyncedFolder
from aiops_constructs.k8s.node_pool_flavors import NodePoolFlavors


@dataclass
class _Files:
    """Maps each cdk8s chart (one output file) to its path in dist/."""

    app: App
    by_chart_file: dict[str, PurePosixPath]

    def chart(self, path: PurePosixPath) -> Chart:
        # cdk8s names the file after the chart id; ids must be unique in the app and may not
        # contain '/', so number them and keep the mapping.
        chart_id = f"chart{len(self.by_chart_file):04d}"
        self.by_chart_file[f"{chart_id}.k8s.yaml"] = path
        return Chart(self.app, chart_id, disable_resource_name_hashes=True)


def _environment(files: _Files, environment: Environment) -> None:
    layout = EnvironmentLayout(environment.name)
    NodePoolFlavors(files.chart(layout.infrastructure_configs / "node-pools.yaml"), "node-pools", environment=environment)
    GitSync(
        files.chart(layout.flux_system / "gotk-sync.yaml"),
        "sync",
        git=environment.git,
        cluster_path=layout.flux_path(layout.cluster),
    )
    FluxKustomizations(
        files.chart(layout.cluster / "infrastructure.yaml"),
        "infrastructure",
        folders=[SyncedFolder(name="infra-configs", path=layout.flux_path(layout.infrastructure_configs))],
    )


def synthesize_kubernetes(environments: list[Environment], outdir: Path) -> dict[PurePosixPath, bytes]:
    """Run the cdk8s synthesis into `outdir` and return each file's bytes by its dist/ path."""
    files = _Files(App(outdir=str(outdir), yaml_output_type=YamlOutputType.FILE_PER_CHART), {})
    for environment in environments:
        _environment(files, environment)
    files.app.synth()
    return {path: (outdir / name).read_bytes() for name, path in files.by_chart_file.items()}
