"""The environment model: typed, validated descriptions of each cluster and its node pools.

Names are imported on first use (PEP 562), so that code which needs only the instance catalog
(`aiops validate`, `aiops diff`, reading trees) does not pay for building the pydantic models.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "Catalog": "aiops.model.catalog",
    "InstanceType": "aiops.model.catalog",
    "load_catalog": "aiops.model.catalog",
    "Environment": "aiops.model.environment",
    "NodePool": "aiops.model.environment",
    "Taint": "aiops.model.environment",
    "json_schema": "aiops.model.environment",
    "InvalidEnvironment": "aiops.model.errors",
    "SourceError": "aiops.model.errors",
    "load_environment": "aiops.model.loader",
    "load_environments": "aiops.model.loader",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'aiops.model' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
