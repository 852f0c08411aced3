"""Rules that span several fields, checked on a schema-valid project.

Each rule returns (path, message); the loader turns the path into a position.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from renderer.project.models import Project
from renderer.project.timecode import parse_timecode

Finding = tuple[tuple[Any, ...], str]

EXTENSIONS = {".webm": "webm", ".mp4": "mp4"}


def export_format(project: Project) -> str | None:
    """The export format: as written, else from the path's extension."""
    return project.export.format or EXTENSIONS.get(PurePath(project.export.path).suffix.lower())


def cross_field_findings(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    suffix = PurePath(project.export.path).suffix.lower()
    fmt = export_format(project)
    if fmt is None:
        findings.append(
            (("export", "path"), f"cannot tell the format from '{suffix or 'no extension'}': use .webm or .mp4, or set export.format")
        )
    elif project.export.format and suffix in EXTENSIONS and EXTENSIONS[suffix] != fmt:
        findings.append((("export", "format"), f"format {fmt} does not match the extension {suffix} of export.path"))
    if fmt == "mp4" and project.background.type == "transparent":
        where = ("background", "type") if "background" in project.model_fields_set else ("export", "path")
        findings.append(
            (where, "a transparent background needs webm: MP4 (H.264) cannot carry alpha; export to .webm or pick a background")
        )
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
    return [
        (("model", key), f"model.{key} has no effect with temporal: off (remove it, or pick adaptive or ema)")
        for key in ("ema_alpha", "cut_threshold")
        if getattr(settings, key) is not None
    ]
