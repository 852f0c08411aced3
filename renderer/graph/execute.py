"""Running a graph: skip it if its output is current, else walk it from the output node."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from renderer.events import Done, EventSink, Started, WarningEvent, ignore
from renderer.graph import manifest
from renderer.graph.nodes import BackgroundVideo, Decode, Encode, Matte, Node
from renderer.graph.stages import STAGES, RunContext


# Frames in flight between threads: enough to smooth out uneven stages, few enough to keep memory flat.
QUEUE_FRAMES = 4


def evaluate(node: Node, ctx: RunContext, tap: Callable[[Node, Any], Any] | None = None) -> Any:
    """Results are lazy iterators until the output node pulls them through.

    Four threads share the work: decoding runs ahead of the matte, the matte
    (inference) ahead of compositing, and everything up to the finished frame
    ahead of the encoder, so the model never waits for pixels work. A video
    background is decoded and fitted in a fifth, ahead of the compositing.

    `tap(node, result)`, when given, sees (and returns, possibly wrapped) each
    node's result before the node downstream takes it: a preview reads the
    source frame and the matte on their way to the composite this way.
    """
    inputs = [None if child is None else evaluate(child, ctx, tap) for child in node.inputs()]
    if isinstance(node, Encode):
        inputs[0] = ctx.pipeline.prefetch(inputs[0], QUEUE_FRAMES, "frames")
    result = STAGES[type(node)](node, *inputs, ctx)
    if isinstance(node, Decode):
        result = ctx.pipeline.prefetch(result, QUEUE_FRAMES, "decode")
    elif isinstance(node, Matte):
        result = ctx.pipeline.prefetch(result, QUEUE_FRAMES, "matte")
    elif isinstance(node, BackgroundVideo):
        result = ctx.pipeline.prefetch(result, QUEUE_FRAMES, "background")
    return result if tap is None else tap(node, result)


def open_cache(root: Path | None, emit: EventSink) -> Any:
    if root is None:
        return None
    from renderer.cache.masks import MaskCache
    from renderer.cache.store import Store

    warned: list[str] = []

    def warn(message: str) -> None:
        if not warned:  # one warning per run, whichever namespace failed first
            warned.append(message)
            emit(WarningEvent(message))

    return MaskCache(Store(root, "masks", warn), Store(root, "chains", warn))


def skip_if_current(graph: Encode) -> Done | None:
    """A skipped render's Done when the output on disk is exactly what this graph makes."""
    began = time.monotonic()
    current = manifest.up_to_date(graph)
    if current is None:
        return None
    return Done(graph.path, 0, 0, 0, 0, round(time.monotonic() - began, 3), True, graph.key(), current, graph.find(Matte).device)


def render(
    graph: Encode,
    emit: EventSink = ignore,
    *,
    cache_root: Path | None = None,
    max_cache_bytes: int | None = None,
    force: bool = False,
    project_sha256: str = "",
    threads: int | None = None,
    cache: Any = None,
) -> Done:
    """`cache`: an open MaskCache to use instead of opening the one at `cache_root`
    (the Ray executor hands one that records which masks the render used)."""
    began = time.monotonic()
    if not force:
        done = skip_if_current(graph)
        if done is not None:
            emit(done)
            return done
    ctx = RunContext(emit=emit, cache=cache if cache is not None else open_cache(cache_root, emit), threads=threads)
    emit(Started(graph.path, graph.timeline.frames, graph.width, graph.height, float(graph.fps)))
    try:
        output: Path = evaluate(graph, ctx)
    finally:
        ctx.pipeline.stop()  # no thread outlives the render, whichever way it ends
    from renderer.digest import output_sha256

    record = manifest.build(graph, output_sha256(output), project_sha256)
    manifest.write(output, record)
    if cache_root is not None and max_cache_bytes is not None and ctx.counts.inferred:
        from renderer.cache.maintenance import prune_after_render

        prune_after_render(cache_root, max_cache_bytes, lambda message: emit(WarningEvent(message)))
    counts = ctx.counts
    done = Done(
        str(output), ctx.frames, counts.inferred, counts.cached, counts.reused,
        round(time.monotonic() - began, 3), False, graph.key(), record, graph.find(Matte).device, ctx.providers,
        counts.carried,
    )
    emit(done)
    return done
