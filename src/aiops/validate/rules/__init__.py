"""The platform rules: checks that no schema can express. Each check is a function of the
`Context` yielding `Finding`s; the rules themselves (id, severity, fix) are in findings.py."""

from aiops.validate.rules import api_versions, flux, pod_security, pools, scheduling, workloads

CHECKS = (*api_versions.CHECKS, *workloads.CHECKS, *scheduling.CHECKS, *flux.CHECKS, *pools.CHECKS, *pod_security.CHECKS)
