"""renderer.graph.preview: warm-up length, time-to-frame lookup and contact-sheet frame choice."""

from fractions import Fraction

import numpy as np
import pytest

from renderer.graph.preview import MAX_WARMUP, frame_at, sheet_indices
from renderer.matting.temporal import ema, warmup_frames

F = Fraction


# --- warmup_frames ----------------------------------------------------------------------------------


def warmup(alpha: float) -> int:
    """The window a preview of an EMA project computes (capped as stills() caps it)."""
    return min(MAX_WARMUP, warmup_frames("ema", alpha))


def test_no_smoothing_needs_no_warmup():
    assert warmup(1.0) == 0


def test_alpha_075_needs_5_frames():
    # 0.25^4 = 1/256 is too much; 0.25^5 = 1/1024 is under 1/512
    assert warmup(0.75) == 5
    assert 0.25**5 < 1 / 512 <= 0.25**4


def test_alpha_05_needs_9_frames():
    # 0.5^9 = 1/512 exactly: what is left out weighs 255/512 < half a level, and 8 frames are not enough.
    # (The criterion is (1 - a)^W <= 1/512; the strict "< 1/512" would ask for 10.)
    assert warmup(0.5) == 9
    assert 0.5**9 <= 1 / 512 < 0.5**8


@pytest.mark.parametrize("alpha", [0.99, 0.9, 0.875, 0.8, 0.75, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.11])
def test_warmup_is_the_smallest_length_that_leaves_out_at_most_1_512(alpha):
    w = warmup(alpha)
    assert 1 <= w < MAX_WARMUP
    assert (1 - alpha) ** w <= 1 / 512 * (1 + 1e-12)
    assert (1 - alpha) ** (w - 1) > 1 / 512


@pytest.mark.parametrize("alpha", [0.1, 0.05, 0.01, 0.001])
def test_warmup_is_capped(alpha):
    assert warmup(alpha) == MAX_WARMUP == 60


def test_warmup_shrinks_as_alpha_grows():
    values = [warmup(a) for a in np.linspace(0.02, 1.0, 99)]
    assert values == sorted(values, reverse=True)
    assert values[0] == MAX_WARMUP and values[-1] == 0


@pytest.mark.parametrize("alpha", [0.9, 0.75, 0.5, 0.3, 0.2])
def test_warmup_window_matches_the_full_ema_within_one_level(alpha):
    """The documented purpose: starting `warmup_frames` early changes the matte by at most one level."""
    w = warmup(alpha)
    rng = np.random.default_rng(int(alpha * 100))
    # worst case: a long history at 255, then the window's frames at 0 (and a random case)
    for history, window in [
        (np.full((200, 1, 1), 255.0), np.zeros((w + 1, 1, 1))),
        (rng.integers(0, 256, (200, 8, 8)).astype(np.float64), rng.integers(0, 256, (w + 1, 8, 8)).astype(np.float64)),
    ]:
        state = None
        for raw in history:
            state, _ = ema(state, raw, alpha)
        for raw in window:
            state, full_mask = ema(state, raw, alpha)
        full_state = state
        state = None
        for raw in window:  # the preview's window: index - w .. index
            state, short_mask = ema(state, raw, alpha)
        assert np.abs(full_state - state).max() < 0.5
        assert np.abs(full_mask.astype(int) - short_mask.astype(int)).max() <= 1


# --- frame_at -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "time, expected",
    [
        (F(0), 0),
        (F(1, 60), 0),  # between frames: the frame being shown
        (F(1, 30), 1),
        (F(1, 2), 15),
        (F(2999, 1000), 89),
        (F(89, 30), 89),  # the last frame
        (F(179, 60), 89),
    ],
)
def test_frame_at_inside_the_render(time, expected):
    assert frame_at(time, F(30), 90) == expected


@pytest.mark.parametrize("time", [F(3), F(181, 60), F(10), F(-1, 30), F(-5)])
def test_frame_at_outside_the_render_is_none(time):
    assert frame_at(time, F(30), 90) is None


def test_frame_at_ntsc_rate_is_exact_on_frame_boundaries():
    fps = F(30000, 1001)
    for k in (0, 1, 29, 30, 1000, 1799):
        t = F(k) / fps
        assert frame_at(t, fps, 1800) == k
        assert frame_at(t - F(1, 10**9), fps, 1800) == (k - 1 if k else 0)
    assert frame_at(F(1800) / fps, fps, 1800) is None


def test_frame_at_empty_render_is_always_none():
    assert frame_at(F(0), F(25), 0) is None


# --- sheet_indices -----------------------------------------------------------------------------------------


def test_sheet_indices_are_the_middles_of_equal_parts():
    assert sheet_indices(4, 100) == [12, 37, 62, 87]  # parts of 25: middles at 12.5, 37.5, ...
    assert sheet_indices(5, 100) == [10, 30, 50, 70, 90]
    assert sheet_indices(2, 10) == [2, 7]
    assert sheet_indices(3, 90) == [15, 45, 75]


@pytest.mark.parametrize("total, expected", [(1, 0), (2, 1), (7, 3), (100, 50), (101, 50)])
def test_one_frame_is_the_middle_frame(total, expected):
    assert sheet_indices(1, total) == [expected]


@pytest.mark.parametrize("count, total", [(10, 5), (100, 3), (2, 1), (6, 6)])
def test_more_frames_than_the_render_has_gives_every_frame(count, total):
    assert sheet_indices(count, total) == list(range(total))


def test_sheet_indices_properties_over_many_sizes():
    for total in range(1, 160):
        for count in range(1, 40):
            got = sheet_indices(count, total)
            n = min(count, total)
            assert len(got) == n, (count, total)
            assert got == sorted(set(got))  # sorted, unique
            assert all(0 <= i < total for i in got)
            for part, i in enumerate(got):
                # frame i spans [i, i + 1): it overlaps its own part [p T/n, (p + 1) T/n) ...
                assert i * n < (part + 1) * total and (i + 1) * n > part * total, (count, total, part, i)
                # ... and is the frame showing the part's middle
                assert i <= F((2 * part + 1) * total, 2 * n) < i + 1, (count, total, part, i)


def test_ends_are_left_out_when_parts_are_wider_than_two_frames():
    for total in range(3, 200):
        for count in range(1, (total - 1) // 2 + 1):  # total > 2 * count
            got = sheet_indices(count, total)
            assert got[0] > 0 and got[-1] < total - 1, (count, total)


def test_nothing_to_show():
    assert sheet_indices(0, 100) == []
    assert sheet_indices(5, 0) == []
