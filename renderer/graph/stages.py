"""One function per node type: inputs' iterators in, this stage's iterator out.

Stages hold no global state; what they share (model sessions, counters, the
event sink) comes in through RunContext.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from renderer.compose.background import make_backdrop
from renderer.compose.composite import composite
from renderer.compose.resize import resize
from renderer.events import EventSink, Progress, ignore
from renderer.graph.nodes import Audio, Composite, Decode, Encode, Matte, Node, Scale, Timeline
from renderer.graph.timeline import select_frames
from renderer.matting.registry import ModelSpec
from renderer.matting.temporal import changed_fraction, ema


@dataclass
class Stats:
    frames: int = 0
    inferred: int = 0
    reused: int = 0


@dataclass
class RunContext:
    emit: EventSink = ignore
    stats: Stats = field(default_factory=Stats)
    _matters: dict[str, Any] = field(default_factory=dict)

    def matter(self, spec: ModelSpec) -> Callable[[np.ndarray], np.ndarray]:
        """One onnxruntime session per model per run, created on first use."""
        if spec.name not in self._matters:
            from renderer.matting.session import Matter

            self._matters[spec.name] = Matter(spec)
        return self._matters[spec.name]


@dataclass
class Matted:
    frame: Any  # media.decode.SourceFrame
    repeats: int
    mask: np.ndarray  # model resolution, uint8


@dataclass
class Scaled:
    rgb: np.ndarray
    mask: np.ndarray
    repeats: int


def decode(node: Decode, ctx: RunContext) -> Iterator[Any]:
    from renderer.media.decode import decode_video

    return decode_video(Path(node.path), node.start)


def timeline(node: Timeline, frames: Iterator[Any], ctx: RunContext) -> Iterator[tuple[Any, int]]:
    return select_frames(frames, node.start, node.fps, node.frames, node.source_fps)


def matte(node: Matte, selected: Iterator[tuple[Any, int]], ctx: RunContext) -> Iterator[Matted]:
    """Infer, or reuse the last inferred mask when the picture barely changed; then smooth.

    Dedup compares with the last *inferred* frame, never the previous one, so
    slow drift cannot accumulate into a stale mask.
    """
    run = ctx.matter(node.model)
    width, height = node.model.input_size
    reference: np.ndarray | None = None
    raw: np.ndarray | None = None
    state: np.ndarray | None = None
    for frame, repeats in selected:
        small = frame.rgb(width, height, downscale=True)
        if (
            reference is not None
            and node.dedup_threshold > 0
            and changed_fraction(small, reference) < node.dedup_threshold
        ):
            ctx.stats.reused += 1
        else:
            raw = run(small)
            reference = small
            ctx.stats.inferred += 1
        assert raw is not None
        state, mask = ema(state, raw, node.ema_alpha)
        yield Matted(frame, repeats, mask)


def scale(node: Scale, matted: Iterator[Matted], ctx: RunContext) -> Iterator[Scaled]:
    for item in matted:
        rgb = item.frame.rgb(node.width, node.height)
        yield Scaled(rgb, resize(item.mask, node.width, node.height), item.repeats)


def composite_stage(node: Composite, scaled: Iterator[Scaled], ctx: RunContext) -> Iterator[tuple[np.ndarray, int]]:
    image = None
    if node.image is not None:
        from renderer.media.image import read_image

        image = read_image(Path(node.image))
    backdrop = make_backdrop(node.background, node.scale.width, node.scale.height, image)
    for item in scaled:
        yield composite(item.rgb, item.mask, backdrop(item.rgb)), item.repeats


def audio(node: Audio, ctx: RunContext) -> Audio:
    """Audio is streamed by the encoder itself, interleaved with the video."""
    return node


def encode(node: Encode, images: Iterator[tuple[np.ndarray, int]], audio_node: Audio | None, ctx: RunContext) -> Path:
    from renderer.media.encode import AudioSettings, VideoSettings, VideoWriter

    video = VideoSettings(node.format, node.width, node.height, node.fps, node.alpha)
    sound = AudioSettings(Path(audio_node.path), audio_node.start, audio_node.layout) if audio_node else None
    total = node.composite.scale.matte.timeline.frames
    with VideoWriter(Path(node.path), video, sound) as writer:
        for image, repeats in images:
            for _ in range(repeats):
                writer.write(image)
                ctx.stats.frames += 1
                ctx.emit(Progress(ctx.stats.frames, total, ctx.stats.inferred, ctx.stats.reused))
        return writer.commit()


STAGES: dict[type[Node], Callable[..., Any]] = {
    Decode: decode,
    Timeline: timeline,
    Matte: matte,
    Scale: scale,
    Composite: composite_stage,
    Audio: audio,
    Encode: encode,
}
