"""The matte stage: which frame's mask each frame uses, and where that mask comes from.

Dedup decisions are made per fixed two-second segment of the *source*: within
a segment, each frame is compared with the segment's last reference frame (the
last frame that needed its own mask) and becomes a new reference when more
than the threshold changed. Anchoring at source segments, not at the trim
start, makes every decision independent of trim and frame rate, so a moved or
narrowed trim finds the very masks an earlier render stored.

A reference frame's raw mask comes from memory, else the cache, else the
model; the temporal filter then runs over the frames that reach the output,
reset wherever a scene cut is detected between two of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor
from typing import Any, Callable, Iterator

import numpy as np

from renderer.digest import digest_of
from renderer.matting.cuts import CUT_SIZE, cut_signature, is_cut
from renderer.matting.temporal import Smoother, changed_fraction

SEGMENT = Fraction(2)  # seconds of source per dedup segment

# What a raw mask depends on besides the model and the frame: how the frame
# becomes the model's input (swscale Lanczos scaling from BT.709 full-range RGB).
# Bump when that changes. Lanczos, not area averaging: on the quality benchmark's
# clip u2netp's matte from a Lanczos-scaled input scored IoU 0.781 against 0.740
# (MAD -10 %, edge band -3 %), and the same on the photographs (README, Matte quality).
PREPROCESS = {"scale": "swscale-lanczos", "rgb": "bt709-full", "version": 2}


def segment_of(time: Fraction) -> int:
    return floor(time / SEGMENT)


def segment_start(time: Fraction) -> Fraction:
    return segment_of(time) * SEGMENT


@dataclass(frozen=True)
class MaskNames:
    """Cache keys for one source under one model and dedup threshold."""

    source_sha256: str
    model: dict[str, Any]
    threshold: float

    def mask(self, pts: int) -> str:
        return digest_of(["mask", self.source_sha256, self.model, PREPROCESS, pts])

    def chain(self, segment: int) -> str:
        return digest_of(["dedup-chain", self.source_sha256, self.model["input_size"], PREPROCESS, self.threshold, str(SEGMENT), segment])


@dataclass
class MatteCounts:
    inferred: int = 0
    cached: int = 0
    reused: int = 0


@dataclass
class Matted:
    frame: Any  # media.decode.SourceFrame
    repeats: int
    mask: np.ndarray  # model resolution, uint8, smoothed
    cut: bool | None = None  # a scene cut before this frame; None where cuts were not looked for
    offset: int | None = None  # reframed outputs: the window's first pixel along its axis (graph.nodes.Reframe)


class _Segment:
    """Dedup state within one source segment."""

    def __init__(self, index: int, known: dict[int, int]):
        self.index = index
        self.known = known  # decisions read from the cache (a prefix of the segment)
        self.decided: dict[int, int] = {}
        self.ref_pts: int | None = None
        self.ref_frame: Any = None
        self.ref_thumb: np.ndarray | None = None
        self.ref_mask: np.ndarray | None = None


def matte_frames(
    annotated: Iterator[tuple[Any, int]],
    *,
    names: MaskNames,
    input_size: tuple[int, int],
    temporal: tuple[str, float, float],  # mode, alpha, cut threshold (1: no cut detection)
    first_time: Fraction,
    infer: Callable[[np.ndarray], np.ndarray],
    cache: Any,  # cache.masks.MaskCache | None
    counts: MatteCounts,
) -> Iterator[Matted]:
    """(frame, repeats) for every source frame from a segment start -> smoothed masks of shown frames."""
    width, height = input_size
    threshold = names.threshold
    segment: _Segment | None = None
    mode, alpha, cut_threshold = temporal
    smoother = Smoother(mode, alpha)
    detect_cuts = mode != "off" and cut_threshold < 1
    signature: np.ndarray | None = None  # the last shown frame's, for cut detection

    def thumb(frame: Any) -> np.ndarray:  # what dedup compares: area-averaged, so noise counts little
        return frame.rgb(width, height, downscale=True)

    def close(seg: _Segment | None) -> None:
        if seg is not None and cache is not None and threshold > 0 and len(seg.decided) > len(seg.known):
            cache.put_chain(names.chain(seg.index), {**seg.known, **seg.decided})

    for frame, repeats in annotated:
        if frame.time < first_time:
            continue  # before the first segment's start (a seek lands early): not ours to decide
        index = segment_of(frame.time)
        if segment is None or index != segment.index:
            close(segment)
            known = (cache.get_chain(names.chain(index)) if cache is not None and threshold > 0 else None) or {}
            segment = _Segment(index, known)
        seg = segment

        # Which frame's mask does this frame use?
        own_thumb: np.ndarray | None = None
        ref = seg.known.get(frame.pts)
        if ref is None or (ref != frame.pts and ref != seg.ref_pts):
            if threshold > 0 and seg.ref_pts is not None:
                own_thumb = thumb(frame)
                if seg.ref_thumb is None:
                    seg.ref_thumb = thumb(seg.ref_frame)
                still = changed_fraction(own_thumb, seg.ref_thumb) < threshold
                ref = seg.ref_pts if still else frame.pts
            else:
                ref = frame.pts
            seg.decided[frame.pts] = ref
        if ref == frame.pts:
            seg.ref_pts, seg.ref_frame, seg.ref_thumb, seg.ref_mask = frame.pts, frame, own_thumb, None

        if repeats == 0:
            continue
        if ref != frame.pts:
            counts.reused += 1
        if seg.ref_mask is None:
            seg.ref_mask = cache.get(names.mask(ref)) if cache is not None else None
            if seg.ref_mask is not None:
                counts.cached += 1
            else:
                seg.ref_mask = infer(seg.ref_frame.rgb(width, height))
                counts.inferred += 1
                if cache is not None:
                    cache.put(names.mask(ref), seg.ref_mask)
        cut = False
        if detect_cuts:  # taken before the frame is handed on: each frame is converted in one thread
            current = cut_signature(frame.rgb(CUT_SIZE[0], CUT_SIZE[1], downscale=True))
            cut = is_cut(signature, current, cut_threshold)
            signature = current
        yield Matted(frame, repeats, smoother.step(seg.ref_mask, cut), cut if detect_cuts else None)
    close(segment)
