"""The render manifest: what made an output, written beside it as `<output>.manifest.json`.

It names the graph key, the inputs' and the output's sha256 and the versions
involved. A later render of the same graph finds it and skips the work; it
carries no timestamps, so it is as reproducible as the output itself. A PNG
sequence's output is its folder: the sha256 covers every file's name and
bytes (digest.folder_sha256), and `pattern` records the frames' names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from renderer.atomic import write_json_atomic
from renderer import digest
from renderer.graph.nodes import Composite, Encode, Matte, Reframe
from renderer.outputs import manifest_path

FORMAT = 1


def ffmpeg_version() -> str:
    import av

    codec = av.library_versions.get("libavcodec", ())
    return ".".join(str(n) for n in codec)


def build(graph: Encode, output_sha256: str, project_sha256: str) -> dict[str, Any]:
    matte = graph.find(Matte)
    return {
        "format": FORMAT,
        "graph_key": graph.key(),
        "output": Path(graph.path).name,
        "output_sha256": output_sha256,
        "project_sha256": project_sha256,
        "source_sha256": graph.timeline.decode.sha256,
        "model": {"name": matte.model.name, "weights_sha256": matte.model.sha256},
        "versions": {**dict(graph.tools), "libavcodec": ffmpeg_version()},
        "frames": graph.timeline.frames,
        "width": graph.width,
        "height": graph.height,
        "fps": f"{graph.fps.numerator}/{graph.fps.denominator}",
        **({"pattern": graph.pattern} if graph.pattern is not None else {}),
        "export": export_settings(graph),
    }


def export_settings(graph: Encode) -> dict[str, Any]:
    """What kind of output this is, for a reader who has only the manifest: format, content, alpha,
    background and its input, and the reframe window."""
    composite = graph.find(Composite)
    background: dict[str, Any] = {"type": composite.background.kind}
    if composite.image_sha256 is not None:
        background["sha256"] = composite.image_sha256
    if composite.video is not None:
        background["sha256"] = composite.video.sha256
    settings: dict[str, Any] = {
        "format": graph.format,
        "content": graph.content,
        "alpha": graph.alpha,
        "quality": graph.quality,
        "background": background,
    }
    if graph.has(Reframe):
        reframe = graph.find(Reframe)
        settings["reframe"] = {"mode": reframe.mode, "picture": list(reframe.full), "axis": "xy"[reframe.axis]}
    return settings


def write(output: Path, manifest: dict[str, Any]) -> None:
    write_json_atomic(manifest_path(output), manifest)


def up_to_date(graph: Encode) -> dict[str, Any] | None:
    """The existing manifest when the output on disk is exactly what this graph makes."""
    output = Path(graph.path)
    try:
        manifest = json.loads(manifest_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("graph_key") != graph.key():
        return None
    try:
        if digest.output_sha256(output) != manifest.get("output_sha256"):
            return None  # the file (or a file of the sequence) was changed or replaced since
    except OSError:
        return None
    return manifest
