"""The environment model: typed, validated descriptions of each cluster and its node pools."""

from aiops.model.catalog import Catalog, InstanceType, load_catalog
from aiops.model.environment import Environment, NodePool, Taint, json_schema
from aiops.model.errors import InvalidEnvironment, SourceError
from aiops.model.loader import load_environment, load_environments

__all__ = [
    "Catalog",
    "Environment",
    "InstanceType",
    "InvalidEnvironment",
    "NodePool",
    "SourceError",
    "Taint",
    "json_schema",
    "load_catalog",
    "load_environment",
    "load_environments",
]
