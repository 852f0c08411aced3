"""Project -> graph: every default resolved, every number exact, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version
from math import floor

from renderer.compose.background import BackgroundSpec, hex_to_rgb
from renderer.compose.fade import FadeSpec
from renderer.compose.grade import GradeSpec
from renderer.compose.text import TextSpec, default_align, hex_to_rgba
from renderer.graph.matte import KEY_LOOKAHEAD, segment_start
from renderer.compose.reframe import DEAD_ZONE, LOOKAHEAD
from renderer.graph.nodes import (
    Audio, BackgroundVideo, Composite, Decode, Encode, Fade, Foreground, Grade, Matte, Overlay, Refine, Reframe, Scale, Timeline,
)
from renderer.matting.registry import IMAGENET_MEAN, IMAGENET_STD, ModelSpec, custom_spec, get_model
from renderer.media.frame_size import Framing, framing, output_size
from renderer.project.load import LoadedProject
from renderer.project.models import ModelSettings, Project
from renderer.project.timecode import parse_timecode


def frame_count(duration: Fraction, fps: Fraction) -> int:
    """Output frames for a span: its length in frames rounded to the nearest (halves up), at least one."""
    return max(1, floor(duration * fps + Fraction(1, 2)))


def output_fps(project: Project, source_fps: Fraction) -> Fraction:
    return source_fps if project.export.fps == "original" else Fraction(project.export.fps)


def background_spec(project: Project) -> BackgroundSpec:
    bg = project.background
    if bg.type == "color":
        return BackgroundSpec("color", color=hex_to_rgb(bg.color))
    if bg.type == "blur":
        return BackgroundSpec("blur", radius=float(bg.radius))
    if bg.type == "image":
        return BackgroundSpec("image", fit=bg.fit)
    if bg.type == "video":
        return BackgroundSpec("video", fit=bg.fit)
    return BackgroundSpec("transparent")


@dataclass(frozen=True)
class InputHashes:
    """Content hashes of the files a project reads (see cache.sources)."""

    source: str
    image: str | None = None
    fonts: tuple[str | None, ...] = ()  # per text overlay; None = the bundled default
    model: str | None = None  # a custom model's weights (model.path)
    background_video: str | None = None  # background.video's clip


@dataclass(frozen=True)
class Window:
    """A run of output frames to compute instead of the whole render (previews)."""

    first: int
    count: int


def background_video(
    loaded: LoadedProject, hashes: InputHashes, fps: Fraction, size: tuple[int, int], window: tuple[int, int]
) -> BackgroundVideo | None:
    """The clip behind the subject over the output frames of `window` (first, count), fitted to `size`; None without one."""
    bg, clip = loaded.project.background, loaded.background_info
    if bg.type != "video":
        return None
    assert loaded.background_video is not None and clip is not None and hashes.background_video is not None
    return BackgroundVideo(
        path=str(loaded.background_video),
        sha256=hashes.background_video,
        start=parse_timecode(bg.start),
        loop=bg.loop,
        fit=bg.fit,
        duration=clip.duration,
        clip_fps=clip.fps,
        clip_size=(clip.width, clip.height),
        fps=fps,
        width=size[0],
        height=size[1],
        frames=window[1],
        first=window[0],
    )


def tool_versions() -> tuple[tuple[str, str], ...]:
    """Versions that can change output bytes; read from package metadata (no heavy imports)."""
    from renderer import __version__

    return (("vbr", __version__), ("av", version("av")), ("onnxruntime", version("onnxruntime")))


def grade_spec(project: Project) -> GradeSpec | None:
    """None when there is no grade or every control is 0: neutral is no stage at all."""
    if project.grade is None:
        return None
    spec = GradeSpec(**project.grade.model_dump())
    return None if spec.neutral else spec


def text_specs(project: Project, hashes: InputHashes) -> tuple[TextSpec, ...]:
    specs = []
    for i, overlay in enumerate(project.text):
        position = overlay.position if isinstance(overlay.position, str) else (overlay.position.x, overlay.position.y)
        specs.append(
            TextSpec(
                text=overlay.text,
                font=hashes.fonts[i] if i < len(hashes.fonts) else None,
                size=float(overlay.size),
                color=hex_to_rgba(overlay.color),
                position=position,
                margin=float(overlay.margin),
                align=overlay.align or default_align(position),
                line_spacing=float(overlay.line_spacing),
                start=parse_timecode(overlay.start),
                end=parse_timecode(overlay.end) if overlay.end is not None else None,
                box=(hex_to_rgba(overlay.box.color), float(overlay.box.padding)) if overlay.box else None,
                outline=(hex_to_rgba(overlay.outline.color), float(overlay.outline.width)) if overlay.outline else None,
                shadow=(hex_to_rgba(overlay.shadow.color), float(overlay.shadow.offset), float(overlay.shadow.blur))
                if overlay.shadow
                else None,
            )
        )
    return tuple(specs)


# Temporal filter defaults (README: "Matte quality" has the measurements they come from).
TEMPORAL_DEFAULT = "adaptive"
ALPHA_DEFAULTS = {"ema": 0.75, "adaptive": 0.5}
CUT_THRESHOLD_DEFAULT = 0.35


def temporal_settings(settings: ModelSettings) -> tuple[str, float, float]:
    """(mode, alpha, cut threshold), defaults resolved.

    A file that gives only ema_alpha keeps what it meant before modes existed:
    the EMA. Settings that cannot change a result are normalised (`off` has no
    alpha or cuts, an EMA of weight 1 is `off`), so equal results share a key.
    """
    mode = settings.temporal or ("ema" if settings.ema_alpha is not None else TEMPORAL_DEFAULT)
    alpha = 1.0 if mode == "off" else settings.ema_alpha if settings.ema_alpha is not None else ALPHA_DEFAULTS[mode]
    if mode == "ema" and alpha >= 1:
        mode = "off"
    if mode == "off":
        return "off", 1.0, 1.0
    cut = settings.cut_threshold if settings.cut_threshold is not None else CUT_THRESHOLD_DEFAULT
    return mode, float(alpha), float(cut)


def model_spec(loaded: LoadedProject, weights_sha256: str | None) -> ModelSpec:
    """The registry's entry, or a spec built from the project's own model settings."""
    settings = loaded.project.model_settings
    if loaded.model_path is None:
        return get_model(settings.name)
    assert weights_sha256 is not None and settings.input_size is not None and settings.activation is not None
    size = settings.input_size
    return custom_spec(
        loaded.model_path,
        weights_sha256,
        input_size=(size, size) if isinstance(size, int) else (size[0], size[1]),
        mean=tuple(settings.mean) if settings.mean else IMAGENET_MEAN,
        std=tuple(settings.std) if settings.std else IMAGENET_STD,
        activation=settings.activation,
        output=settings.output or 0,
    )


def reframe_node(matte: Matte, framed: Framing, project: Project) -> Reframe:
    cut = project.model_settings.cut_threshold
    return Reframe(
        matte=matte,
        mode=project.export.reframe or "subject",
        full=framed.full,
        axis=framed.axis,
        window=(framed.width, framed.height)[framed.axis],
        lookahead=LOOKAHEAD,
        dead_zone=DEAD_ZONE,
        cut_threshold=float(cut) if cut is not None else CUT_THRESHOLD_DEFAULT,
    )


def compile_project(loaded: LoadedProject, hashes: InputHashes, window: Window | None = None, device: str = "cpu") -> Encode:
    """The graph's output node; its inputs reach back to the source.

    With a `window`, the timeline covers only those output frames (text and
    fades still follow the full render's timeline); used for previews.
    """
    project, info = loaded.project, loaded.info
    assert info is not None, "compile needs a project checked against its source"
    tools = tool_versions()
    start = parse_timecode(project.trim.start)
    end = parse_timecode(project.trim.end) if project.trim.end is not None else info.duration
    end = min(end, info.duration)
    fps = output_fps(project, info.fps)
    framed = framing(project.export.resolution, info.height, info.aspect, project.export.aspect)
    width, height = (framed.width, framed.height) if framed else output_size(project.export.resolution, info.height, info.aspect)
    settings = project.model_settings
    total = frame_count(end - start, fps)
    first, count = (window.first, window.count) if window else (0, total)

    # Decode from the dedup segment holding the first frame the output can show.
    decode_from = segment_start(max(Fraction(0), start + first / fps - 1 / info.fps))
    timeline = Timeline(
        decode=Decode(path=str(loaded.source), sha256=hashes.source, start=decode_from),
        start=start,
        fps=fps,
        frames=count,
        source_fps=info.fps,
        first=first,
        lookahead=KEY_LOOKAHEAD if settings.keyframes > 1 else Fraction(0),
    )
    temporal, alpha, cut_threshold = temporal_settings(settings)
    matte = Matte(
        timeline=timeline,
        model=model_spec(loaded, hashes.model),
        temporal=temporal,
        ema_alpha=alpha,
        cut_threshold=cut_threshold,
        dedup_threshold=settings.dedup_threshold,
        runtime=dict(tools)["onnxruntime"],
        device=device,
        keyframes=settings.keyframes,
    )
    edges = project.matte
    content = project.export.content
    framed_matte = matte if framed is None else reframe_node(matte, framed, project)
    frames: Refine | Foreground | Grade | Composite | Overlay | Fade = Refine(
        scale=Scale(matte=framed_matte, width=width, height=height),
        upsample=edges.refine,
        black=float(edges.black),
        white=float(edges.white),
        choke=float(edges.choke),
        feather=float(edges.feather),
    )
    if content == "foreground" or (content == "composite" and edges.foreground == "estimate"):
        frames = Foreground(refine=frames)
    graded = grade_spec(project)
    if graded is not None and content != "matte":
        frames = Grade(scale=frames, spec=graded)
    frames = Composite(
        frames=frames,
        content=content,
        background=background_spec(project) if content == "composite" else BackgroundSpec("transparent"),
        image=str(loaded.image) if loaded.image else None,
        image_sha256=hashes.image,
        video=background_video(loaded, hashes, fps, (width, height), (first, count)),
    )
    if project.text:
        fonts = tuple(str(f) if f else None for f in loaded.fonts) or (None,) * len(project.text)
        frames = Overlay(frames=frames, texts=text_specs(project, hashes), fonts=fonts)
    duration = Fraction(total) / fps
    fades = FadeSpec(
        Fraction(str(project.fade.fade_in)) if project.fade else Fraction(0),
        Fraction(str(project.fade.fade_out)) if project.fade else Fraction(0),
        duration,
    )
    if fades.active and content != "foreground":  # a fill is not faded: the matte it goes with carries the fade
        frames = Fade(frames=frames, spec=fades)
    audio = None
    if project.export.audio and info.audio_channels:
        # Mono stays mono; anything wider is mixed down to stereo, which every player takes.
        audio = Audio(
            path=str(loaded.source),
            sha256=hashes.source,
            start=start,
            layout="mono" if info.audio_channels == 1 else "stereo",
            fade=fades if fades.active else None,
        )
    return Encode(
        frames=frames,
        audio=audio,
        path=str(loaded.export),
        format=loaded.format,
        width=width,
        height=height,
        fps=fps,
        alpha=project.background.type == "transparent" and content == "composite",
        tools=tools,
        quality=project.export.quality,
        content=project.export.content,
        pattern=loaded.pattern,
    )
