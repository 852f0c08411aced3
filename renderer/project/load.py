"""Project file -> validated Project, or a ProjectError listing every problem.

YAML (with positions) -> JSON Schema (all errors at once) -> pydantic ->
cross-field rules -> checks against the file system and the probed source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic

from renderer.errors import MediaError, Position, Problem, ProjectError
from renderer.matting.registry import MODELS
from renderer.outputs import Named, reserved_name, sequence_layout, target_problem
from renderer.project.models import ModelSettings, Project
from renderer.project.rules import cross_field_findings, export_format
from renderer.project.templating import Declared, declarations, resolve
from renderer.project.timecode import format_seconds, parse_timecode, seconds_apart
from renderer.project.validate import dotted, schema_problems, unusable_numbers
from renderer.project.yamlpos import Located, load_yaml

if TYPE_CHECKING:
    from renderer.media.probe import SourceInfo

# Frames shorter than this past the end are rounding, not a user mistake.
_END_TOLERANCE = Fraction(1, 1000)


@dataclass(frozen=True)
class LoadedProject:
    """A valid project and the resolved paths it refers to."""

    project: Project
    file: Path
    located: Located
    source: Path
    export: Path
    format: str
    image: Path | None
    fonts: tuple[Path | None, ...] = ()  # per text overlay; None = the bundled default
    model_path: Path | None = None  # a custom model's ONNX file (model.path)
    info: SourceInfo | None = None  # the probed source, once checked against it
    background_video: Path | None = None  # background.video
    background_info: SourceInfo | None = None  # the probed background clip, once checked
    pattern: str | None = None  # a PNG sequence's frame names (frame_%05d.png); `export` is then its folder

    def position(self, *path: Any):
        return self.located.value_at(tuple(path))

    def inputs(self) -> list[Named]:
        """Every file the project reads, named as the user knows it: none may be written over."""
        return input_files(self.file, self.source, self.image, self.fonts, self.model_path, self.background_video)


def input_files(
    file: Path, source: Path, image: Path | None, fonts: tuple[Path | None, ...], model: Path | None, video: Path | None = None
) -> list[Named]:
    named: list[Named] = [("the project file", file), ("the source file", source)]
    if image is not None:
        named.append(("the background image", image))
    if video is not None:
        named.append(("the background video", video))
    named.extend((f"the font of text[{i}]", font) for i, font in enumerate(fonts) if font is not None)
    if model is not None:
        named.append(("the model file (model.path)", model))
    return named


def read_text(file: Path) -> str:
    display = str(file)
    try:
        raw = file.read_bytes()
    except IsADirectoryError:
        raise ProjectError([Problem(None, f"{display}: is a directory, not a project file")]) from None
    except FileNotFoundError:
        raise ProjectError([Problem(None, f"{display}: no such file")]) from None
    except OSError as exc:
        raise ProjectError([Problem(None, f"{display}: cannot read ({exc.strerror or exc})")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProjectError([Problem(Position(display, line, column), "the file is not valid UTF-8")]) from None


def parse_project(text: str, display: str, values: dict[str, Any] | None = None) -> tuple[Project, Located]:
    """Text (and template variable values) -> Project, checking only what the text itself can tell."""
    located = _mapping(load_yaml(text, display))
    located = _resolve_variables(located, values or {})
    _off_is_a_word(located)
    problems = schema_problems(located)
    if problems:
        raise ProjectError(problems)
    try:
        project = Project.model_validate(located.data)
    except pydantic.ValidationError as exc:
        raise ProjectError(_model_problems(exc, located)) from None
    findings = cross_field_findings(project)
    if findings:
        raise ProjectError([Problem(located.value_at(path), message) for path, message in findings])
    return project, located


def _model_problems(exc: pydantic.ValidationError, located: Located) -> list[Problem]:
    """pydantic's last word, for what the schema let through, at keys the user wrote.

    A union's error path carries its branch names (`constrained-float`,
    `ModelSettings`): only the parts naming a key or an index in the
    document are kept, and one message per place.
    """
    found: dict[tuple[Any, ...], Problem] = {}
    for error in exc.errors():
        path: tuple[Any, ...] = ()
        node: Any = located.data
        for part in error["loc"]:
            if (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
                path, node = path + (part,), node[part]
        message = error["msg"][:1].lower() + error["msg"][1:]
        found.setdefault(path, Problem(located.value_at(path), f"{dotted(path)}: {message} (got {node!r})"))
    return list(found.values())


def _resolve_variables(located: Located, values: dict[str, Any]) -> Located:
    """Check the vars block, then substitute `${name}` through the document."""
    declared = _checked_declarations(located)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        names = ", ".join(unknown)
        known = ", ".join(sorted(declared)) or "none"
        raise ProjectError([Problem(None, f"{located.file}: --set {names}: not declared under vars (declared: {known})")])
    resolved, problems = resolve(located, values)
    if problems:
        raise ProjectError(problems)
    return resolved


def _checked_declarations(located: Located) -> dict[str, Declared]:
    if "vars" in located.data:
        problems = schema_problems(located, "vars")
        if problems:
            raise ProjectError(problems)
    declared = declarations(located)
    for name, var in declared.items():
        if var.type == "enum" and not var.choices:
            raise ProjectError([Problem(located.key_at(("vars", name)), f"vars.{name}: an enum needs choices: [...]")])
    return declared


def template_variables(file: Path | str) -> dict[str, Declared]:
    """A template's declared variables, its vars block checked, before any value is given."""
    file = Path(file)
    return _checked_declarations(_mapping(load_yaml(read_text(file), str(file))))


def _off_is_a_word(located: Located) -> None:
    """`temporal: off` means the mode `off`, though YAML 1.1 reads an unquoted off (or no) as false."""
    model = located.data.get("model")
    if isinstance(model, dict) and model.get("temporal") is False:
        model["temporal"] = "off"


def _mapping(located: Located) -> Located:
    """The document, if it is a mapping whose numbers are all usable (no .inf or .nan anywhere)."""
    if not isinstance(located.data, dict):
        raise ProjectError([Problem(located.value_at(()), "a project file is a mapping of keys (version, source, export, ...)")])
    problems = unusable_numbers(located)
    if problems:
        raise ProjectError(problems)
    return located


def load_project(
    file: Path | str,
    *,
    values: dict[str, Any] | None = None,
    export_base: Path | None = None,
    probe_source: bool = True,
    protected: tuple[Named, ...] = (),
) -> LoadedProject:
    """Everything `vbr validate` checks; the result is safe to compile.

    `values` fill the template's variables; `export_base` is where a relative
    export path lands (default: beside the project file; vbr batch --out-dir);
    `protected`: other files the export must not overwrite (a batch's rows file).
    """
    file = Path(file)
    display = str(file)
    project, located = parse_project(read_text(file), display, values)
    base = file.resolve().parent
    source = (base / project.source).resolve()
    export = (export_base or base) / project.export.path
    fmt = export_format(project) or "webm"
    pattern = None
    if fmt == "png":  # a PNG sequence: the export is its folder
        export, pattern = sequence_layout(export)
    export = export.resolve()
    image = None
    problems: list[Problem] = []
    if not source.is_file():
        problems.append(Problem(located.value_at(("source",)), f"source: no such file: {source}"))
    if project.background.type == "image":
        image = (base / project.background.image).resolve()
        if not image.is_file():
            problems.append(Problem(located.value_at(("background", "image")), f"background.image: no such file: {image}"))
    video = None
    if project.background.type == "video":
        video = (base / project.background.video).resolve()
        if not video.is_file():
            problems.append(Problem(located.value_at(("background", "video")), f"background.video: no such file: {video}"))
    fonts: list[Path | None] = []
    for i, overlay in enumerate(project.text):
        font = None if overlay.font == "default" else (base / overlay.font).resolve()
        if font is not None and not font.is_file():
            problems.append(Problem(located.value_at(("text", i, "font")), f"text[{i}].font: no such file: {font}"))
        fonts.append(font)
    settings = project.model_settings
    model_path = None
    if settings.path is not None:
        model_path = (base / settings.path).resolve()
        if not model_path.is_file():
            problems.append(Problem(located.value_at(("model", "path")), f"model.path: no such file: {model_path}"))
    elif settings.name not in MODELS:
        path = ("model", "name") if isinstance(project.model, ModelSettings) else ("model",)
        problems.append(
            Problem(located.value_at(path), f"model: unknown model '{settings.name}' (available: {', '.join(sorted(MODELS))}; or give model.path)")
        )
    inputs = [*input_files(file.resolve(), source, image, tuple(fonts), model_path, video), *protected]
    refused = target_problem(export, inputs, with_manifest=True, folder=fmt == "png") or reserved_name(export)
    if refused is not None:
        problems.append(Problem(located.value_at(("export", "path")), f"export.path {refused}"))
    if problems:
        raise ProjectError(problems)
    loaded = LoadedProject(
        project, file, located, source, export, fmt, image, tuple(fonts), model_path,
        background_video=video, pattern=pattern,
    )
    if probe_source:
        loaded = check_against_source(loaded)
    return loaded


def _over_limits(loaded: LoadedProject, info: SourceInfo, rendered: Fraction) -> list[Problem]:
    from renderer.media.limits import limits

    limit = limits()
    found = []
    if max(info.frame_size) > limit.max_side:
        found.append(Problem(loaded.position("source"), (
            f"source: {info.frame_size[0]}x{info.frame_size[1]} frames are larger than the limit of {limit.max_side} pixels a side "
            "(VBR_MAX_FRAME_SIZE raises it)"
        )))
    else:
        found.extend(_output_size_problems(loaded, info, limit.max_side))
    if rendered > limit.max_seconds:
        found.append(Problem(loaded.position("trim") if "trim" in loaded.located.data else loaded.position("source"), (
            f"the render would be {format_seconds(rendered)} long, over the limit of {format_seconds(limit.max_seconds)} "
            "(trim it, or raise VBR_MAX_DURATION)"
        )))
    return found


def _output_size_problems(loaded: LoadedProject, info: SourceInfo, max_side: int) -> list[Problem]:
    """Output frames the encoder would refuse, found before anything is decoded or inferred."""
    from renderer.media.frame_size import framing, output_size, size_problem

    export = loaded.project.export
    resolution = export.resolution
    framed = framing(resolution, info.height, info.aspect, export.aspect)
    width, height = (framed.width, framed.height) if framed else output_size(resolution, info.height, info.aspect)
    refused = size_problem(width, height, loaded.format, max_side)
    if refused is None and framed is not None and max(framed.full) > max_side:
        # the whole picture is scaled to this size for the window to be the output
        refused = f"for which the picture is scaled to {framed.full[0]}x{framed.full[1]}, over the limit of {max_side} pixels a side"
    if refused is None:
        return []
    made = f"{resolution} at aspect {export.aspect}" if framed else resolution
    return [Problem(loaded.position("export", "resolution"), (
        f"export.resolution: {made} makes {width}x{height} frames of this {info.width}x{info.height} source, "
        f"{refused}: choose a lower resolution"
    ))]


def check_against_source(loaded: LoadedProject) -> LoadedProject:
    """Times against the probed source (and background clip): trim points, then fades and text start within the render."""
    from renderer.media.probe import probe  # PyAV: only when a source is checked

    try:
        info = probe(loaded.source)
    except MediaError as exc:
        raise MediaError(f"{loaded.position('source')}: {exc}") from None
    background_info, problems = _checked_background_video(loaded)
    trim = loaded.project.trim
    start = parse_timecode(trim.start)
    if start >= info.duration:
        problems.append(
            Problem(loaded.position("trim", "start"), f"trim start {format_seconds(start)} is at or past the end of the source ({format_seconds(info.duration)})")
        )
    if trim.end is not None:
        end = parse_timecode(trim.end)
        if end > info.duration + _END_TOLERANCE:
            problems.append(
                Problem(loaded.position("trim", "end"), f"trim end {format_seconds(end)} is past the end of the source ({format_seconds(info.duration)})")
            )
    if problems:
        raise ProjectError(problems)
    rendered = (min(parse_timecode(trim.end), info.duration) if trim.end is not None else info.duration) - start
    problems.extend(_over_limits(loaded, info, rendered))
    project = loaded.project
    fades = parse_timecode(project.fade.fade_in) + parse_timecode(project.fade.fade_out) if project.fade else 0
    if fades > rendered:  # exact: 0.007 + 0.003 is 0.01, not a float a hair above it
        shown = seconds_apart(fades, rendered)
        problems.append(Problem(loaded.position("fade"), f"fade in + out ({shown[0]} s) is longer than the render ({shown[1]} s)"))
    problems.extend(_unseen_text(loaded, info.fps, rendered))
    if problems:
        raise ProjectError(problems)
    return replace(loaded, info=info, background_info=background_info)


def _checked_background_video(loaded: LoadedProject) -> tuple[SourceInfo | None, list[Problem]]:
    """The background clip probed like the source (a clip that cannot be read fails the same way), and its problems.

    Its length is not limited: it loops or holds its last frame.
    """
    from renderer.media.limits import limits
    from renderer.media.probe import probe

    background = loaded.project.background
    if loaded.background_video is None or background.type != "video":
        return None, []
    try:
        info = probe(loaded.background_video)
    except MediaError as exc:
        raise MediaError(f"{loaded.position('background', 'video')}: {exc}") from None
    problems = []
    max_side = limits().max_side
    if max(info.frame_size) > max_side:
        problems.append(Problem(loaded.position("background", "video"), (
            f"background.video: {info.frame_size[0]}x{info.frame_size[1]} frames are larger than the limit of {max_side} "
            "pixels a side (VBR_MAX_FRAME_SIZE raises it)"
        )))
    start = parse_timecode(background.start)
    if start >= info.duration:
        problems.append(Problem(loaded.position("background", "start"), (
            f"background.start {format_seconds(start)} is at or past the end of the clip ({format_seconds(info.duration)})"
        )))
    return info, problems


def _unseen_text(loaded: LoadedProject, source_fps: Fraction, rendered: Fraction) -> list[Problem]:
    """Overlays no output frame would show: frame i (at i/fps) shows those with start <= i/fps < end."""
    from math import ceil

    from renderer.graph.compile import frame_count, output_fps

    fps = output_fps(loaded.project, source_fps)
    frames = frame_count(rendered, fps)
    found = []
    for i, overlay in enumerate(loaded.project.text):
        start = parse_timecode(overlay.start)
        first = ceil(start * fps)
        end = min(ceil(parse_timecode(overlay.end) * fps), frames) if overlay.end is not None else frames
        if first >= frames:
            last = format_seconds(Fraction(frames - 1) / fps)
            found.append(Problem(loaded.position("text", i, "start"), (
                f"text[{i}].start ({format_seconds(start)}) is after the render's last frame ({last}, at {float(fps):g} fps): "
                "it would never show"
            )))
        elif first >= end:
            found.append(Problem(loaded.position("text", i), (
                f"text[{i}] from {format_seconds(start)} to {format_seconds(parse_timecode(overlay.end))} falls between two "
                f"frames at {float(fps):g} fps (the frame before is at {format_seconds(Fraction(first - 1) / fps)}, the next at "
                f"{format_seconds(Fraction(first) / fps)}): no frame would show it"
            )))
    return found
