"""The committed JSON Schema matches the models, and the examples satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from renderer.project.schema import project_schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "projects").glob("*.yaml"))


def test_committed_schema_is_up_to_date():
    committed = (ROOT / "schemas" / "project.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "run: vbr schema > schemas/project.schema.json"


def test_schema_is_valid_2020_12():
    schema = project_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_there_are_examples():
    assert {p.name for p in EXAMPLES} >= {"bunny.yaml", "bunny-blur.yaml"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(example: Path, vbr):
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    jsonschema.validate(data, project_schema())
    assert example.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../schemas/project.schema.json")
    result = vbr("validate", example)
    assert result.code == 0, result.err


def test_schema_command_prints_the_schema(vbr):
    result = vbr("schema")
    assert result.code == 0
    assert json.loads(result.out) == project_schema()
