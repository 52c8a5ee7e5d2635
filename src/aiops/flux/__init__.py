"""`aiops flux check`: prove, without a cluster, that Flux can reconcile dist/ from git.

- `source`: a real git checkout of a revision (or of the working tree) in a temporary folder;
- `build`: our Go program `flux-build`, on kustomize-controller's own build code;
- `apis`: which API groups need no CRD, and which Helm charts install which CRDs;
- `check`: the clusters, their Kustomizations and their builds (`check_repository`, `check_checkout`);
- `origins`: where a Kustomization's files come from (this repository or not built here);
- `ordering`: the per-cluster checks: dependency order, CRD and namespace order, chart sources, SOPS;
- `failures`: the finding for each stage at which a build fails;
- `report`: findings, clusters, `FluxReport` (`inventory()` is what each Kustomization applies);
- `prune`: what Flux's garbage collection would delete between two revisions.

Entry points for other commands: `check_repository` and `check_checkout` (a FluxReport), `flux_findings` (the
findings only, for `aiops validate`) and `prune_changes` (for `aiops diff`).

Names are imported on first use (PEP 562), so that `aiops validate` can read the small `apis`
table without loading the whole check.
"""

from aiops.lazy import names_from

_WHERE = {
    "Finding": "aiops.flux.report",
    "FluxReport": "aiops.flux.report",
    "InventoryObject": "aiops.flux.report",
    "check_checkout": "aiops.flux.check",
    "check_repository": "aiops.flux.check",
    "flux_findings": "aiops.flux.check",
    "PruneChange": "aiops.flux.prune",
    "prune_changes": "aiops.flux.prune",
}

__all__ = sorted(_WHERE)
__getattr__ = names_from(__name__, _WHERE)
