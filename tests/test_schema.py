"""The committed JSON Schema matches the models, and the examples satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from renderer.batch.plan import plan_batch
from renderer.cli.common import input_hashes
from renderer.project.schema import editor_schema, project_schema, schema_text

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
def test_examples_validate(example: Path, vbr, isolated_cache: Path):
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    jsonschema.validate(data, editor_schema())
    assert example.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../schemas/project.schema.json")
    rows = example.with_name(f"{example.stem}-rows.csv")
    if rows.exists():  # a batch template: every row must make a valid project
        plan = plan_batch(example, rows, example.parent, lambda loaded: input_hashes(loaded, isolated_cache, print))
        assert plan.failures == () and len(plan.jobs) >= 3
        assert len({job.output for job in plan.jobs}) == len(plan.jobs) and len({job.group for job in plan.jobs}) == 1
    else:
        result = vbr("validate", example)
        assert result.code == 0, result.err


def test_schema_command_prints_the_schema(vbr):
    result = vbr("schema")
    assert result.code == 0
    assert json.loads(result.out) == editor_schema()


def test_editor_schema_takes_placeholders_for_scalars_only():
    jsonschema.Draft202012Validator.check_schema(editor_schema())
    template = {
        "version": 1,
        "vars": {"size": {"type": "number"}, "c": {"type": "color"}},
        "source": "${clip}",
        "background": {"type": "color", "color": "${ c }"},
        "text": [{"text": "${name}", "size": "${size}", "position": "${where}"}],
        "export": {"path": "out/${name}.mp4", "fps": "${fps}", "audio": "${audio}"},
    }
    jsonschema.validate(template, editor_schema())
    strict = jsonschema.Draft202012Validator(project_schema())
    assert [list(e.absolute_path) for e in strict.iter_errors(template)]  # vbr itself never sees placeholders
    for wrong in ({"size": "big"}, {"size": "${1x}"}, {"size": "${a}${b}"}, {"position": "middle"}):
        bad = {**template, "text": [{**template["text"][0], **wrong}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, editor_schema())
    with pytest.raises(jsonschema.ValidationError):  # a structure cannot come from a variable
        jsonschema.validate({**template, "background": "${bg}"}, editor_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**template, "version": "${v}"}, editor_schema())
