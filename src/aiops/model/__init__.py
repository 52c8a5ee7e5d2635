"""The environment model: typed, validated descriptions of each cluster and its node pools.

Names are imported on first use (PEP 562), so that code which needs only the instance catalog
(`aiops validate`, `aiops diff`, reading trees) does not pay for building the pydantic models.
"""

from aiops.lazy import names_from

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
__getattr__ = names_from(__name__, _WHERE)
