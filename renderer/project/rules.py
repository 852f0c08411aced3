"""Rules that span several fields, checked on a schema-valid project.

Each rule returns (path, message); the loader turns the path into a position.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from renderer.project.models import Project
from renderer.project.timecode import parse_timecode

Finding = tuple[tuple[Any, ...], str]

EXTENSIONS = {".webm": "webm", ".mp4": "mp4", ".mov": "mov", ".png": "png"}
# A PNG sequence's frame number in its file name: %d, or %0Nd for N digits with leading zeros.
FRAME_NUMBER = re.compile(r"%0?([1-9]?)d")


def export_format(project: Project) -> str | None:
    """The export format: as written, else from the path's extension."""
    return project.export.format or EXTENSIONS.get(PurePath(project.export.path).suffix.lower())


def cross_field_findings(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    suffix = PurePath(project.export.path).suffix.lower()
    fmt = export_format(project)
    if fmt is None:
        findings.append((
            ("export", "path"),
            f"cannot tell the format from '{suffix or 'no extension'}': use .webm, .mp4, .mov or a .png pattern, or set export.format",
        ))
    elif project.export.format and suffix in EXTENSIONS and EXTENSIONS[suffix] != fmt:
        findings.append((("export", "format"), f"format {fmt} does not match the extension {suffix} of export.path"))
    elif fmt == "png":
        findings.extend(_sequence_findings(project.export.path))
    content = project.export.content
    if fmt == "mp4" and project.background.type == "transparent" and content == "composite":
        where = ("background", "type") if "background" in project.model_fields_set else ("export", "path")
        findings.append((
            where,
            "a transparent background needs alpha, which MP4 (H.264) cannot carry: export to .webm, .mov or a PNG sequence, "
            "or pick a background",
        ))
    findings.extend(_content_findings(project))
    if project.export.reframe is not None and project.export.aspect == "original":
        findings.append((("export", "reframe"), "export.reframe has no effect without export.aspect (9:16, 1:1, 4:5 or 16:9)"))
    findings.extend(_model_findings(project))
    findings.extend(_temporal_findings(project))
    if project.matte.white <= project.matte.black:
        where = "white" if "white" in project.matte.model_fields_set else "black"
        findings.append((("matte", where), f"matte.white ({project.matte.white}) must be above matte.black ({project.matte.black})"))
    start = parse_timecode(project.trim.start)
    if project.trim.end is not None and parse_timecode(project.trim.end) <= start:
        findings.append((("trim", "end"), "trim end must be after trim start"))
    for i, overlay in enumerate(project.text):
        if overlay.end is not None and parse_timecode(overlay.end) <= parse_timecode(overlay.start):
            findings.append((("text", i, "end"), f"text[{i}].end must be after its start"))
    return findings


def _sequence_findings(path: str) -> list[Finding]:
    """A PNG sequence's path: a folder, or a file name with one frame-number pattern in it."""
    name = PurePath(path).name
    numbers = FRAME_NUMBER.findall(name)
    if PurePath(path).suffix.lower() != ".png":
        if "%" in path:
            return [(("export", "path"), f"export.path {path!r}: a PNG sequence pattern ends in .png (such as frame_%05d.png)")]
        return []  # a folder: frames go in as frame_00000.png, frame_00001.png, ...
    if len(numbers) != 1 or name.count("%") != 1:
        return [(
            ("export", "path"),
            f"export.path {path!r}: a PNG sequence needs one frame number in the file name, such as frame_%05d.png "
            "(or name a folder)",
        )]
    if any("%" in part for part in PurePath(path).parent.parts):
        return [(("export", "path"), f"export.path {path!r}: the frame number goes in the file name, not in a folder's")]
    return []


# Settings a content other than `composite` has no use for: each would be silently ignored.
_NOT_IN_CONTENT = {
    "matte": (
        (("background",), "the matte is the alpha alone, with no background"),
        (("grade",), "a matte has no colours to grade"),
        (("text",), "text is not drawn into a matte"),
        (("matte", "foreground"), "a matte has no colours"),
    ),
    "foreground": (
        (("background",), "the foreground is the subject's colours alone, with no background"),
        (("text",), "text is not drawn into a foreground fill"),
        (("matte", "foreground"), "the foreground fill is always estimated"),
    ),
}


def _content_findings(project: Project) -> list[Finding]:
    content = project.export.content
    findings: list[Finding] = []
    for path, why in _NOT_IN_CONTENT.get(content, ()):
        node: Any = project
        given = True
        for part in path:
            given = given and part in node.model_fields_set
            node = getattr(node, part)
        if given and node:  # written in the file (an empty text list or a null grade is not)
            findings.append((path, f"{'.'.join(path)} has no effect with export.content: {content} ({why}); remove it"))
    return findings


_CUSTOM_ONLY = ("input_size", "mean", "std", "activation", "output")


def _model_findings(project: Project) -> list[Finding]:
    """A registry model by name, or a custom ONNX file by path with its preprocessing."""
    if isinstance(project.model, str):
        return []
    settings = project.model
    given = settings.model_fields_set
    # A key written as null counts as left out, as everywhere "none" is its default.
    if settings.path is None:
        return [
            (("model", key), f"model.{key} applies only to a model given by path (registry models define their own)")
            for key in _CUSTOM_ONLY
            if getattr(settings, key) is not None
        ]
    findings: list[Finding] = []
    if "name" in given:
        findings.append((("model", "name"), "model: give name (a registry model) or path (your own ONNX file), not both"))
    for key in ("input_size", "activation"):
        if getattr(settings, key) is None:
            findings.append((("model", key if key in given else "path"), f"model.{key} is required with model.path"))
    std = settings.std or []
    if any(v == 0 for v in std):
        findings.append((("model", "std"), "model.std: a standard deviation of 0 would divide by zero"))
    return findings


def _temporal_findings(project: Project) -> list[Finding]:
    """Settings that `temporal: off` would silently ignore."""
    settings = project.model_settings
    if settings.temporal != "off":
        return []
    follows = project.export.aspect != "original" and project.export.reframe != "center"  # its cuts restart the reframe
    return [
        (("model", key), f"model.{key} has no effect with temporal: off (remove it, or pick adaptive or ema)")
        for key in ("ema_alpha", "cut_threshold")
        if getattr(settings, key) is not None and not (key == "cut_threshold" and follows)
    ]
