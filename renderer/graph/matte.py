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

With model.keyframes N > 1, only some reference frames are inferred: the
first of a segment, one after a scene cut (between it and the reference before
it), and every N-th reference after the last keyframe. The references between
take the keyframes' raw masks, carried by the motion to them (matting/motion.py):
the keyframe before, mixed with the next one when that comes within
KEY_LOOKAHEAD in the same segment with no cut before it, each weighted by its
nearness in time. So a carried frame waits for the next keyframe, and the
timeline reads KEY_LOOKAHEAD past the last output: the last frames are decided
as a longer render decides them. Frames deduplicated onto a carried reference
reuse its carried mask. Like dedup, these decisions run from the segment start
and do not depend on trim or frame rate; they are cached per segment beside the
dedup chain (keyed by N), so that `vbr plan` can count exactly. The cache holds
only inferred masks, so changing N reuses every keyframe mask already stored,
and a re-render carries again from them (a few milliseconds a frame).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from math import floor
from typing import Any, Callable, Iterator

import numpy as np

from renderer.digest import digest_of
from renderer.matting.cuts import CUT_SIZE, DEFAULT_CUT_THRESHOLD, cut_signature, is_cut
from renderer.matting import motion
from renderer.matting.temporal import Smoother, changed_fraction

SEGMENT = Fraction(2)  # seconds of source per dedup segment
# Shown frames that may wait for a batch of masks (a long still shot reuses one mask: it must not hold them all).
WAIT_LIMIT = 32
# A reference frame after a scene cut is always a keyframe: carrying a mask across a
# cut cannot work. A fixed sensitivity (the temporal filter's default), so keyframe
# decisions do not change with the filter's settings.
KEY_CUT_THRESHOLD = DEFAULT_CUT_THRESHOLD
# A carried frame mixes in the next keyframe's mask when it comes within this many
# seconds (and the frames wait that long for it). Mixing both keyframes, not
# carrying the last one alone, measured on the quality clip at N = 2: see the README.
KEY_LOOKAHEAD = Fraction(1, 2)

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
    """Cache keys for one source under one model, dedup threshold and keyframe interval."""

    source_sha256: str
    model: dict[str, Any]
    threshold: float
    keyframes: int = 1

    def mask(self, pts: int) -> str:
        return digest_of(["mask", self.source_sha256, self.model, PREPROCESS, pts])

    def chain(self, segment: int) -> str:
        return digest_of(["dedup-chain", self.source_sha256, self.model["input_size"], PREPROCESS, self.threshold, str(SEGMENT), segment])

    def keys(self, segment: int) -> str:
        """A segment's keyframe decisions: reference pts -> pts of the keyframe whose mask it uses."""
        return digest_of([
            "keyframes", self.source_sha256, self.model["input_size"], PREPROCESS, self.threshold, self.keyframes,
            KEY_CUT_THRESHOLD, str(SEGMENT), segment,
        ])

    def after(self, segment: int) -> str:
        """A segment's carried references: pts -> the next keyframe's pts mixed into its mask (its own: none)."""
        return digest_of(["keyframes-after", self.keys(segment), str(KEY_LOOKAHEAD)])


@dataclass
class MatteCounts:
    inferred: int = 0
    cached: int = 0
    reused: int = 0
    carried: int = 0  # references whose mask was carried from a keyframe (model.keyframes)


@dataclass
class Matted:
    frame: Any  # media.decode.SourceFrame
    repeats: int
    mask: np.ndarray  # model resolution, uint8, smoothed
    cut: bool | None = None  # a scene cut before this frame; None where cuts were not looked for
    offset: int | None = None  # reframed outputs: the window's first pixel along its axis (graph.nodes.Reframe)


@dataclass(eq=False)
class _Mask:
    """A reference frame's raw mask, to be resolved: from the cache or the model, or carried from keyframes'."""

    pts: int
    frame: Any
    key: "_Mask | None" = None  # carried from this keyframe's mask
    after: "_Mask | None" = None  # ... mixed with this later keyframe's
    weight: float = 0.0  # the later keyframe's share
    settled: bool = True  # a carried mask: whether the later keyframe is known (or known to be none)
    value: np.ndarray | None = None
    luma: np.ndarray | None = None  # for the motion between keyframes and carried frames

    def needs(self) -> list["_Mask"]:
        """The raw masks this one still waits for (itself, or the keyframes it is carried from)."""
        if self.value is not None:
            return []
        if self.key is None:
            return [self]
        return [raw for raw in (self.key, self.after) if raw is not None and raw.value is None]


class _Segment:
    """Dedup state within one source segment."""

    def __init__(self, index: int, known: dict[int, int], known_keys: dict[int, int]):
        self.index = index
        self.known = known  # decisions read from the cache (a prefix of the segment)
        self.decided: dict[int, int] = {}
        self.ref_pts: int | None = None
        self.ref_frame: Any = None
        self.ref_thumb: np.ndarray | None = None
        self.ref_mask: _Mask | None = None
        # Keyframes (model.keyframes > 1): reference pts -> its keyframe's pts.
        self.known_keys = known_keys
        self.decided_keys: dict[int, int] = {}
        self.ref_key: int | None = None  # the current reference's keyframe
        self.since_key = 0  # references since the last keyframe
        self.key_mask: _Mask | None = None
        self.open: deque[_Mask] = deque()  # carried references waiting for the next keyframe
        self.known_after: dict[int, int] = {}  # read from the cache, for writing back whole
        self.decided_after: dict[int, int] = {}  # carried pts -> the later keyframe's pts (its own: none)

    def settle(self, until: Fraction | None = None, later: "_Mask | None" = None, record_before: Fraction | None = None) -> None:
        """Carried references wait no more: mix in `later`'s mask, or carry the last keyframe's alone.

        With `until` (a frame time), only those more than KEY_LOOKAHEAD before it.
        The decisions are kept for the cache; with `record_before`, only those of
        frames before it (at a stream's end: frames whose whole wait it covered).
        """
        while self.open and (until is None or until - self.open[0].frame.time > KEY_LOOKAHEAD):
            carried = self.open.popleft()
            if later is not None:
                assert carried.key is not None
                start, end = carried.key.frame.time, later.frame.time
                carried.after, carried.weight = later, float((carried.frame.time - start) / (end - start))
            carried.settled = True
            if record_before is None or carried.frame.time < record_before:
                self.decided_after[carried.pts] = later.pts if later is not None else carried.pts


def matte_frames(
    annotated: Iterator[tuple[Any, int]],
    *,
    names: MaskNames,
    input_size: tuple[int, int],
    temporal: tuple[str, float, float],  # mode, alpha, cut threshold (1: no cut detection)
    first_time: Fraction,
    horizon: Fraction | None = None,  # the last frame time the stream may bring (a timeline's lookahead); None: unknown
    infer: Callable[[list[np.ndarray]], list[np.ndarray]],
    cache: Any,  # cache.masks.MaskCache | None
    counts: MatteCounts,
    batch: int = 1,
) -> Iterator[Matted]:
    """(frame, repeats) for every source frame from a segment start -> smoothed masks of shown frames.

    `infer` takes up to `batch` frames at once. Masks are resolved in two steps:
    the decisions (dedup, keyframes) queue each shown frame with the mask it
    needs, and once `batch` masks are missing (or the queue is long, or the
    stream ends) they are read from the cache or inferred together. With a
    batch of 1 (the CPU) each is resolved as soon as it is needed, as before.
    """
    width, height = input_size
    threshold = names.threshold
    keyframes = names.keyframes
    segment: _Segment | None = None
    mode, alpha, cut_threshold = temporal
    smoother = Smoother(mode, alpha)
    detect_cuts = mode != "off" and cut_threshold < 1
    signature: np.ndarray | None = None  # the last shown frame's, for cut detection

    def thumb(frame: Any) -> np.ndarray:  # what dedup compares: area-averaged, so noise counts little
        return frame.rgb(width, height, downscale=True)

    def signature_of(frame: Any) -> np.ndarray:
        return cut_signature(frame.rgb(CUT_SIZE[0], CUT_SIZE[1], downscale=True))

    def motion_luma(frame: Any) -> np.ndarray:  # what motion is found on: a fraction of the model's size
        return motion.luma(frame.rgb(max(1, width // motion.SCALE), max(1, height // motion.SCALE), downscale=True))

    waiting: deque[tuple[Any, int, _Mask, bool]] = deque()  # shown frames, in order, with the mask each needs

    def luma_of(raw: _Mask) -> np.ndarray:
        if raw.luma is None:
            raw.luma = motion_luma(raw.frame)
        return raw.luma

    def carried(job: _Mask) -> np.ndarray:
        """A carried mask, from the keyframe before (and after) it."""
        key, later = job.key, job.after
        assert key is not None and key.value is not None
        here = luma_of(job)
        moved = motion.block_motion(luma_of(key), here)
        if later is None:
            return motion.carry_mask(key.value, moved)
        assert later.value is not None
        return motion.carry_between(key.value, moved, later.value, motion.block_motion(luma_of(later), here), job.weight)

    def resolve_raw() -> None:
        """Every raw mask the queue waits for: from the cache, else inferred in batches (the only place)."""
        needed = list({id(raw): raw for _, _, job, _ in waiting for raw in job.needs()}.values())
        to_infer = []
        for raw in needed:
            raw.value = cache.get(names.mask(raw.pts)) if cache is not None else None
            if raw.value is not None:
                counts.cached += 1
            else:
                to_infer.append(raw)
        for start in range(0, len(to_infer), batch):
            chunk = to_infer[start : start + batch]
            for raw, mask in zip(chunk, infer([raw.frame.rgb(width, height) for raw in chunk])):
                raw.value = mask
                counts.inferred += 1
                if cache is not None:
                    cache.put(names.mask(raw.pts), mask)

    def release(final: bool) -> Iterator[Matted]:
        """Queued frames whose masks are known (resolving the missing ones when enough wait), in order."""
        pending = {id(raw) for _, _, job, _ in waiting for raw in job.needs()}
        if pending and (final or len(pending) >= batch or len(waiting) >= WAIT_LIMIT):
            resolve_raw()
        while waiting:
            frame, repeats, job, cut = waiting[0]
            if job.value is None and job.settled and not job.needs():
                job.value = carried(job)
                job.key = job.after = None  # its keyframes' frames need not be kept for it
                counts.carried += 1
            if job.value is None:
                return
            waiting.popleft()
            yield Matted(frame, repeats, smoother.step(job.value, cut), cut if detect_cuts else None)

    def keyframe_of(seg: _Segment, frame: Any, previous_ref: Any) -> tuple[int, bool]:
        """The keyframe a new reference frame takes its mask from (itself when it is one), and whether a cut
        comes before it (looked for only where that matters: a keyframe that carried frames wait for)."""

        def cut_before() -> bool:
            return is_cut(signature_of(previous_ref), signature_of(frame), KEY_CUT_THRESHOLD)

        counted = seg.ref_key is None or seg.since_key + 1 >= keyframes
        key = seg.known_keys.get(frame.pts)
        if key is None:
            key = frame.pts if counted or cut_before() else seg.ref_key
            seg.decided_keys[frame.pts] = key
        if key != frame.pts:
            return key, False
        # Not counted, it is there for a cut; counted, a cut may still come before it.
        return key, not counted or (bool(seg.open) and cut_before())

    def close(seg: _Segment | None) -> None:
        if seg is None or cache is None:
            return
        if threshold > 0 and len(seg.decided) > len(seg.known):
            cache.put_chain(names.chain(seg.index), {**seg.known, **seg.decided})
        if keyframes > 1 and seg.decided_keys:
            cache.put_chain(names.keys(seg.index), {**seg.known_keys, **seg.decided_keys})
        if keyframes > 1 and set(seg.decided_after) - set(seg.known_after):
            cache.put_chain(names.after(seg.index), {**seg.known_after, **seg.decided_after})

    for frame, repeats in annotated:
        if frame.time < first_time:
            continue  # before the first segment's start (a seek lands early): not ours to decide
        index = segment_of(frame.time)
        if segment is None or index != segment.index:
            if segment is not None:
                segment.settle()  # no keyframe of the next segment is mixed in
            close(segment)
            known = (cache.get_chain(names.chain(index)) if cache is not None and threshold > 0 else None) or {}
            known_keys = (cache.get_chain(names.keys(index)) if cache is not None and keyframes > 1 else None) or {}
            segment = _Segment(index, known, known_keys)
            if cache is not None and keyframes > 1:
                segment.known_after = cache.get_chain(names.after(index)) or {}
        seg = segment
        seg.settle(until=frame.time)  # carried frames whose next keyframe would come too late

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
            mask = _Mask(frame.pts, frame)
            if keyframes > 1:  # and is its mask inferred, or carried from keyframes?
                key, after_cut = keyframe_of(seg, frame, seg.ref_frame)
                seg.since_key = 0 if key == frame.pts else seg.since_key + 1
                if key == frame.pts:
                    seg.settle(later=None if after_cut else mask)
                    seg.key_mask = mask
                else:
                    mask = _Mask(frame.pts, frame, key=seg.key_mask, settled=False)
                    seg.open.append(mask)
                seg.ref_key = key
            seg.ref_pts, seg.ref_frame, seg.ref_thumb, seg.ref_mask = frame.pts, frame, own_thumb, mask

        if repeats == 0:
            continue
        if ref != frame.pts:
            counts.reused += 1
        cut = False
        if detect_cuts:  # taken before the frame is handed on: each frame is converted in one thread
            current = signature_of(frame)
            cut = is_cut(signature, current, cut_threshold)
            signature = current
        assert seg.ref_mask is not None
        waiting.append((frame, repeats, seg.ref_mask, cut))
        yield from release(final=False)
    if segment is not None:  # the stream's end: a longer render may read past it, and decide otherwise
        segment.settle(record_before=first_time if horizon is None else horizon - KEY_LOOKAHEAD)
    yield from release(final=True)
    close(segment)
