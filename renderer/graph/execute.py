"""Walk the graph from its output node: each stage gets its inputs' results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from renderer.events import Done, EventSink, Started, ignore
from renderer.graph.nodes import Encode, Node
from renderer.graph.stages import STAGES, RunContext


def evaluate(node: Node, ctx: RunContext) -> Any:
    """Results are lazy iterators until the output node pulls them through."""
    inputs = [None if child is None else evaluate(child, ctx) for child in node.inputs()]
    return STAGES[type(node)](node, *inputs, ctx)


def render(graph: Encode, emit: EventSink = ignore) -> Done:
    ctx = RunContext(emit=emit)
    began = time.monotonic()
    timeline = graph.composite.scale.matte.timeline
    emit(Started(graph.path, timeline.frames, graph.width, graph.height, float(graph.fps)))
    output: Path = evaluate(graph, ctx)
    done = Done(
        output=str(output),
        frames=ctx.stats.frames,
        inferred_frames=ctx.stats.inferred,
        reused_frames=ctx.stats.reused,
        seconds=round(time.monotonic() - began, 3),
    )
    emit(done)
    return done
