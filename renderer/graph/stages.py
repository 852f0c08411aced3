"""One function per node type: inputs' iterators in, this stage's iterator out.

Stages hold no global state; what they share (model sessions, the mask cache,
counters, the event sink) comes in through RunContext.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from renderer.compose.background import make_backdrop
from renderer.compose.composite import composite
from renderer.compose.fade import fade_audio, fade_frame, frame_factor
from renderer.compose.grade import apply_grade
from renderer.compose.text import draw_layer, render_layer
from renderer.events import EventSink, Progress, ignore
from renderer.graph.matte import MaskNames, MatteCounts, Matted, matte_frames
from renderer.graph.nodes import (
    Audio, BackgroundVideo, Composite, Decode, Encode, Fade, Foreground, Grade, Matte, Node, Overlay, Refine, Reframe, Scale, Timeline,
)
from renderer.graph.prefetch import Pipeline
from renderer.graph.timeline import SourceEndedEarly, clip_passes, complete_count, select_frames
from renderer.matting.registry import ModelSpec


@dataclass
class RunContext:
    emit: EventSink = ignore
    cache: Any = None  # cache.masks.MaskCache, or None to run without one
    counts: MatteCounts = field(default_factory=MatteCounts)
    frames: int = 0
    threads: int | None = None  # onnxruntime intra-op threads; None = every usable core
    pipeline: Pipeline = field(default_factory=Pipeline)  # the run's threads: stopped when it ends
    _matters: dict[tuple[str, str], Any] = field(default_factory=dict)

    def matter(self, spec: ModelSpec, device: str) -> Any:
        """One onnxruntime session per model per run, created on first use (warm renders never pay for it)."""
        key = (spec.sha256, device)
        if key not in self._matters:
            from renderer.matting.session import Matter

            self._matters[key] = Matter(spec, self.threads, device, batch=self.batch(device))
        return self._matters[key]

    @staticmethod
    def batch(device: str) -> int:
        """Frames the model runs on at once: one on the CPU (no gain there, measured), several on a GPU."""
        from renderer.matting.batching import GPU_BATCH

        return 1 if device == "cpu" else GPU_BATCH

    @property
    def providers(self) -> list[str]:
        """The execution providers the sessions of this run actually use."""
        return sorted({matter.provider for matter in self._matters.values()})


@dataclass
class Scaled:
    rgb: np.ndarray  # the frame at output size, as the source has it
    mask: np.ndarray  # at the model's size until Refine brings it to the output's
    repeats: int
    fg: np.ndarray | None = None  # the subject's colours (estimated, graded) when they differ from `rgb`


@dataclass
class OutputFrame:
    index: int  # on the output timeline
    image: np.ndarray  # RGB, or straight RGBA with a transparent background


def decode(node: Decode, ctx: RunContext) -> Iterator[Any]:
    from renderer.media.decode import decode_video

    return decode_video(Path(node.path), node.start)


# Outputs past the last decoded frame that may hold it (a container's duration a little long).
HOLD_LIMIT = Fraction(1, 10)  # seconds


def timeline(node: Timeline, frames: Iterator[Any], ctx: RunContext) -> Iterator[tuple[Any, int]]:
    selected = select_frames(
        frames, node.window_start, node.fps, node.frames, node.source_fps, keep_unused=True, lookahead=node.lookahead
    )
    hold = max(1, int(HOLD_LIMIT * node.fps))
    try:
        yield from complete_count(selected, node.frames, hold)
    except SourceEndedEarly as short:
        from renderer.errors import MediaError
        from renderer.project.timecode import format_seconds

        ends = "no video frame could be decoded" if short.last_time is None else f"the video stops at {format_seconds(short.last_time)}"
        needed = format_seconds(node.window_start + Fraction(node.frames) / node.fps)
        raise MediaError(
            f"{node.decode.path}: {ends}, but the render needs frames up to {needed}: the file may be truncated "
            f"or still being written (set trim.end to cut the render short)"
        ) from None


def matte(node: Matte, annotated: Iterator[tuple[Any, int]], ctx: RunContext) -> Iterator[Matted]:
    return matte_frames(
        annotated,
        names=MaskNames(node.timeline.decode.sha256, node.model_identity(), node.dedup_threshold, node.keyframes),
        input_size=node.model.input_size,
        temporal=(node.temporal, node.ema_alpha, node.cut_threshold),
        first_time=node.timeline.decode.start,
        horizon=node.timeline.horizon,
        infer=lambda frames: ctx.matter(node.model, node.device).many(frames),
        batch=ctx.batch(node.device),
        cache=ctx.cache,
        counts=ctx.counts,
    )


def reframe(node: Reframe, matted: Iterator[Matted], ctx: RunContext) -> Iterator[Matted]:
    """Each frame with its window's offset; `subject` holds LOOKAHEAD seconds of frames to see where the subject goes."""
    from renderer.compose.reframe import SubjectPath, Window, centre_of_mass
    from renderer.matting.cuts import CUT_SIZE, cut_signature, is_cut

    window = Window(node.full[node.axis], node.window)
    if node.mode == "center":
        for item in matted:
            item.offset = window.travel // 2
            yield item
        return
    timeline = node.find(Timeline)
    path = SubjectPath(window, node.lookahead, node.dead_zone)
    held: deque[Matted] = deque()
    signature: np.ndarray | None = None
    index = timeline.first
    for item in matted:
        cut = item.cut
        if cut is None and node.cut_threshold < 1:  # the matte looked for none (temporal: off): look here
            current = cut_signature(item.frame.rgb(CUT_SIZE[0], CUT_SIZE[1], downscale=True))
            cut = is_cut(signature, current, node.cut_threshold)
            signature = current
        centre, coverage = centre_of_mass(item.mask, node.axis)
        path.add(float(index / timeline.fps), centre, coverage, bool(cut))
        index += item.repeats
        held.append(item)
        for offset in path.ready():
            done = held.popleft()
            done.offset = offset
            yield done
    for offset in path.finish():
        done = held.popleft()
        done.offset = offset
        yield done


def scale(node: Scale, matted: Iterator[Matted], ctx: RunContext) -> Iterator[Scaled]:
    """Frames at the output size; reframed, the window of the picture scaled to `full`, and the mask's same window."""
    from renderer.compose.resize import crop_plane

    framing = node.matte if isinstance(node.matte, Reframe) else None
    for item in matted:
        if framing is None:
            yield Scaled(item.frame.rgb(node.width, node.height), item.mask, item.repeats)
            continue
        full_w, full_h = framing.full
        offset = item.offset or 0
        picture = item.frame.rgb(full_w, full_h)
        if framing.axis == 0:
            rgb = picture[:, offset : offset + node.width]
        else:
            rgb = picture[offset : offset + node.height]
        length = framing.full[framing.axis]
        mask = crop_plane(item.mask, framing.axis, offset / length, framing.window / length)
        yield Scaled(np.ascontiguousarray(rgb), mask, item.repeats)


def refine(node: Refine, scaled: Iterator[Scaled], ctx: RunContext) -> Iterator[Scaled]:
    """Model matte -> output alpha: upsample, then levels, choke and feather, in that order."""
    from renderer.compose.refine import apply_levels, choke, feather, guided_upsample
    from renderer.media.scale import scale_plane

    size = node.scale
    for item in scaled:
        if node.upsample == "guided":
            alpha = guided_upsample(item.mask, item.rgb, size.width, size.height)
        else:
            alpha = scale_plane(item.mask, size.width, size.height)
        item.mask = feather(choke(apply_levels(alpha, node.black, node.white), node.choke), node.feather)
        yield item


def foreground(node: Foreground, scaled: Iterator[Scaled], ctx: RunContext) -> Iterator[Scaled]:
    from renderer.compose.foreground import estimate_foreground

    for item in scaled:
        item.fg = estimate_foreground(item.rgb, item.mask)
        yield item


def grade(node: Grade, scaled: Iterator[Scaled], ctx: RunContext) -> Iterator[Scaled]:
    for item in scaled:
        item.fg = apply_grade(item.rgb if item.fg is None else item.fg, node.spec)
        yield item


def composite_stage(
    node: Composite, scaled: Iterator[Scaled], pictures: Iterator[np.ndarray] | None, ctx: RunContext
) -> Iterator[OutputFrame]:
    """Over the background; a held source frame becomes one output frame per repeat.

    `pictures`: a video background's, one per output frame, so a held source
    frame is composited again over each of them.
    """
    size = node.find(Scale)
    image = None
    if node.image is not None:
        from renderer.media.image import read_image

        image = read_image(Path(node.image))
    backdrop = make_backdrop(node.background, size.width, size.height, image, pictures)
    if pictures is not None:
        scaled = (replace(item, repeats=1) for item in scaled for _ in range(item.repeats))
    index = node.find(Timeline).first
    estimated = node.has(Foreground)
    for item in scaled:
        behind = backdrop(item.rgb)  # blur: from the source frame
        if node.content == "matte":
            out = item.mask
        elif node.content == "foreground":  # the estimated (and graded) colours, black where there is no subject
            out = np.where(item.mask[..., None] > 0, item.fg, np.uint8(0))
        elif item.fg is None:
            out = composite(item.rgb, item.mask, behind)
        elif behind is not None:
            out = composite(item.fg, item.mask, behind)
        elif estimated:  # transparent: the subject's own colours wherever it shows, the source's elsewhere
            out = composite(np.where(item.mask[..., None] > 0, item.fg, item.rgb), item.mask, None)
        else:  # transparent and graded: graded where the mask is, original colours elsewhere
            out = composite(composite(item.fg, item.mask, item.rgb), item.mask, None)
        for _ in range(item.repeats):
            yield OutputFrame(index, out)
            index += 1


def background_video(node: BackgroundVideo, ctx: RunContext) -> Iterator[np.ndarray]:
    """The clip's pictures, decoded and fitted (the executor runs this in its own thread)."""
    from renderer.compose.background import fit_geometry
    from renderer.media.background_video import background_frames

    fit = fit_geometry(*node.clip_size, node.width, node.height, node.fit)
    runs = clip_passes(node.first, node.frames, node.fps, node.start, node.duration - node.start if node.loop else None)
    return background_frames(Path(node.path), runs, node.fps, node.clip_fps, fit)


def overlay(node: Overlay, frames: Iterator[OutputFrame], ctx: RunContext) -> Iterator[OutputFrame]:
    size = node.find(Scale)
    fps = node.find(Timeline).fps
    specs = [replace(spec, font=font) for spec, font in zip(node.texts, node.fonts)]
    layers = [render_layer(spec, size.width, size.height) for spec in specs]
    for frame in frames:
        t = Fraction(frame.index) / fps
        image = frame.image
        for spec, layer in zip(specs, layers):
            if spec.shows_at(t):
                image = draw_layer(image, layer)
        yield OutputFrame(frame.index, image)


def fade(node: Fade, frames: Iterator[OutputFrame], ctx: RunContext) -> Iterator[OutputFrame]:
    fps = node.find(Timeline).fps
    for frame in frames:
        yield OutputFrame(frame.index, fade_frame(frame.image, frame_factor(frame.index, fps, node.spec)))


def audio(node: Audio, ctx: RunContext) -> Iterator[np.ndarray]:
    """Sample blocks from the trim start on, faded; the encoder stops pulling at the video's end."""
    from renderer.media.audio import RATE, audio_blocks

    blocks = audio_blocks(Path(node.path), node.start, node.layout)
    return fade_audio(blocks, RATE, node.fade) if node.fade else blocks


def encode(node: Encode, frames: Iterator[OutputFrame], sound: Iterator[np.ndarray] | None, ctx: RunContext) -> Path:
    from renderer.media.encode import VideoSettings, open_writer

    video = VideoSettings(node.format, node.width, node.height, node.fps, node.alpha, node.quality, node.content)
    layout = node.audio.layout if node.audio else None
    total = node.timeline.frames
    counts = ctx.counts
    with open_writer(Path(node.path), video, sound, layout, node.pattern) as writer:
        for frame in frames:
            writer.write(frame.image)
            ctx.frames += 1
            ctx.emit(Progress(ctx.frames, total, counts.inferred, counts.cached, counts.reused))
        return writer.commit()


STAGES: dict[type[Node], Callable[..., Any]] = {
    Decode: decode,
    Timeline: timeline,
    Matte: matte,
    Reframe: reframe,
    Scale: scale,
    Refine: refine,
    Foreground: foreground,
    Grade: grade,
    Composite: composite_stage,
    BackgroundVideo: background_video,
    Overlay: overlay,
    Fade: fade,
    Audio: audio,
    Encode: encode,
}
