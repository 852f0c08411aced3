"""renderer.graph.timeline.select_frames: source frames onto the output's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import pytest

from renderer.graph.timeline import clip_passes, select_frames


@dataclass(frozen=True)
class Frame:
    index: int
    time: Fraction


def source(n: int, fps: Fraction, time_base: Fraction | None = None, offset: Fraction = Fraction(0)) -> list[Frame]:
    """n frames at a constant rate; with a time base, times are rounded to it (like a container)."""
    frames = []
    for k in range(n):
        t = offset + Fraction(k) / fps
        if time_base is not None:
            t = round(t / time_base) * time_base
        frames.append(Frame(k, t))
    return frames


def run(frames, start, fps, count, source_fps) -> list[tuple[int, int]]:
    return [(f.index, r) for f, r in select_frames(iter(frames), start, fps, count, source_fps)]


def expand(selection: list[tuple[int, int]]) -> list[int]:
    """One source index per output frame."""
    return [index for index, repeats in selection for _ in range(repeats)]


def reference(frames: list[Frame], start, fps, count, source_fps) -> list[int]:
    """Brute force: output i takes the frame nearest to start + i/fps (ties: earlier frame),
    as long as that time is before the last frame's end."""
    end = frames[-1].time + 1 / Fraction(source_fps)
    out = []
    for i in range(count):
        t = start + Fraction(i) / fps
        if t >= end:
            break
        best = min(frames, key=lambda f: (abs(f.time - t), f.time))
        out.append(best.index)
    return out


def check_invariants(selection: list[tuple[int, int]], count: int) -> None:
    assert all(r >= 1 for _, r in selection), "a frame was passed on with zero repeats"
    indices = [i for i, _ in selection]
    assert indices == sorted(indices) and len(set(indices)) == len(indices), "frames out of order or repeated"
    assert sum(r for _, r in selection) <= count


def test_same_rate_is_identity():
    frames = source(25, Fraction(25))
    selection = run(frames, Fraction(0), Fraction(25), 25, Fraction(25))
    assert selection == [(k, 1) for k in range(25)]


def test_same_rate_ntsc_is_identity():
    fps = Fraction(30000, 1001)
    frames = source(40, fps)
    assert run(frames, Fraction(0), fps, 40, fps) == [(k, 1) for k in range(40)]


def test_25_to_30_fills_every_output_in_order():
    frames = source(50, Fraction(25))
    count = 60  # 2 s at 30 fps
    selection = run(frames, Fraction(0), Fraction(30), count, Fraction(25))
    check_invariants(selection, count)
    assert sum(r for _, r in selection) == count
    assert [i for i, _ in selection] == list(range(50))  # every source frame used, in order
    assert {r for _, r in selection} == {1, 2}
    assert sum(1 for _, r in selection if r == 2) == 10  # 5 extra outputs per second
    assert expand(selection) == reference(frames, Fraction(0), Fraction(30), count, Fraction(25))


def test_25_to_30_first_frames():
    frames = source(10, Fraction(25))
    selection = run(frames, Fraction(0), Fraction(30), 12, Fraction(25))
    # outputs at 0, 1/30, 2/30, 3/30 -> nearest 0, 0.04, 0.08 (2/30=0.0667 nearer 0.08), 0.08 (0.1 vs 0.08/0.12: tie -> 0.08)
    assert selection[:3] == [(0, 1), (1, 1), (2, 2)]


def test_25_to_15_skips_frames_and_never_yields_zero():
    frames = source(50, Fraction(25))
    count = 30
    selection = run(frames, Fraction(0), Fraction(15), count, Fraction(25))
    check_invariants(selection, count)
    assert sum(r for _, r in selection) == count
    assert all(r == 1 for _, r in selection)
    used = [i for i, _ in selection]
    assert len(used) == count < len(frames)
    assert set(range(max(used))) - set(used), "some source frames should be skipped"
    assert expand(selection) == reference(frames, Fraction(0), Fraction(15), count, Fraction(25))


def test_trim_start_mid_frame_ties_to_earlier_frame():
    frames = source(50, Fraction(25))
    # 0.5 s is exactly between 0.48 (frame 12) and 0.52 (frame 13): the earlier one wins.
    selection = run(frames, Fraction(1, 2), Fraction(25), 5, Fraction(25))
    assert selection == [(12, 1), (13, 1), (14, 1), (15, 1), (16, 1)]
    assert frames[12].time == Fraction(12, 25)


def test_trim_start_just_past_midpoint_picks_later_frame():
    frames = source(50, Fraction(25))
    selection = run(frames, Fraction(1, 2) + Fraction(1, 10000), Fraction(25), 3, Fraction(25))
    assert selection == [(13, 1), (14, 1), (15, 1)]


def test_frames_before_trim_are_not_yielded():
    frames = source(50, Fraction(25))
    selection = run(frames, Fraction(1), Fraction(25), 10, Fraction(25))
    assert selection == [(k, 1) for k in range(25, 35)]


def test_first_frame_after_start_takes_the_early_outputs():
    # The stream's first timestamp is later than the trim start: the outputs before it
    # go to that first frame rather than being dropped.
    frames = source(10, Fraction(25), offset=Fraction(2, 25))
    selection = run(frames, Fraction(0), Fraction(25), 5, Fraction(25))
    assert selection[0] == (0, 3)
    assert sum(r for _, r in selection) == 5


def test_count_beyond_source_stops_at_its_end():
    frames = source(5, Fraction(25))  # 0.2 s of video
    selection = run(frames, Fraction(0), Fraction(25), 100, Fraction(25))
    assert selection == [(k, 1) for k in range(5)]

    # At 30 fps: outputs at i/30 < 0.2 s (the last frame's end) are i = 0..5.
    selection = run(frames, Fraction(0), Fraction(30), 100, Fraction(25))
    check_invariants(selection, 100)
    assert sum(r for _, r in selection) == 6
    assert selection[-1] == (4, 1)
    assert expand(selection) == reference(frames, Fraction(0), Fraction(30), 100, Fraction(25))


def test_last_frame_held_for_its_own_duration_only():
    frames = source(3, Fraction(10))  # frames at 0, 0.1, 0.2; video ends at 0.3
    selection = run(frames, Fraction(0), Fraction(100), 1000, Fraction(10))
    assert sum(r for _, r in selection) == 30
    # 0..0.05 (0.05 is a tie -> earlier) to frame 0, 0.06..0.15 to frame 1, 0.16..0.29 to frame 2
    assert selection == [(0, 6), (1, 10), (2, 14)]


def test_jittered_timestamps_map_one_to_one():
    fps = Fraction(30)
    frames = source(90, fps, time_base=Fraction(1, 1000))
    assert frames[1].time == Fraction(33, 1000) and frames[2].time == Fraction(67, 1000)
    assert run(frames, Fraction(0), fps, 90, fps) == [(k, 1) for k in range(90)]


def test_jittered_ntsc_timestamps_map_one_to_one():
    fps = Fraction(30000, 1001)
    frames = source(90, fps, time_base=Fraction(1, 1000))
    assert run(frames, Fraction(0), fps, 90, fps) == [(k, 1) for k in range(90)]


def test_empty_source_yields_nothing():
    assert list(select_frames(iter([]), Fraction(0), Fraction(25), 10, Fraction(25))) == []


def test_zero_count_yields_nothing():
    assert run(source(10, Fraction(25)), Fraction(0), Fraction(25), 0, Fraction(25)) == []


@pytest.mark.parametrize(
    "source_fps, fps, start, count",
    [
        (Fraction(25), Fraction(30), Fraction(0), 75),
        (Fraction(25), Fraction(15), Fraction(0), 40),
        (Fraction(30), Fraction(24), Fraction(1, 3), 48),
        (Fraction(24), Fraction(60), Fraction(7, 10), 150),
        (Fraction(30000, 1001), Fraction(25), Fraction(1, 2), 60),
        (Fraction(50), Fraction(25), Fraction(1, 100), 40),
        (Fraction(25), Fraction(24), Fraction(0), 500),  # more than the source holds
    ],
)
def test_matches_brute_force_nearest_frame(source_fps, fps, start, count):
    frames = source(120, source_fps)
    selection = run(frames, start, fps, count, source_fps)
    check_invariants(selection, count)
    assert expand(selection) == reference(frames, start, fps, count, source_fps)


class Exhausted(AssertionError):
    pass


def guarded(frames: list[Frame], allowed: int, pulled: list[int]) -> Iterator[Frame]:
    """Yields the first `allowed` frames, then fails the test if pulled again."""
    for k, frame in enumerate(frames):
        if k >= allowed:
            raise Exhausted(f"pulled frame {k}, only {allowed} may be read")
        pulled.append(k)
        yield frame


@pytest.mark.parametrize(
    "source_fps, fps, count",
    [(Fraction(25), Fraction(25), 10), (Fraction(25), Fraction(30), 12), (Fraction(25), Fraction(15), 6)],
)
def test_stops_consuming_once_count_is_reached(source_fps, fps, count):
    frames = source(1000, source_fps)
    expected = reference(frames, Fraction(0), fps, count, source_fps)
    last_used = expected[-1]
    # One frame past the last used one is needed to know that the last one is done,
    # and not one more.
    pulled: list[int] = []
    selection = [
        (f.index, r)
        for f, r in select_frames(guarded(frames, last_used + 2, pulled), Fraction(0), fps, count, source_fps)
    ]
    assert expand(selection) == expected
    assert max(pulled) == last_used + 1
    assert len(pulled) < len(frames)


def test_does_not_read_ahead_while_the_consumer_is_still_taking_frames():
    frames = source(1000, Fraction(25))
    pulled: list[int] = []
    gen = select_frames(guarded(frames, 1000, pulled), Fraction(0), Fraction(25), 100, Fraction(25))
    first, repeats = next(gen)
    assert (first.index, repeats) == (0, 1)
    assert max(pulled) == 1  # frame 1 is needed to decide frame 0's repeats, nothing more


def test_clip_passes_without_a_loop_are_one_run_from_the_windows_time():
    assert list(clip_passes(0, 30, Fraction(25), Fraction(1, 2), None)) == [(Fraction(1, 2), 30)]
    assert list(clip_passes(10, 5, Fraction(25), Fraction(1, 2), None)) == [(Fraction(1, 2) + Fraction(10, 25), 5)]


def test_clip_passes_start_over_from_start_each_time_the_loop_ends():
    # A 0.7 s loop from 0.3 s at 10 fps: outputs 0..6, 7..13, 14..19, each from 0.3 s.
    runs = list(clip_passes(0, 20, Fraction(10), Fraction(3, 10), Fraction(7, 10)))
    assert runs == [(Fraction(3, 10), 7), (Fraction(3, 10), 7), (Fraction(3, 10), 6)]


@pytest.mark.parametrize("first, count, fps, start, loop", [
    (0, 50, Fraction(25), Fraction(0), Fraction(1, 3)),  # a loop that is no whole number of frames
    (7, 40, Fraction(30000, 1001), Fraction(1, 10), Fraction(9, 10)),  # a window, NTSC rate
    (3, 9, Fraction(10), Fraction(0), Fraction(1, 30)),  # a loop shorter than a frame: one output a run
])
def test_clip_passes_put_every_output_at_its_own_clip_time(first, count, fps, start, loop):
    """Each output of each run, `1 / fps` apart from the run's time, is at start + (i / fps mod loop)."""
    times = [run + k / fps for run, n in clip_passes(first, count, fps, start, loop) for k in range(n)]
    assert times == [start + (Fraction(i) / fps) % loop for i in range(first, first + count)]


def test_a_lookahead_passes_the_frames_after_the_last_output_unshown():
    """25 fps both sides, outputs 0-9: with half a second of lookahead, frames 10-22 follow with repeats 0
    (up to 0.5 s past frame 9, and one frame more); without, nothing after frame 9 is read."""
    frames = source(40, Fraction(25))
    pulled: list[int] = []

    def reading() -> Iterator[Frame]:
        for frame in frames:
            pulled.append(frame.index)
            yield frame

    picked = [(f.index, r) for f, r in select_frames(reading(), Fraction(0), Fraction(25), 10, Fraction(25),
                                                     keep_unused=True, lookahead=Fraction(1, 2))]
    assert picked == [(i, 1) for i in range(10)] + [(i, 0) for i in range(10, 23)]
    assert max(pulled) == 23  # the first frame past the lookahead is read, not passed on
    assert run(frames, Fraction(0), Fraction(25), 10, Fraction(25)) == [(i, 1) for i in range(10)]


def test_a_lookahead_stops_where_the_source_does():
    frames = source(12, Fraction(25))
    picked = list(select_frames(iter(frames), Fraction(0), Fraction(25), 10, Fraction(25), keep_unused=True, lookahead=Fraction(1, 2)))
    assert [(f.index, r) for f, r in picked] == [(i, 1) for i in range(10)] + [(10, 0), (11, 0)]
