"""One function per node type: inputs' iterators in, this stage's iterator out.

Stages hold no global state; what they share (model sessions, the mask cache,
counters, the event sink) comes in through RunContext.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from renderer.compose.background import make_backdrop
from renderer.compose.composite import composite
from renderer.events import EventSink, Progress, ignore
from renderer.graph.matte import MaskNames, MatteCounts, Matted, matte_frames
from renderer.graph.nodes import Audio, Composite, Decode, Encode, Matte, Node, Scale, Timeline
from renderer.graph.timeline import select_frames
from renderer.matting.registry import ModelSpec


@dataclass
class RunContext:
    emit: EventSink = ignore
    cache: Any = None  # cache.masks.MaskCache, or None to run without one
    counts: MatteCounts = field(default_factory=MatteCounts)
    frames: int = 0
    _matters: dict[str, Any] = field(default_factory=dict)

    def matter(self, spec: ModelSpec) -> Callable[[np.ndarray], np.ndarray]:
        """One onnxruntime session per model per run, created on first use (warm renders never pay for it)."""
        if spec.name not in self._matters:
            from renderer.matting.session import Matter

            self._matters[spec.name] = Matter(spec)
        return self._matters[spec.name]


@dataclass
class Scaled:
    rgb: np.ndarray
    mask: np.ndarray
    repeats: int


def decode(node: Decode, ctx: RunContext) -> Iterator[Any]:
    from renderer.media.decode import decode_video

    return decode_video(Path(node.path), node.start)


def timeline(node: Timeline, frames: Iterator[Any], ctx: RunContext) -> Iterator[tuple[Any, int]]:
    return select_frames(frames, node.start, node.fps, node.frames, node.source_fps, keep_unused=True)


def matte(node: Matte, annotated: Iterator[tuple[Any, int]], ctx: RunContext) -> Iterator[Matted]:
    return matte_frames(
        annotated,
        names=MaskNames(node.timeline.decode.sha256, node.model_identity(), node.dedup_threshold),
        input_size=node.model.input_size,
        ema_alpha=node.ema_alpha,
        first_time=node.timeline.decode.start,
        infer=lambda rgb: ctx.matter(node.model)(rgb),
        cache=ctx.cache,
        counts=ctx.counts,
    )


def scale(node: Scale, matted: Iterator[Matted], ctx: RunContext) -> Iterator[Scaled]:
    from renderer.media.scale import scale_plane

    for item in matted:
        rgb = item.frame.rgb(node.width, node.height)
        yield Scaled(rgb, scale_plane(item.mask, node.width, node.height), item.repeats)


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
    total = node.timeline.frames
    counts = ctx.counts
    with VideoWriter(Path(node.path), video, sound) as writer:
        for image, repeats in images:
            for _ in range(repeats):
                writer.write(image)
                ctx.frames += 1
                ctx.emit(Progress(ctx.frames, total, counts.inferred, counts.cached, counts.reused))
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
