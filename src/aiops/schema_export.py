"""schemas/environment.schema.json, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from aiops.model import json_schema

ENVIRONMENT_SCHEMA = Path("schemas") / "environment.schema.json"


def render_environment_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
