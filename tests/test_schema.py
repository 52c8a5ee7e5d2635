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


def _properties(schema: dict):
    for model, definition in [("Environment", schema), *schema.get("$defs", {}).items()]:
        for name, prop in definition.get("properties", {}).items():
            yield f"{model}.{name}", prop


def test_every_property_is_described_for_editors():
    import json

    schema = json.loads((REPO / ENVIRONMENT_SCHEMA).read_text())
    undescribed = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert undescribed == []
    assert len(list(_properties(schema))) >= 87


def test_instance_types_are_an_enum_per_cloud():
    import copy
    import json

    from aiops.model.catalog import load_catalog

    schema = json.loads((REPO / ENVIRONMENT_SCHEMA).read_text())
    catalog = load_catalog()
    every = sorted({n for cloud in ("aws", "azure", "gcp") for n in catalog.instance_type_names(cloud)})
    assert schema["$defs"]["NodePool"]["properties"]["instanceType"]["enum"] == every  # what an editor completes
    yaml = YAML(typ="safe")
    azure = yaml.load((REPO / "environments/azure-dr.yaml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(azure)) == []
    wrong = copy.deepcopy(azure)
    wrong["nodePools"][1]["instanceType"] = "p3.2xlarge"  # an AWS type, on Azure
    [error] = list(validator.iter_errors(wrong))
    assert error.validator == "enum" and list(error.absolute_path) == ["nodePools", 1, "instanceType"]
    assert error.validator_value == catalog.instance_type_names("azure")
