"""What one studio serves: fixed when it starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from renderer.api import Options


@dataclass(frozen=True)
class Settings:
    project: Path  # the project (or template) file
    token: str  # every request must carry it
    host: str = "127.0.0.1"
    port: int = 0  # the port actually bound (never 0 once serving)
    rows: Path | None = None  # a batch rows file: the page gets a row picker
    options: Options = field(default_factory=Options)
    values: dict[str, str] = field(default_factory=dict)  # --set NAME=VALUE, as text
    thumbnails: int = 10  # frames in the strip under the scrubber
