"""renderer.compose.foreground: blur-fusion foreground colours on scenes whose answer is known."""

import numpy as np
import pytest

from renderer.compose.foreground import estimate_foreground, radii

RED = np.array([255, 0, 0])
BLUE = np.array([0, 0, 255])


def two_colour_edge(height, width, ramp):
    """Red subject (left) over a blue background, alpha falling from 255 to 0 over `ramp` columns.

    The frame is exactly a * red + (1 - a) * blue, so the true foreground is pure red everywhere.
    """
    x = np.arange(width)
    a = np.clip((width / 2 + ramp / 2 - x - 0.5) / ramp, 0, 1)
    alpha = np.rint(np.tile(a * 255, (height, 1))).astype(np.uint8)
    weight = alpha[..., None] / 255
    rgb = np.rint(weight * RED + (1 - weight) * BLUE).astype(np.uint8)
    return rgb, alpha


def test_radii_follow_the_frame_size():
    assert radii(1080, 1920) == (45, 3)  # the paper's boxes of 90 and 6 pixels
    assert radii(720, 1280) == (30, 2)
    assert radii(1920, 1080) == (45, 3)  # the short side counts
    assert radii(20, 30) == (1, 1)


def test_a_red_subject_over_blue_comes_out_red_at_its_soft_edge():
    rgb, alpha = two_colour_edge(540, 960, ramp=3)
    soft = (alpha > 0) & (alpha < 255)
    assert sorted(np.unique(alpha[soft])) == [85, 170]
    # the source pixels there are purple: 85 or more levels from red in some channel
    assert np.abs(rgb[soft].astype(int) - RED).max(axis=-1).min() >= 85
    fg = estimate_foreground(rgb, alpha)
    assert np.abs(fg[soft].astype(int) - RED).max() <= 3


def test_composited_over_green_the_estimate_leaves_no_blue_fringe():
    rgb, alpha = two_colour_edge(540, 960, ramp=3)
    green = np.array([0, 177, 64])
    weight = alpha[..., None] / 255
    truth = weight * RED + (1 - weight) * green
    with_source = weight * rgb + (1 - weight) * green
    with_estimate = weight * estimate_foreground(rgb, alpha) + (1 - weight) * green
    soft = (alpha > 0) & (alpha < 255)
    assert np.abs(with_source - truth)[soft].max() > 50
    assert np.abs(with_estimate - truth)[soft].max() <= 2


def test_opaque_and_clear_pixels_keep_the_frame_colour_exactly():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (70, 90)).astype(np.uint8)
    alpha[alpha < 70] = 0
    alpha[alpha > 180] = 255
    fg = estimate_foreground(rgb, alpha)
    kept = (alpha == 0) | (alpha == 255)
    assert kept.mean() > 0.5
    np.testing.assert_array_equal(fg[kept], rgb[kept])
    assert (fg[~kept] != rgb[~kept]).any()  # the soft pixels were estimated


def test_a_uniform_picture_is_its_own_foreground_whatever_the_alpha():
    # I = c everywhere: every blur of F or B is c, and F' = c + a (c - a c - (1 - a) c) = c
    rgb = np.empty((48, 80, 3), dtype=np.uint8)
    rgb[:] = (200, 90, 30)
    alpha = np.random.default_rng(2).integers(1, 255, (48, 80)).astype(np.uint8)
    np.testing.assert_array_equal(estimate_foreground(rgb, alpha), rgb)


def test_a_matte_without_soft_pixels_changes_nothing():
    rgb = np.random.default_rng(3).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    alpha = np.zeros((30, 40), dtype=np.uint8)
    alpha[:, :20] = 255
    assert estimate_foreground(rgb, alpha) is rgb


@pytest.mark.parametrize("shape", [(37, 53), (1, 1), (5, 300), (300, 7)])
def test_odd_sizes_and_soft_pixels_on_the_frame_border(shape):
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    alpha = rng.integers(0, 256, shape).astype(np.uint8)
    fg = estimate_foreground(rgb, alpha)
    assert fg.shape == rgb.shape and fg.dtype == np.uint8
    kept = (alpha == 0) | (alpha == 255)
    np.testing.assert_array_equal(fg[kept], rgb[kept])


def test_same_input_same_bytes():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (120, 160)).astype(np.uint8)
    assert estimate_foreground(rgb, alpha).tobytes() == estimate_foreground(rgb.copy(), alpha.copy()).tobytes()
