"""Stills from a project: the frames an export would contain, by the same graph.

A preview computes a short window of output frames ending at the wanted one.
The temporal filter makes each mask depend on earlier frames of the render;
when all masks from the trim start are cached the window starts there and the
still is exact. Otherwise it starts `warmup_frames` earlier, enough that the
frames left out weigh less than half an 8-bit level (at most one level of
difference in the matte, usually none), capped at MAX_WARMUP frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import ceil
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from renderer.events import EventSink, ignore
from renderer.graph.compile import InputHashes, Window, compile_project
from renderer.graph.execute import evaluate, open_cache
from renderer.graph.matte import Matted, MatteCounts
from renderer.graph.nodes import BackgroundVideo, Composite, Encode, Matte, Node, Reframe, Timeline
from renderer.graph.plan import inference_needed
from renderer.graph.stages import OutputFrame, RunContext
from renderer.graph.stages import Scaled as _Scaled
from renderer.matting.temporal import warmup_frames
from renderer.project.load import LoadedProject

MAX_WARMUP = 60


@dataclass
class Still:
    index: int
    time: Fraction  # on the output timeline
    image: np.ndarray
    exact: bool  # filtered from the trim start (not from a warm-up window)
    source: np.ndarray | None = None  # with layers: the source frame scaled to the output (H x W x 3)
    matte: np.ndarray | None = None  # with layers: the subject's matte at the output size (H x W), before text and fades


def stills(
    loaded: LoadedProject,
    hashes: InputHashes,
    indices: list[int],
    cache_root: Path | None,
    emit: EventSink = ignore,
    *,
    device: str = "cpu",
    threads: int | None = None,
    layers: bool = False,
) -> tuple[list[Still], MatteCounts]:
    """The finished frames at `indices`; with `layers`, each also keeps the source frame and matte it was made of."""
    ctx = RunContext(emit=emit, cache=open_cache(cache_root, emit), threads=threads)
    full = compile_project(loaded, hashes, device=device)
    results = []
    for index in indices:
        graph, first, _ = _window(loaded, hashes, full, index, ctx.cache, device)
        taken = _Taps(graph, index, ctx)
        found: Any = None
        shown: _Scaled | None = None
        try:
            for frame in evaluate(graph.frames, ctx, taken.tap):
                if frame.index == index:
                    found, shown = frame, taken.latest
                    break
        finally:
            ctx.pipeline.stop()
        if found is None:
            from renderer.errors import MediaError

            raise MediaError(f"{loaded.source}: frame {index} could not be decoded")
        image = found.image if found.image.ndim == 3 else np.repeat(found.image[..., None], 3, axis=2)  # a matte: grey RGB
        still = Still(index, Fraction(index) / graph.fps, image, first == 0)
        if layers and shown is not None:
            still.source, still.matte = shown.rgb, shown.mask
        results.append(still)
    return results, ctx.counts


def masks_to_infer(
    loaded: LoadedProject, hashes: InputHashes, index: int, cache_root: Path | None, *, device: str = "cpu"
) -> int:
    """How many masks the still at `index` would infer: 0 when the cache holds all it needs (a fast still).

    Looks at the container index and the cache only; nothing is decoded.
    """
    cache = open_cache(cache_root, ignore)
    graph, first, from_start = _window(loaded, hashes, compile_project(loaded, hashes, device=device), index, cache, device)
    return from_start if first == 0 else inference_needed(graph, cache)[0]


def _window(
    loaded: LoadedProject, hashes: InputHashes, full: Encode, index: int, cache: Any, device: str
) -> tuple[Encode, int, int]:
    """The graph a still at `index` is computed by, its first output frame, and the masks missing from the trim start.

    From the trim start when every mask up to the still is cached (exact), else
    from a warm-up of the temporal filter before it. `full` is the whole render's graph.
    """
    matte = full.find(Matte)
    warmup = min(MAX_WARMUP, warmup_frames(matte.temporal, matte.ema_alpha))
    end = _window_end(full, index)
    from_start = compile_project(loaded, hashes, Window(0, end), device)
    to_infer, exact, _ = inference_needed(from_start, cache)
    first = 0 if (to_infer == 0 and exact) or index <= warmup else index - warmup
    if first == 0:
        return from_start, 0, to_infer
    return compile_project(loaded, hashes, Window(first, end - first), device), first, to_infer


def _window_end(full: Encode, index: int) -> int:
    """One past the last output frame a still at `index` depends on: itself, or further when a
    reframe follows the subject (its window's place looks ahead), within the render."""
    if not full.has(Reframe) or full.find(Reframe).mode != "subject":
        return index + 1
    timeline = full.find(Timeline)
    return min(timeline.frames, index + 1 + ceil(full.find(Reframe).lookahead * timeline.fps))


class _Taps:
    """What a still's run does besides the graph's own work, through evaluate's taps.

    Frames before the still are needed only by the temporal filter, so they stop
    at the matte: the stages after it (scaling, refining, compositing, text,
    fades) run for the still's own frames alone, and an exact still late in a
    long clip costs a decode and a filter step per earlier frame, not a whole
    composite. Those stages keep no state from frame to frame; the composite
    numbers frames by counting them, so its numbers are moved on by as many as
    were left out, and a video background starts that many frames later. It
    also remembers the last frame (source pixels, matte) that reached the
    composite: the still's layers.
    """

    def __init__(self, graph: Encode, index: int, ctx: RunContext):
        self.matte: Node = graph.find(Reframe) if graph.has(Reframe) else graph.find(Matte)
        self.composite = graph.find(Composite)
        self.ctx = ctx
        self.first = graph.find(Timeline).first
        self.index = index
        self.skipped = 0  # output frames left out before the still
        self.latest: _Scaled | None = None

    def tap(self, node: Node, result: Any) -> Any:
        if node is self.matte:
            return self._from_the_still(result)
        if node is self.composite.frames:
            return self._remember(result)
        if node is self.composite:
            return self._renumber(result)
        if node is self.composite.video:
            return self._background_from_the_still(node)
        return result

    def _from_the_still(self, items: Iterator[Matted]) -> Iterator[Matted]:
        shown = self.first
        for item in items:
            if shown + item.repeats <= self.index:  # every output frame of it comes before the still
                self.skipped += item.repeats
            else:
                yield item
                return  # the still's own frame: later ones (a reframe's lookahead) go no further
            shown += item.repeats

    def _background_from_the_still(self, node: BackgroundVideo) -> Iterator[np.ndarray]:
        """The clip's pictures from the first output frame composited, not from the window's first.

        Started on the composite's first request, which follows its first frame:
        by then every frame left out is counted, and none of their pictures is
        made (the window's own, never started, are dropped).
        """
        later = replace(node, first=node.first + self.skipped, frames=node.frames - self.skipped)
        yield from evaluate(later, self.ctx)

    def _remember(self, items: Iterator[_Scaled]) -> Iterator[_Scaled]:
        for item in items:
            self.latest = item
            yield item

    def _renumber(self, frames: Iterator[OutputFrame]) -> Iterator[OutputFrame]:
        for frame in frames:
            yield OutputFrame(frame.index + self.skipped, frame.image) if self.skipped else frame


def frame_at(time: Fraction, fps: Fraction, total: int) -> int | None:
    """The output frame shown at `time`, or None outside the render."""
    index = int(time * fps)
    return index if 0 <= index < total else None


def sheet_indices(count: int, total: int) -> list[int]:
    """`count` output frames spread evenly: the middle frame of each of `count` equal parts.

    Middles rather than ends, so a fade's black first and last frames do not
    take two of the places.
    """
    count = min(count, total)
    return sorted({(2 * i + 1) * total // (2 * count) for i in range(count)})
