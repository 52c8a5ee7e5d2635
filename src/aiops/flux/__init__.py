"""`aiops flux check`: prove, without a cluster, that Flux can reconcile dist/ from git.

- `source`: a real git checkout of a revision (or of the working tree) in a temporary folder;
- `build`: our Go program `flux-build`, on kustomize-controller's own build code;
- `apis`: which API groups need no CRD, and which Helm charts install which CRDs;
- `check`: the clusters, their Kustomizations, builds, dependency order, CRD and namespace
  order, and the findings; `FluxReport.inventory()` is what each Kustomization applies;
- `prune`: what Flux's garbage collection would delete between two revisions.

Entry points for other commands: `check_repository` (a FluxReport), `flux_findings` (the
findings only, for `aiops validate`) and `prune_changes` (for `aiops diff`).
"""

from aiops.flux.check import Finding, FluxReport, InventoryObject, check_repository, flux_findings
from aiops.flux.prune import PruneChange, prune_changes

__all__ = [
    "Finding",
    "FluxReport",
    "InventoryObject",
    "PruneChange",
    "check_repository",
    "flux_findings",
    "prune_changes",
]
