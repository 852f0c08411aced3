"""The reframe window's path, its sizes and the mask's window: pure functions."""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import numpy as np
import pytest

from renderer.compose.reframe import DEAD_ZONE, LOOKAHEAD, SubjectPath, Window, centre_of_mass, local_linear_fit
from renderer.compose.resize import crop_plane, linear_weights, window_weights
from renderer.media.frame_size import framing

FPS = 25


def run(path: SubjectPath, centres: list[float], cuts: set[int] = frozenset(), coverage: list[float] | None = None) -> list[int]:
    offsets: list[int] = []
    for i, centre in enumerate(centres):
        path.add(i / FPS, centre, 0.1 if coverage is None else coverage[i], i in cuts)
        offsets.extend(path.ready())
    offsets.extend(path.finish())
    assert len(offsets) == len(centres)
    return offsets


def test_centre_of_mass_along_either_axis():
    mask = np.zeros((10, 20), np.uint8)
    mask[2:4, 15:17] = 255  # columns 15, 16: centre 16 / 20; rows 2, 3: centre 3 / 10
    assert centre_of_mass(mask, 0) == pytest.approx((16 / 20, 4 / 200))
    assert centre_of_mass(mask, 1)[0] == pytest.approx(3 / 10)
    assert centre_of_mass(np.zeros((4, 4), np.uint8), 0) == (0.5, 0.0)


def test_a_local_linear_fit_follows_a_line_without_lag():
    t = np.arange(-5, 6) / FPS
    assert local_linear_fit(t, 0.3 + 0.2 * t, np.exp(-t**2), 0.0) == pytest.approx(0.3)
    assert local_linear_fit(t[6:], 0.3 + 0.2 * t[6:], np.ones(5), 0.0) == pytest.approx(0.3)  # only the future: extrapolated
    assert local_linear_fit(t, t, np.zeros_like(t), 0.0) is None
    assert local_linear_fit(np.array([0.1]), np.array([0.7]), np.array([1.0]), 0.0) == pytest.approx(0.7)


def test_a_still_subject_with_a_noisy_matte_holds_the_window_perfectly_still():
    rng = np.random.default_rng(1)
    centres = list(0.6 + rng.normal(0, 0.004, 200))  # ~5 px of noise at 1280
    offsets = run(SubjectPath(Window(1280, 404)), centres)
    assert len(set(offsets)) == 1
    assert abs(offsets[0] + 202 - 0.6 * 1280) <= DEAD_ZONE * 1280 + 1


def test_a_moving_subject_is_followed_within_the_dead_zone_and_no_later():
    speed = 0.25  # of the width per second: across the frame in four seconds
    centres = [0.2 + speed * i / FPS for i in range(60)]  # to 0.8: never clamped at the edge
    window = Window(1280, 404)
    offsets = run(SubjectPath(window), centres)
    for i, offset in enumerate(offsets):
        behind = centres[i] * 1280 - (offset + 202)
        assert -1 <= behind <= DEAD_ZONE * 1280 + 1, i
    lag = DEAD_ZONE / speed
    assert lag < 0.5


def test_the_window_stays_inside_the_frame():
    offsets = run(SubjectPath(Window(1280, 404)), [0.02] * 10 + [0.99] * 10, cuts={10})
    assert offsets[:10] == [0] * 10
    assert offsets[10:] == [1280 - 404] * 10


def test_at_a_cut_the_window_jumps_and_does_not_glide_before_it():
    centres = [0.3] * 40 + [0.7] * 40
    offsets = run(SubjectPath(Window(1280, 404)), centres, cuts={40})
    assert set(offsets[:40]) == {round(0.3 * 1280 - 202)}
    assert set(offsets[40:]) == {round(0.7 * 1280 - 202)}
    without_cut = run(SubjectPath(Window(1280, 404)), centres)
    assert without_cut[35] != offsets[35]  # without the cut the fit would reach across it


def test_where_no_subject_is_seen_the_window_holds_and_a_shot_without_one_starts_in_the_middle():
    centres = [0.3] * 20 + [0.9] * 30
    coverage = [0.1] * 20 + [0.0] * 30  # the subject leaves: its "centre" is noise
    offsets = run(SubjectPath(Window(1280, 404)), centres, coverage=coverage)
    assert set(offsets) == {round(0.3 * 1280 - 202)}
    empty = run(SubjectPath(Window(1280, 404)), [0.1] * 10, coverage=[0.0] * 10)
    assert set(empty) == {(1280 - 404) // 2}


def test_each_offset_is_decided_once_its_future_is_known():
    path = SubjectPath(Window(1280, 404))
    decided = []
    for i in range(30):
        path.add(i / FPS, 0.5, 0.1, False)
        decided.extend(path.ready())
        ahead = ceil(LOOKAHEAD * FPS)  # 12.5 frames: the 13th frame after it
        assert len(decided) == max(0, i - ahead + 1)


@pytest.mark.parametrize(
    "resolution, aspect, expected",
    [
        ("original", "9:16", (404, 720, (1280, 720), 0)),
        ("original", "1:1", (720, 720, (1280, 720), 0)),
        ("original", "4:5", (576, 720, (1280, 720), 0)),
        ("1080p", "9:16", (1080, 1920, (3413, 1920), 0)),
        ("1080p", "4:5", (1080, 1350, (2400, 1350), 0)),
        ("480p", "1:1", (480, 480, (853, 480), 0)),
    ],
)
def test_framing_sizes_from_a_16_9_source(resolution, aspect, expected):
    got = framing(resolution, 720, Fraction(16, 9), aspect)
    assert (got.width, got.height, got.full, got.axis) == expected


def test_framing_a_portrait_source_slides_along_y_and_the_same_shape_is_no_framing():
    got = framing("1080p", 1920, Fraction(9, 16), "16:9")
    assert (got.width, got.height, got.full, got.axis) == (1920, 1080, (1920, 3413), 1)
    assert framing("720p", 720, Fraction(16, 9), "16:9") is None
    assert framing("720p", 720, Fraction(16, 9), "original") is None


def test_window_weights_of_the_whole_span_are_linear_weights_and_a_crop_keeps_its_density():
    assert np.array_equal(window_weights(320, 0, 320, 100), linear_weights(320, 100))
    plane = np.tile((np.arange(320) // 2).astype(np.uint8), (6, 1))
    cropped = crop_plane(plane, 0, 0.25, 0.5)
    assert cropped.shape == (6, 160)
    assert np.array_equal(cropped, plane[:, 80:240])
    assert np.array_equal(crop_plane(plane.T.copy(), 1, 0.25, 0.5), plane.T[80:240])
