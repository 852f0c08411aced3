"""`vbr plan`: what a render would do, from the graph, the cache and the container index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from renderer.graph import manifest
from renderer.graph.matte import MaskNames, segment_of
from renderer.graph.nodes import BackgroundVideo, Composite, Encode, Matte, Node, Reframe, Timeline
from renderer.graph.timeline import select_frames


@dataclass(frozen=True)
class NodeStatus:
    stage: str
    key: str
    status: str  # cached | stale | cheap
    detail: str = ""


@dataclass
class Plan:
    nodes: list[NodeStatus] = field(default_factory=list)
    frames: int = 0
    to_infer: int = 0  # exact when `exact`, else an upper bound
    exact: bool = True
    masks_cached: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [vars(n) for n in self.nodes],
            "frames": self.frames,
            "frames_to_infer": self.to_infer,
            "exact": self.exact,
            "masks_cached": self.masks_cached,
        }


def count_inference(
    annotated: Iterable[tuple[Any, int]], names: MaskNames, cache: Any
) -> tuple[int, bool, int]:
    """(masks to infer, whether that is exact, masks found cached) for the shown frames.

    Dedup decisions are known from cached chains (or trivially, with dedup
    off), and so are keyframe decisions (or trivially, with keyframes 1);
    where a segment's decisions are not cached yet, a shown frame is counted
    as needing its own mask unless that is cached: an upper bound, plus one
    with keyframes (a carried frame may need a keyframe that is not shown).
    A frame whose mask is carried needs the masks of the keyframes it is
    carried from.
    """
    missing: set[int] = set()
    present: set[int] = set()
    exact = True
    frames = 0
    chains: dict[int, tuple[dict[int, int] | None, dict[int, int] | None, dict[int, int] | None]] = {}
    for stamp, repeats in annotated:
        frames += 1
        segment = segment_of(stamp.time)
        if segment not in chains:
            keyed = cache is not None and names.keyframes > 1
            chains[segment] = (
                cache.get_chain(names.chain(segment)) if cache is not None and names.threshold > 0 else None,
                cache.get_chain(names.keys(segment)) if keyed else None,
                cache.get_chain(names.after(segment)) if keyed else None,
            )
        if repeats == 0:
            continue
        chain, keys, after = chains[segment]
        if names.threshold == 0:
            ref = stamp.pts
        elif chain is not None and stamp.pts in chain:
            ref = chain[stamp.pts]
        else:
            exact = False
            ref = stamp.pts
        needed = [ref]
        if names.keyframes > 1:
            if keys is not None and ref in keys:
                needed = [keys[ref]]
                if keys[ref] != ref:  # carried: and mixed with a later keyframe?
                    later = after.get(ref) if after is not None else None
                    if later is None:
                        exact = False
                    elif later != ref:
                        needed.append(later)
            else:
                exact = False
        for pts in needed:
            if pts not in missing and pts not in present:
                (present if cache is not None and cache.has(names.mask(pts)) else missing).add(pts)
    count = len(missing)
    if not exact and names.keyframes > 1:
        count = min(count + 1, frames)
    return count, exact, len(present)


def inference_needed(graph: Node, cache: Any) -> tuple[int, bool, int]:
    """count_inference for a graph's timeline, from the container index (nothing decoded)."""
    from renderer.media.decode import frame_stamps

    timeline = graph.find(Timeline)
    matte = graph.find(Matte)
    begin = timeline.window_start
    end = begin + timeline.frames / timeline.fps + timeline.lookahead + 1 / timeline.source_fps
    stamps = [s for s in frame_stamps(Path(timeline.decode.path), timeline.decode.start, end) if s.time >= timeline.decode.start]
    annotated = select_frames(
        stamps, begin, timeline.fps, timeline.frames, timeline.source_fps, keep_unused=True, lookahead=timeline.lookahead
    )
    names = MaskNames(timeline.decode.sha256, matte.model_identity(), matte.dedup_threshold, matte.keyframes)
    return count_inference(annotated, names, cache)


def make_plan(graph: Encode, cache: Any) -> Plan:
    timeline = graph.timeline
    matte = graph.find(Matte)
    to_infer, exact, cached = inference_needed(graph, cache)
    plan = Plan(frames=timeline.frames, to_infer=to_infer, exact=exact, masks_cached=cached)
    current = manifest.up_to_date(graph) is not None
    bound = "" if exact else "at most "
    for node in _walk(graph):
        if node is matte:
            status = "cached" if to_infer == 0 else "stale"
            detail = f"{bound}{to_infer} frames to infer, {cached} masks cached ({matte.model.name})"
        elif node is graph:
            status = "cached" if current else "stale"
            detail = f"{graph.path}" + (" is up to date" if current else "")
        elif isinstance(node, Reframe):
            status, detail = "cheap", f"{node.mode}: a {graph.width}x{graph.height} window of the picture at {node.full[0]}x{node.full[1]}"
        elif isinstance(node, Composite):
            status, detail = "cheap", node.content if node.content != "composite" else f"over {node.background.kind}"
        elif isinstance(node, BackgroundVideo):
            status, detail = "cheap", node.path  # decoded on every render, like the source
        else:
            status, detail = "cheap", ""
        plan.nodes.append(NodeStatus(node.STAGE, node.key(), status, detail))
    return plan


def _walk(node: Node) -> list[Node]:
    """Nodes in dependency order (inputs before the nodes that use them)."""
    ordered: list[Node] = []
    for child in node.inputs():
        if child is not None:
            ordered.extend(n for n in _walk(child) if n not in ordered)
    ordered.append(node)
    return ordered
