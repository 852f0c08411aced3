"""The JSON Schema of the project file, generated from the pydantic models.

`schemas/project.schema.json` is the editor's variant, committed so editors
can use it (`# yaml-language-server: $schema=...`); a test fails when the two
drift. It differs from the schema vbr validates resolved documents with in one
way: a scalar setting may also be a `"${name}"` placeholder, so a template's
`size: "${size}"` is not flagged in the editor before the value is known.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from renderer.project.models import Project

SCHEMA_ID = "https://github.com/vbr-video/vbr/schemas/project.schema.json"


@lru_cache(maxsize=1)
def project_schema() -> dict[str, Any]:
    schema = Project.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


_PLACEHOLDER = {
    "type": "string",
    "pattern": r"^\$\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}$",
    "description": "A template variable declared under vars; replaced by its typed value before validation.",
}
_KEPT_OUTSIDE = ("title", "description", "default")


def editor_schema() -> dict[str, Any]:
    """The project schema with "${name}" allowed wherever a scalar setting goes."""
    schema = copy.deepcopy(project_schema())
    defs = schema["$defs"]
    for name, definition in defs.items():
        if name != "Variable":
            _allow_placeholders(definition, defs)
    _allow_placeholders(schema, defs, skip=("vars", "version"))
    defs["Placeholder"] = _PLACEHOLDER
    return schema


def _allow_placeholders(definition: dict[str, Any], defs: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    for key, prop in definition.get("properties", {}).items():
        if key not in skip and not _is_structure(prop, defs):
            outer = {k: prop.pop(k) for k in _KEPT_OUTSIDE if k in prop}
            definition["properties"][key] = {**outer, "anyOf": [prop, {"$ref": "#/$defs/Placeholder"}]}


def _is_structure(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    """Mappings and lists hold settings of their own; only scalars take a variable whole."""
    if prop.get("type") in ("object", "array"):
        return True
    ref = prop.get("$ref")
    if ref is not None:
        return _is_structure(defs[ref.rsplit("/", 1)[1]], defs)
    branches = prop.get("oneOf") or prop.get("anyOf")
    return bool(branches) and all(_is_structure(branch, defs) for branch in branches)


def schema_text() -> str:
    """The editor schema as stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(editor_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
