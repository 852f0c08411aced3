"""Stills from a project: the frames an export would contain, by the same graph.

A preview computes a short window of output frames ending at the wanted one.
The temporal filter makes each mask depend on earlier frames of the render;
when all masks from the trim start are cached the window starts there and the
still is exact. Otherwise it starts `warmup_frames` earlier, enough that the
frames left out weigh less than half an 8-bit level (at most one level of
difference in the matte, usually none), capped at MAX_WARMUP frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from renderer.events import EventSink, ignore
from renderer.graph.compile import InputHashes, Window, compile_project
from renderer.graph.execute import evaluate, open_cache
from renderer.graph.matte import MatteCounts
from renderer.graph.nodes import Matte
from renderer.graph.plan import inference_needed
from renderer.graph.stages import RunContext
from renderer.matting.temporal import warmup_frames
from renderer.project.load import LoadedProject

MAX_WARMUP = 60


@dataclass
class Still:
    index: int
    time: Fraction  # on the output timeline
    image: np.ndarray
    exact: bool  # filtered from the trim start (not from a warm-up window)


def stills(
    loaded: LoadedProject,
    hashes: InputHashes,
    indices: list[int],
    cache_root: Path | None,
    emit: EventSink = ignore,
    *,
    device: str = "cpu",
    threads: int | None = None,
) -> tuple[list[Still], MatteCounts]:
    ctx = RunContext(emit=emit, cache=open_cache(cache_root, emit), threads=threads)
    full = compile_project(loaded, hashes, device=device)
    fps = full.fps
    matte = full.find(Matte)
    warmup = min(MAX_WARMUP, warmup_frames(matte.temporal, matte.ema_alpha))
    results = []
    for index in indices:
        from_start = compile_project(loaded, hashes, Window(0, index + 1), device)
        to_infer, exact, _ = inference_needed(from_start, ctx.cache)
        first = 0 if (to_infer == 0 and exact) or index <= warmup else index - warmup
        graph = from_start if first == 0 else compile_project(loaded, hashes, Window(first, index - first + 1), device)
        last: Any = None
        try:
            for frame in evaluate(graph.frames, ctx):
                last = frame
        finally:
            ctx.pipeline.stop()
        if last is None or last.index != index:
            from renderer.errors import MediaError

            raise MediaError(f"{loaded.source}: frame {index} could not be decoded")
        results.append(Still(index, Fraction(index) / fps, last.image, first == 0))
    return results, ctx.counts


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
