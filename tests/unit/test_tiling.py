"""renderer.compose.tiling: area averaging, window sums and per-tile interpolation on small arrays."""

import numpy as np
import pytest

from helpers import area_matrix

from renderer.compose.tiling import (
    area_resize,
    axis,
    bilinear_taps,
    box_sum,
    extreme_filter,
    interpolate_tiles,
    pad_edge,
    tile_size,
    tile_view,
    window_counts,
)


@pytest.mark.parametrize(
    "h, w, height, width",
    [
        (720, 1280, 320, 320),  # 9 rows -> 4 and 4 columns -> 1: one shared matrix per axis
        (37, 29, 11, 13),  # no short repeating pattern: groups with weights of their own
        (5, 7, 9, 11),  # more outputs than inputs
        (100, 1, 7, 1),
        (427, 300, 160, 64),
    ],
)
def test_area_resize_is_the_mean_over_each_output_pixel(h, w, height, width):
    image = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = area_resize(image, width, height)
    expected = np.einsum("yh,hwc,xw->cyx", area_matrix(h, height), image.astype(float), area_matrix(w, width), optimize=True)
    assert out.shape == (3, height, width) and out.dtype == np.float32
    assert np.abs(out - expected).max() < 1e-3


def test_area_resize_of_a_two_by_two_block():
    image = np.array([[[0], [100]], [[50], [250]]], dtype=np.uint8)
    assert area_resize(image, 1, 1)[0, 0, 0] == pytest.approx(100)


def test_box_sum_and_counts_cut_at_the_border():
    x = np.arange(20, dtype=np.float32).reshape(4, 5)
    out = box_sum(x, 1, 2)
    expected = np.array([[sum(x[max(0, i - 1) : i + 2, max(0, j - 2) : j + 3].ravel()) for j in range(5)] for i in range(4)])
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(window_counts(4, 5, 1, 2), [[6, 8, 10, 8, 6], [9, 12, 15, 12, 9], [9, 12, 15, 12, 9], [6, 8, 10, 8, 6]])


def test_extreme_filter_over_a_box():
    x = np.zeros((5, 7), dtype=np.uint8)
    x[2, 3] = 9
    out = extreme_filter(x, 1, 2, np.maximum)
    assert (out == 9).sum() == 15 and out[1:4, 1:6].min() == 9


def test_tile_size_divides_when_it_can():
    assert tile_size(720, 16) == 16 and tile_size(1080, 16) == 15 and tile_size(1280, 32) == 32
    assert tile_size(1081, 16) == 23  # a divisor within half to twice the target
    assert tile_size(1093, 16) == 16  # a prime: the tiles run past the end


@pytest.mark.parametrize("n, n_out, target, extra", [(320, 720, 16, 0), (320, 1280, 32, 4), (7, 45, 16, 2), (50, 30, 8, 0), (1, 9, 4, 0)])
def test_tile_interpolation_is_bilinear_resampling(n, n_out, target, extra):
    lo, hi, t = bilinear_taps(n, n_out)
    values = np.random.default_rng(n).random(n).astype(np.float32)
    full = values[lo] * (1 - t) + values[hi] * t
    ax = axis(n, n_out, target, extra)
    for tile in range(ax.count):
        pixels = np.minimum(tile * ax.tile + np.arange(ax.tile + extra), n_out - 1)
        got = ax.weights[tile] @ values[ax.first[tile] : ax.first[tile] + ax.span]
        np.testing.assert_allclose(got, full[pixels], atol=1e-6)


def test_bilinear_taps_align_pixel_centres():
    lo, hi, t = bilinear_taps(2, 8)  # each input pixel covers four outputs
    np.testing.assert_array_equal(lo, [0, 0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(hi, [0, 0, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(t, [0.625, 0.875, 0.125, 0.375, 0.625, 0.875, 0.125, 0.375])  # of the sample above


def test_interpolate_tiles_and_tile_view_cut_the_same_tiles():
    cells = np.random.default_rng(9).random((2, 6, 5)).astype(np.float32)
    ys, xs = axis(6, 24, 8), axis(5, 20, 10)
    ty, tx = np.array([0, 2, 1]), np.array([1, 0, 1])
    got = interpolate_tiles(cells, ys, xs, ty, tx)
    lo, hi, t = bilinear_taps(6, 24)
    rows = cells[:, lo] * (1 - t)[:, None] + cells[:, hi] * t[:, None]
    lo, hi, t = bilinear_taps(5, 20)
    full = rows[:, :, lo] * (1 - t) + rows[:, :, hi] * t
    tiles = tile_view(np.moveaxis(full, 0, -1), ys.tile, xs.tile)[ty, tx]  # N x C x rows x cols
    np.testing.assert_allclose(got, np.moveaxis(tiles, 1, 0), atol=1e-6)


def test_pad_edge_repeats_or_zeros_and_copies_nothing_when_nothing_is_added():
    x = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    assert pad_edge(x, 0, 0, 0, 0) is x
    np.testing.assert_array_equal(pad_edge(x, 1, 0, 0, 1), [[1, 2, 2], [1, 2, 2], [3, 4, 4]])
    np.testing.assert_array_equal(pad_edge(x, 0, 1, 1, 0, zero=True), [[0, 1, 2], [0, 3, 4], [0, 0, 0]])
