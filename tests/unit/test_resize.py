"""renderer.compose.resize: separable resampling and Gaussian blur."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.compose.resize import (
    apply_axes,
    gaussian_blur,
    gaussian_weights,
    linear_weights,
    resize,
    to_uint8,
)


def full_gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    h, w = image.shape[:2]
    return to_uint8(apply_axes(image, gaussian_weights(h, sigma), gaussian_weights(w, sigma)))


def scene(h: int, w: int) -> np.ndarray:
    """A picture-like test image: smooth gradients plus hard-edged shapes."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = x * 255 // (w - 1)
    img[..., 1] = y * 255 // (h - 1)
    img[..., 2] = 60
    img[(x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2] = (255, 255, 255)
    img[h // 5 : h // 2, int(w * 0.6) : int(w * 0.8)] = (0, 0, 200)
    return img


@pytest.mark.parametrize("n_in, n_out", [(1, 1), (1, 7), (7, 1), (10, 10), (10, 20), (20, 10), (1920, 320), (33, 17), (17, 33), (3, 1000)])
def test_linear_weights_rows_sum_to_one_and_are_non_negative(n_in, n_out):
    w = linear_weights(n_in, n_out)
    assert w.shape == (n_out, n_in)
    assert w.dtype == np.float32
    assert np.all(w >= 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)


def test_linear_weights_same_size_is_identity():
    np.testing.assert_array_equal(linear_weights(9, 9), np.eye(9, dtype=np.float32))


def test_linear_weights_are_mirror_symmetric():
    w = linear_weights(37, 11)
    np.testing.assert_allclose(w, w[::-1, ::-1], atol=1e-6)


def test_linear_weights_downscale_spreads_over_the_scale_factor():
    # Halving: each output averages (at least) its two source pixels, not a single one.
    w = linear_weights(20, 10)
    interior = w[3]
    assert np.count_nonzero(interior) >= 2
    assert interior[6] == pytest.approx(interior[7])


@pytest.mark.parametrize("shape, size", [((40, 60, 3), (17, 23)), ((40, 60, 3), (240, 90)), ((41, 13), (7, 100)), ((1, 1, 3), (5, 4))])
@pytest.mark.parametrize("value", [0, 1, 128, 254, 255])
def test_resize_of_constant_image_is_exactly_constant(shape, size, value):
    image = np.full(shape, value, dtype=np.uint8)
    out = resize(image, *size)
    width, height = size
    assert out.shape == (height, width) + shape[2:]
    assert out.dtype == np.uint8
    assert np.all(out == value)


def test_resize_to_same_size_returns_the_input():
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    assert resize(image, 6, 4) is image


def test_resize_output_shape_and_dtype_gray_and_rgb():
    assert resize(np.zeros((10, 20), np.uint8), 5, 3).shape == (3, 5)
    assert resize(np.zeros((10, 20, 3), np.uint8), 5, 3).shape == (3, 5, 3)


def test_downscale_of_checkerboard_averages_to_mid_grey():
    y, x = np.mgrid[0:64, 0:64]
    board = (((x + y) % 2) * 255).astype(np.uint8)
    board = np.repeat(board[..., None], 3, axis=2)
    out = resize(board, 32, 32).astype(int)
    # Interior pixels see a symmetric neighbourhood: exactly the mean, 127.5 -> 127 or 128.
    assert np.all(np.abs(out[1:-1, 1:-1] - 127.5) <= 0.5)
    # Even the truncated border stays near grey: no pixel keeps the 0/255 of point sampling.
    assert np.all(np.abs(out - 127.5) < 5)


def test_upscale_interpolates_between_samples():
    row = np.array([[0, 200]], dtype=np.uint8)
    out = resize(row, 4, 1)[0].astype(int)
    assert out[0] == 0 and out[-1] == 200
    assert 0 < out[1] < out[2] < 200


@pytest.mark.parametrize("n, sigma", [(1, 1.0), (10, 0.5), (50, 3.0), (50, 25.0), (300, 12.0)])
def test_gaussian_weights_rows_sum_to_one(n, sigma):
    g = gaussian_weights(n, sigma)
    assert g.shape == (n, n)
    assert np.all(g >= 0)
    np.testing.assert_allclose(g.sum(axis=1), 1.0, atol=1e-5)


def test_gaussian_weights_interior_row_is_a_centred_symmetric_kernel():
    g = gaussian_weights(101, 4.0)
    row = g[50]
    assert row.argmax() == 50
    np.testing.assert_allclose(row[50 - 12 : 50], row[51 : 63][::-1], rtol=1e-6)
    # The border clamps: weight that would fall outside lands on the edge pixel.
    assert g[0, 0] > row[50]


@pytest.mark.parametrize("sigma", [1.5, 4.0, 12.0, 25.0])
@pytest.mark.parametrize("value", [0, 77, 255])
def test_gaussian_blur_of_constant_image_is_unchanged(sigma, value):
    image = np.full((50, 70, 3), value, dtype=np.uint8)
    out = gaussian_blur(image, sigma)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.all(out == value)


@pytest.mark.parametrize("sigma", [2.0, 12.0, 25.0])
def test_gaussian_blur_of_step_edge_is_monotonic_and_symmetric(sigma):
    h, w = 90, 160
    step = np.zeros((h, w, 3), dtype=np.uint8)
    step[:, w // 2 :] = 255
    out = gaussian_blur(step, sigma).astype(int)
    assert np.all(np.diff(out, axis=1) >= 0), "not monotonic across the edge"
    assert np.all(out == out[:1]), "a vertical edge should give identical rows"
    assert np.all(np.abs(out + out[:, ::-1] - 255) <= 1), "not symmetric about the edge"
    row = out[h // 2, :, 0]
    assert row[0] == 0 and row[-1] == 255
    assert 0 < row[w // 2 - 1] < 255 and 0 < row[w // 2] < 255  # the edge is actually softened


def test_wider_sigma_gives_softer_edge():
    step = np.zeros((90, 160, 3), dtype=np.uint8)
    step[:, 80:] = 255
    slopes = [int(gaussian_blur(step, s)[45, 80, 0]) - int(gaussian_blur(step, s)[45, 79, 0]) for s in (2.0, 12.0, 25.0)]
    assert slopes[0] > slopes[1] > slopes[2] > 0


@pytest.mark.parametrize("sigma", [1.0, 3.0, 4.0, 7.9])
def test_small_sigma_is_the_full_gaussian(sigma):
    image = scene(60, 90)
    np.testing.assert_array_equal(gaussian_blur(image, sigma), full_gaussian(image, sigma))


@pytest.mark.parametrize("sigma", [12.0, 25.0])
@pytest.mark.parametrize("which", ["step_x", "step_y"])
@pytest.mark.parametrize("h, w", [(180, 320), (360, 640)])
def test_large_sigma_matches_full_gaussian_on_edges(sigma, which, h, w):
    image = np.zeros((h, w, 3), dtype=np.uint8)
    if which == "step_x":
        image[:, w // 2 :] = 255
    else:
        image[h // 2 :] = 255
    diff = np.abs(gaussian_blur(image, sigma).astype(int) - full_gaussian(image, sigma))
    assert diff.max() <= 2


@pytest.mark.parametrize("sigma", [12.0, 25.0])
def test_large_sigma_matches_full_gaussian_on_a_scene(sigma):
    image = scene(360, 640)
    diff = np.abs(gaussian_blur(image, sigma).astype(int) - full_gaussian(image, sigma))
    assert diff.max() <= 2


def test_to_uint8_rounds_and_clips():
    x = np.array([-3.0, 0.4, 0.6, 127.5, 254.6, 300.0], dtype=np.float32)
    np.testing.assert_array_equal(to_uint8(x), np.array([0, 0, 1, 128, 255, 255], dtype=np.uint8))


def test_apply_axes_is_rows_image_cols_transposed():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (5, 7, 2)).astype(np.uint8)
    rows = rng.random((3, 5)).astype(np.float32)
    cols = rng.random((4, 7)).astype(np.float32)
    out = apply_axes(image, rows, cols)
    expected = np.stack([rows @ image[..., c].astype(np.float32) @ cols.T for c in range(2)], axis=2)
    assert out.shape == (3, 4, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
