"""The committed JSON Schema matches the models, and the examples satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from renderer.batch.plan import plan_batch
from renderer.api import input_hashes
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


def _bounds(schema: dict, defs: dict, path: str = "") -> list[tuple[str, str, float]]:
    """(dotted key, JSON Schema keyword, bound) for every numeric limit under this schema."""
    if "$ref" in schema:
        return _bounds(defs[schema["$ref"].rsplit("/", 1)[1]], defs, path)
    found = [(path, k, schema[k]) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in schema]
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _bounds(branch, defs, path)
    if "items" in schema:
        found += _bounds(schema["items"], defs, path + "[]")
    for key, prop in schema.get("properties", {}).items():
        if key not in ("vars", "version"):
            found += _bounds(prop, defs, f"{path}.{key}" if path else key)
    return found


def test_the_readme_reference_states_every_limit_the_models_enforce():
    """A limit the file format enforces is in the reference table row of its key (or the row of the mapping holding it)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\u2212", "-")
    reference = readme.split("## Project file reference")[1].split("\n### ")[0]
    rows = {}
    for line in reference.splitlines():
        if line.startswith("| `"):
            for key in line.split("|")[1].replace("`", "").split(","):
                rows[key.strip()] = line
    schema = project_schema()
    bounds = _bounds(schema, schema["$defs"])
    assert {key for key, _, _ in bounds} >= {"text[].margin", "text[].box.padding", "text[].shadow.offset"}
    for key, keyword, bound in bounds:
        row_key = key if key in rows else key.removesuffix("[]")  # a list's items: the list's row
        while row_key not in rows and "." in row_key:
            row_key = row_key.rsplit(".", 1)[0]
        v = f"{bound:g}" if isinstance(bound, float) else str(bound)
        written = {  # how the reference writes each kind of limit: [lo, hi], (lo, hi], lo–hi, ≥ lo, ...
            "minimum": (f"[{v}, ", f"≥ {v}", f" {v}–"), "exclusiveMinimum": (f"({v}, ", f"> {v}"),
            "maximum": (f", {v}]", f"≤ {v}", f"–{v} "), "exclusiveMaximum": (f", {v})", f"< {v}"),
        }[keyword]
        text = rows.get(row_key, "")
        assert any(form in text for form in written), f"{key}: {keyword} {bound} is not in the README row for {row_key}"
