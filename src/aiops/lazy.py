"""Names of a package imported on first use (PEP 562).

`aiops validate` starts kubeconform before the rest of the validator is loaded, and `aiops diff`
never needs the pydantic models: a package whose `__init__` imported all its names would make
every command pay for all of them. Such a package says where each name lives instead:

    _WHERE = {"validate": "aiops.validate.validator", ...}
    __all__ = sorted(_WHERE)
    __getattr__ = names_from(__name__, _WHERE)
"""

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


def names_from(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` that imports `where[name]` on first use and keeps the value."""

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
