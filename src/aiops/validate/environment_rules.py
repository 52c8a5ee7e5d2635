"""Rules on the environment files themselves, reported at the environment file's line.

`aiops synth` runs them before it synthesizes (errors stop it with nothing written, warnings are
printed) and `aiops validate environments` runs them after the model's own checks, so the two
report the same problems with the same messages: instance types their cloud has retired (or
announced to retire) and Kubernetes versions past their cloud's standard support.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from aiops.model import Environment
from aiops.model.catalog import load_catalog
from aiops.model.errors import SourceError
from aiops.validate.findings import (
    INSTANCE_RETIRED,
    INSTANCE_RETIRING,
    KUBERNETES_SUPPORT_UNKNOWN,
    KUBERNETES_UNSUPPORTED,
    Finding,
)

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}


def environment_findings(environment: Environment, file: Path, shown: str, today: date | None = None) -> Iterator[Finding]:
    from aiops.model.kubernetes_support import load_support_table
    from aiops.model.loader import locate

    today = today or date.today()
    where = locate(file)
    what = f"environment {environment.name}"
    catalog = load_catalog()
    for index, pool in enumerate(environment.node_pools):
        machine = catalog.instance_type(environment.cloud, pool.instance_type)
        if machine is None or machine.retirement is None:
            continue
        retired = date.fromisoformat(machine.retirement.date) <= today
        cloud = CLOUD_NAMES[environment.cloud]
        when = f"was retired by {cloud} on {machine.retirement.date}" if retired else f"is to be retired by {cloud} on {machine.retirement.date}"
        yield Finding(
            INSTANCE_RETIRED if retired else INSTANCE_RETIRING, shown, where(("nodePools", index, "instanceType"))[0],
            f"node pool {pool.name} uses {pool.instance_type}, which {when} ({machine.retirement.source}); "
            + ("the cloud no longer creates such nodes, so the pool cannot be created or scale up" if retired else "the pool will stop scaling then"),
            f"move the pool to {machine.retirement.replacement}",
            what,
            extra={"retired_pool": (environment.name, pool.name, pool.instance_type)},
        )
    table = load_support_table()
    version, line = environment.kubernetes_version, where(("kubernetesVersion",))[0]
    support = table.support(environment.cloud, version)
    service = table.service(environment.cloud)
    current = table.supported(environment.cloud, today)
    advice = f"move kubernetesVersion to one of {', '.join(current)} (in {service} standard support on {today})" if current else "see the support table"
    if support is None:
        yield Finding(
            KUBERNETES_SUPPORT_UNKNOWN, shown, line,
            f"kubernetesVersion {version} is not in the support table for {service} (it lists {', '.join(table.versions(environment.cloud))}; checked {table.checked})",
            f"{advice}, or add {version} with its dates and source to src/aiops/data/kubernetes_support.yaml",
            what,
        )
    elif support.end < today:
        yield Finding(
            KUBERNETES_UNSUPPORTED, shown, line,
            f"kubernetesVersion {version} left {service} standard support on {support.end} ({support.source})"
            + ("; EKS bills extended support for the cluster from then" if environment.cloud == "aws" else ""),
            advice, what,
        )
    elif support.start > today:
        yield Finding(
            KUBERNETES_SUPPORT_UNKNOWN, shown, line,
            f"kubernetesVersion {version} is not yet generally available on {service} (from {support.start}, {support.source})",
            advice, what,
        )


def synth_refusals(environments: list[Environment], environments_dir: Path, today: date | None = None) -> list[SourceError]:
    """The errors among these rules, as synth reports them; warnings are printed on the way."""
    import sys

    from aiops.model.loader import display_path

    refused = []
    for environment in environments:
        file = Path(environments_dir) / f"{environment.name}.yaml"
        for finding in environment_findings(environment, file, display_path(file), today):
            error = SourceError(finding.file, finding.line, None, finding.message, finding.hint, "")
            if finding.level == "error":
                refused.append(error)
            else:
                print(f"warning [{finding.rule.id}] {error}", file=sys.stderr)
    return refused
