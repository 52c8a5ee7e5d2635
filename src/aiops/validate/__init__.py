"""`aiops validate`: kubeconform against the offline schema cache, plus the platform rules.

    validate(Options(paths=[Path("dist")])) -> Report

The work is in `validator.py`; `start.py` is its first step. This package's names are imported
on first use (PEP 562) so that `aiops.validate.start` can start kubeconform before anything
heavy (dataclasses, YAML, the rules) is loaded: kubeconform takes most of a validation's time,
and everything else runs while it works.
"""

from aiops.lazy import names_from

_WHERE = {
    "Options": "aiops.validate.validator",
    "Report": "aiops.validate.validator",
    "validate": "aiops.validate.validator",
    "validate_tree": "aiops.validate.validator",
    "UsageError": "aiops.validate.errors",
    "ToolError": "aiops.validate.errors",
}

__all__ = sorted(_WHERE)
__getattr__ = names_from(__name__, _WHERE)
