"""Separable linear resampling and blurring as small matrix products.

Each axis is one (out x in) weight matrix, cached per size, so a resize is two
BLAS calls with no per-pixel Python. Downscaling widens the triangle filter to
the scale factor, which averages (anti-aliases) instead of skipping pixels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float32 rows summing to 1: a triangle filter, pixel centres aligned."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    taps = np.arange(n_in, dtype=np.float64)
    weights = np.clip(1 - np.abs(taps[None, :] - centres[:, None]) / support, 0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


@lru_cache(maxsize=64)
def gaussian_weights(n: int, sigma: float) -> np.ndarray:
    """(n, n) float32 Gaussian blur along one axis; edges clamp (repeat the border)."""
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    weights = np.zeros((n, n), dtype=np.float64)
    rows = np.arange(n)[:, None]
    cols = np.clip(rows + offsets[None, :], 0, n - 1)
    np.add.at(weights, (np.broadcast_to(rows, cols.shape), cols), np.broadcast_to(kernel, cols.shape))
    return weights.astype(np.float32)


def apply_axes(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows @ image @ cols.T on an H x W (x C) array, in float32."""
    x = image.astype(np.float32, copy=False)
    if x.ndim == 2:  # masks: two plain matrix products
        return rows @ x @ cols.T
    h, w = x.shape[:2]
    rest = x.shape[2:]
    x = rows @ x.reshape(h, -1)  # (H', W*C)
    x = x.reshape(rows.shape[0], w, -1)
    x = np.einsum("ow,hwc->hoc", cols, x, optimize=True)
    return x.reshape((rows.shape[0], cols.shape[0]) + rest)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 H x W (x C) -> uint8 height x width (x C)."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    return to_uint8(apply_axes(image, linear_weights(h, height), linear_weights(w, width)))


@lru_cache(maxsize=16)
def _blur_axis(n: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(down, blur-then-up) matrices: a large blur computed at reduced resolution.

    Beyond sigma 4 the image is first averaged down by ~sigma/4, blurred there,
    and interpolated back, at a fraction of the cost. Away from the borders it
    matches a full-size Gaussian within a level or two; in the outer few pixels
    the edge that gets repeated is an average of the border region rather than
    the single outermost pixel, so fine texture right at the border can differ
    more. For a background behind a subject that is invisible.
    """
    factor = max(1, int(sigma // 4))
    m = max(1, round(n / factor))
    down = linear_weights(n, m)
    up = linear_weights(m, n) @ gaussian_weights(m, sigma * m / n)
    return down, up


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """uint8 H x W x C Gaussian blur with standard deviation `sigma` pixels."""
    h, w = image.shape[:2]
    down_y, up_y = _blur_axis(h, sigma)
    down_x, up_x = _blur_axis(w, sigma)
    small = apply_axes(image, down_y, down_x)
    return to_uint8(apply_axes(small, up_y, up_x))


def window_weights(n_in: int, start: float, length: float, n_out: int) -> np.ndarray:
    """(n_out, n_in) float32: the span [start, start + length) of n_in pixels, linearly resampled to n_out.

    Like `linear_weights` (which is the whole span), for a window at a fractional position.
    """
    scale = length / n_out
    support = max(scale, 1.0)
    centres = start + (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    centres = np.clip(centres, 0, n_in - 1)  # a centre past the last pixel's takes the last pixel
    taps = np.arange(n_in, dtype=np.float64)
    weights = np.clip(1 - np.abs(taps[None, :] - centres[:, None]) / support, 0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


def crop_plane(plane: np.ndarray, axis: int, start: float, length: float) -> np.ndarray:
    """The part of a uint8 H x W plane from `start` to `start + length` (fractions of it) along `axis` (0: x, 1: y).

    At the plane's own density: a window a third of the width keeps a third of its columns.
    """
    h, w = plane.shape
    n = w if axis == 0 else h
    n_out = max(1, round(length * n))
    cut = window_weights(n, start * n, length * n, n_out)
    keep = np.eye(h if axis == 0 else w, dtype=np.float32)
    return to_uint8(apply_axes(plane, keep, cut) if axis == 0 else apply_axes(plane, cut, keep))
