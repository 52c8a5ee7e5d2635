"""schemas/environment.schema.json: generated from the models, committed, and usable by editors."""

from __future__ import annotations

import jsonschema
from ruamel.yaml import YAML

from aiops.schema_export import ENVIRONMENT_SCHEMA, render_environment_schema
from conftest import REPO, aiops


def _schema():
    import json

    return json.loads((REPO / ENVIRONMENT_SCHEMA).read_text())


def test_committed_schema_is_current():
    assert (REPO / ENVIRONMENT_SCHEMA).read_text() == render_environment_schema()


def test_export_check_fails_on_a_stale_schema(tmp_path):
    stale = tmp_path / "environment.schema.json"
    stale.write_text("{}\n")
    result = aiops("schemas", "export", "--check", "--output", str(stale), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"{stale} is stale; run `aiops schemas export`\n"


def test_every_environment_validates_and_points_editors_at_the_schema():
    validator = jsonschema.Draft202012Validator(_schema())
    for path in sorted((REPO / "environments").glob("*.yaml")):
        assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=../schemas/environment.schema.json"
        assert list(validator.iter_errors(YAML(typ="safe").load(path.read_text()))) == []


def test_schema_rejects_what_the_model_rejects():
    validator = jsonschema.Draft202012Validator(_schema())
    document = YAML(typ="safe").load((REPO / "environments" / "aws-primary.yaml").read_text())
    document["nodePools"][0]["taints"][0]["effect"] = "NO_SCHEDULE"
    document["nodePools"][1]["instanceTyp"] = "x"
    messages = sorted(e.message for e in validator.iter_errors(document))
    assert messages == [
        "'NO_SCHEDULE' is not one of ['NoSchedule', 'PreferNoSchedule', 'NoExecute']",
        "Additional properties are not allowed ('instanceTyp' was unexpected)",
    ]
