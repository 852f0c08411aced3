"""Mapping source frames onto the output's constant-rate timeline (pure).

Output frame i is shown at t_i = start + i / fps and takes the source frame
nearest to t_i (ties to the earlier one). Each source frame is passed on once
with the number of output frames it fills: zero-count frames (dropped by a
lower output rate, or before the trim) are never converted or inferred, and a
frame held over several outputs (a higher rate) is inferred once.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import takewhile
from math import ceil, floor
from typing import Iterable, Iterator, Protocol, TypeVar


class Timed(Protocol):
    time: Fraction


T = TypeVar("T", bound=Timed)


def select_frames(
    frames: Iterable[T],
    start: Fraction,
    fps: Fraction,
    count: int,
    source_fps: Fraction,
    *,
    keep_unused: bool = False,
    lookahead: Fraction = Fraction(0),
) -> Iterator[tuple[T, int]]:
    """Yield (frame, repeats) in order; the sum of repeats is at most `count`.

    Frames no output shows are left out, or passed with repeats 0 when
    `keep_unused` (the matte stage must see every frame to make dedup
    decisions that do not depend on the trim). The sum falls short of `count`
    only when the source ends early: outputs later than the last frame's own
    duration are not invented. With a `lookahead`, the frames after the last
    output follow (repeats 0) up to that many seconds past it, and one source
    frame more: what the matte stage needs to decide the last shown frames'
    masks as a longer render would.
    """
    half = 1 / (2 * source_fps)
    step = 1 / fps
    beyond = read_until(start, fps, count, source_fps, lookahead)
    frames = iter(frames)
    i = 0
    pending: T | None = None
    repeats = 0
    for frame in frames:
        # Outputs whose nearest frame comes before this one belong to `pending`
        # (or, before the first frame, to this first frame).
        while i < count and frame.time >= start + i * step + half:
            repeats += 1
            i += 1
        if pending is not None and (repeats or keep_unused):
            yield pending, repeats
            repeats = 0
        if i >= count:  # every output is placed: read no further than the lookahead
            if pending is None and repeats:
                yield frame, repeats
            elif lookahead and frame.time <= beyond:
                yield frame, 0
            if lookahead:
                yield from ((later, 0) for later in takewhile(lambda f: f.time <= beyond, frames))
            return
        pending = frame
    if pending is None:
        return
    end = pending.time + 1 / source_fps
    while i < count and start + i * step < end:
        repeats += 1
        i += 1
    if repeats or keep_unused:
        yield pending, repeats


def read_until(start: Fraction, fps: Fraction, count: int, source_fps: Fraction, lookahead: Fraction) -> Fraction:
    """The last source time select_frames passes on with a lookahead: `lookahead` past the last output, and a frame."""
    return start + (count - 1) / fps + lookahead + 1 / source_fps


class SourceEndedEarly(Exception):
    """The source ran out of frames before the render's last output frame."""

    def __init__(self, placed: int, needed: int, last_time: Fraction | None):
        super().__init__(f"{placed} of {needed} frames")
        self.placed, self.needed, self.last_time = placed, needed, last_time


def complete_count(
    pairs: Iterable[tuple[T, int]], count: int, max_hold: int
) -> Iterator[tuple[T, int]]:
    """Pass (frame, repeats) on, making sure the repeats add up to `count`.

    Containers often state a duration a little past the last video frame (an
    audio track ending later, rounding): up to `max_hold` missing outputs hold
    the last frame. More missing than that means the file is truncated or
    still being written, and the render must not end as a silently short video.
    """
    placed = 0
    previous: tuple[T, int] | None = None
    for pair in pairs:
        if previous is not None:
            yield previous
        previous = pair
        placed += pair[1]
    missing = count - placed
    if previous is not None and 0 < missing <= max_hold:
        previous = (previous[0], previous[1] + missing)
        missing = 0
    if previous is not None:
        yield previous
    if missing > 0:
        raise SourceEndedEarly(placed, count, previous[0].time if previous is not None else None)


def clip_passes(
    first: int, count: int, fps: Fraction, start: Fraction, loop: Fraction | None
) -> Iterator[tuple[Fraction, int]]:
    """A background clip over output frames first .. first + count - 1, as runs through it: (clip time, outputs).

    Output i is at clip time start + i / fps. With a loop of `loop` seconds it is
    at start + (i / fps mod loop) instead: each time the loop ends, the clip starts
    over from `start`. Each run is a stretch of outputs at consecutive clip times,
    from the clip time of its first output; without a loop there is one run.
    """
    end = first + count
    i = first
    while i < end:
        if loop is None:
            yield start + Fraction(i) / fps, end - i
            return
        k = floor(Fraction(i) / fps / loop)  # how many times the loop has started over
        n = min(ceil((k + 1) * loop * fps), end) - i  # to the first output of the next time round
        yield start + Fraction(i) / fps - k * loop, n
        i += n
