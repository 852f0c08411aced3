"""The JSON Schema of the project file, generated from the pydantic models.

`schemas/project.schema.json` is this output, committed so editors can use it
(`# yaml-language-server: $schema=...`); a test fails when the two drift.
"""

from __future__ import annotations

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


def schema_text() -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(project_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
