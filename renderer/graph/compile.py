"""Project -> graph: every default resolved, every number exact, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version
from math import floor

from renderer.compose.background import BackgroundSpec, hex_to_rgb
from renderer.graph.matte import segment_start
from renderer.graph.nodes import Audio, Composite, Decode, Encode, Matte, Scale, Timeline
from renderer.matting.registry import get_model
from renderer.project.load import LoadedProject
from renderer.project.models import Project
from renderer.project.timecode import parse_timecode

RESOLUTIONS = {"1080p": 1080, "720p": 720, "480p": 480}


def output_size(project: Project, width: int, height: int) -> tuple[int, int]:
    """Height from the preset (or the source), width by aspect; both even for 4:2:0."""
    preset = project.export.resolution
    out_h = RESOLUTIONS.get(preset, height)
    out_w = width * out_h / height
    return max(2, round(out_w / 2) * 2), max(2, out_h // 2 * 2)


def frame_count(duration: Fraction, fps: Fraction) -> int:
    return max(1, floor(duration * fps + Fraction(1, 2)))


def background_spec(project: Project) -> BackgroundSpec:
    bg = project.background
    if bg.type == "color":
        return BackgroundSpec("color", color=hex_to_rgb(bg.color))
    if bg.type == "blur":
        return BackgroundSpec("blur", radius=float(bg.radius))
    if bg.type == "image":
        return BackgroundSpec("image", fit=bg.fit)
    return BackgroundSpec("transparent")


@dataclass(frozen=True)
class InputHashes:
    """Content hashes of the files a project reads (see cache.sources)."""

    source: str
    image: str | None = None


def tool_versions() -> tuple[tuple[str, str], ...]:
    """Versions that can change output bytes; read from package metadata (no heavy imports)."""
    from renderer import __version__

    return (("vbr", __version__), ("av", version("av")), ("onnxruntime", version("onnxruntime")))


def compile_project(loaded: LoadedProject, hashes: InputHashes) -> Encode:
    """The graph's output node; its inputs reach back to the source."""
    project, info = loaded.project, loaded.info
    assert info is not None, "compile needs a project checked against its source"
    tools = tool_versions()
    start = parse_timecode(project.trim.start)
    end = parse_timecode(project.trim.end) if project.trim.end is not None else info.duration
    end = min(end, info.duration)
    fps = info.fps if project.export.fps == "original" else Fraction(project.export.fps)
    width, height = output_size(project, info.width, info.height)
    settings = project.model_settings

    # Decode from the dedup segment holding the first frame the output can show.
    decode_from = segment_start(max(Fraction(0), start - 1 / info.fps))
    timeline = Timeline(
        decode=Decode(path=str(loaded.source), sha256=hashes.source, start=decode_from),
        start=start,
        fps=fps,
        frames=frame_count(end - start, fps),
        source_fps=info.fps,
    )
    matte = Matte(
        timeline=timeline,
        model=get_model(settings.name),
        ema_alpha=settings.ema_alpha,
        dedup_threshold=settings.dedup_threshold,
        runtime=dict(tools)["onnxruntime"],
    )
    composite = Composite(
        scale=Scale(matte=matte, width=width, height=height),
        background=background_spec(project),
        image=str(loaded.image) if loaded.image else None,
        image_sha256=hashes.image,
    )
    audio = None
    if project.export.audio and info.audio_channels:
        # Mono stays mono; anything wider is mixed down to stereo, which every player takes.
        audio = Audio(
            path=str(loaded.source),
            sha256=hashes.source,
            start=start,
            layout="mono" if info.audio_channels == 1 else "stereo",
        )
    return Encode(
        composite=composite,
        audio=audio,
        path=str(loaded.export),
        format=loaded.format,
        width=width,
        height=height,
        fps=fps,
        alpha=project.background.type == "transparent",
        tools=tools,
    )
