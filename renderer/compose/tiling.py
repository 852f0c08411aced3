"""Array helpers for the matte stages: area averaging, box and min/max filters, tiles.

The matte stages do full-resolution work only where the matte is soft, tile by
tile: a tile is a fixed block of output pixels, cut out of the frame with a
reshape (no per-pixel index arrays), and low-resolution values are brought to
its pixels with one small interpolation matrix per tile row and tile column.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd
from typing import Callable, NamedTuple

import numpy as np


@lru_cache(maxsize=32)
def area_weights(n: int, n_out: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Area averaging of n samples to n_out: (first input of each group, weights, tiled).

    Output i is the mean of the input over [i s, (i + 1) s), s = n / n_out, each input
    sample weighted by how much of it lies inside. The pattern repeats every P inputs
    and Q outputs (s = P / Q in lowest terms): then the groups tile the axis and share
    one Q x P matrix (tiled). When P is large, groups of up to 8 outputs instead read
    a short span each, with weights of their own.
    """
    g = gcd(n, n_out)
    period, outs = n // g, n_out // g
    tiled = period <= 64
    if not tiled:
        outs = min(8, n_out)
        period = min(n, int(np.ceil(outs * n / n_out)) + 1)
    groups = -(-n_out // outs)
    first = np.minimum(np.floor(np.arange(groups) * outs * n / n_out).astype(np.intp), n - period)
    outputs = np.arange(groups * outs).reshape(groups, outs, 1)
    inputs = first[:, None, None] + np.arange(period)
    lo = np.maximum(outputs * n / n_out, inputs)
    hi = np.minimum((outputs + 1) * n / n_out, inputs + 1)
    weights = np.clip(hi - lo, 0, None) * (n_out / n)
    return first, weights.astype(np.float32), tiled


def area_planes(x: np.ndarray, width: int, height: int) -> np.ndarray:
    """C x H x W float32 -> C x height x width float32 area averages (rows first, then columns)."""
    c, h, w = x.shape
    first, weights, tiled = area_weights(h, height)
    if tiled:  # the groups tile the columns: one matrix for all
        x = (weights[0] @ x.reshape(c, -1, weights.shape[2], w)).reshape(c, -1, w)
    else:
        x = (weights @ x[:, first[:, None] + np.arange(weights.shape[2])]).reshape(c, -1, w)[:, :height]
    first, weights, tiled = area_weights(w, width)
    if tiled:
        return (x.reshape(-1, weights.shape[2]) @ weights[0].T).reshape(c, height, width)
    x = np.ascontiguousarray(x.transpose(0, 2, 1))  # C x W x height: columns become rows
    x = (weights @ x[:, first[:, None] + np.arange(weights.shape[2])]).reshape(c, -1, height)[:, :width]
    return np.ascontiguousarray(x.transpose(0, 2, 1))


def area_resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """H x W x C uint8 -> C x height x width float32 area averages, in the same units."""
    return area_planes(np.moveaxis(image, -1, 0).astype(np.float32, order="C"), width, height)


def box_sum(x: np.ndarray, ry: int, rx: int) -> np.ndarray:
    """Sum over the (2ry+1) x (2rx+1) window around each element of the last two axes; zeros outside."""
    out = x.copy()
    for s in range(1, ry + 1):
        out[..., s:, :] += x[..., :-s, :]
        out[..., :-s, :] += x[..., s:, :]
    rows = out.copy() if rx else out
    for s in range(1, rx + 1):
        out[..., :, s:] += rows[..., :, :-s]
        out[..., :, :-s] += rows[..., :, s:]
    return out


@lru_cache(maxsize=16)
def window_counts(h: int, w: int, ry: int, rx: int) -> np.ndarray:
    """How many pixels of each (2ry+1) x (2rx+1) window lie inside an h x w image."""
    return box_sum(np.ones((h, w), dtype=np.float32), ry, rx)


def extreme_filter(x: np.ndarray, ry: int, rx: int, op: Callable) -> np.ndarray:
    """op (np.minimum or np.maximum) over the (2ry+1) x (2rx+1) box around each pixel, inside the image."""
    out = x.copy()
    for s in range(1, ry + 1):
        op(out[s:], x[:-s], out=out[s:])
        op(out[:-s], x[s:], out=out[:-s])
    rows = out.copy()
    for s in range(1, rx + 1):
        op(out[:, s:], rows[:, :-s], out=out[:, s:])
        op(out[:, :-s], rows[:, s:], out=out[:, :-s])
    return out


def pad_edge(image: np.ndarray, top: int, bottom: int, left: int, right: int, zero: bool = False) -> np.ndarray:
    """Widen the first two axes, repeating the edge (or with zeros); no copy when nothing is added."""
    if not (top or bottom or left or right):
        return image
    pad = ((top, bottom), (left, right)) + ((0, 0),) * (image.ndim - 2)
    return np.pad(image, pad, mode="constant") if zero else np.pad(image, pad, mode="edge")


def tile_size(n: int, target: int) -> int:
    """A tile length near `target` that divides n when one does (no padding then)."""
    for size in sorted(range(target // 2, 2 * target + 1), key=lambda s: (abs(s - target), s)):
        if n % size == 0:
            return size
    return target


class Axis(NamedTuple):
    """Bilinear interpolation from n cells to n_out pixels along one axis, tile by tile.

    Tile t covers pixels t * tile .. (t + 1) * tile + extra - 1 (tiles may run past the
    frame; positions outside it are clamped to its edge) and reads cells first[t] ..
    first[t] + span - 1; weights[t] (tile + extra x span) maps those cells to its pixels,
    pixel centres aligned and the border cell repeated.
    """

    tile: int
    count: int
    first: np.ndarray
    span: int
    weights: np.ndarray

    @property
    def padded(self) -> int:
        """Pixels covered by all tiles, without the extra."""
        return self.tile * self.count


def bilinear_taps(n: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of n_out pixels resampled from n: the sample below, the one above, the weight of the one above.

    Pixel centres are aligned (pixel i sits at (i + 0.5) n / n_out - 0.5) and the
    border sample is repeated beyond the ends.
    """
    pos = (np.arange(n_out) + 0.5) * (n / n_out) - 0.5
    below = np.floor(pos)
    lo = np.clip(below, 0, n - 1).astype(np.intp)
    hi = np.clip(below + 1, 0, n - 1).astype(np.intp)
    return lo, hi, (pos - below).astype(np.float32)


@lru_cache(maxsize=32)
def axis(n: int, n_out: int, target: int, extra: int = 0) -> Axis:
    tile = tile_size(n_out, target)
    count = -(-n_out // tile)
    pixels = np.clip(np.arange(count)[:, None] * tile + np.arange(tile + extra), 0, n_out - 1)
    lo, hi, t = (taps[pixels] for taps in bilinear_taps(n, n_out))
    span = min(n, int((hi.max(axis=1) - lo.min(axis=1)).max()) + 1)
    first = np.minimum(lo.min(axis=1), n - span)
    weights = np.zeros(pixels.shape + (span,), dtype=np.float32)
    tiles, units = np.indices(pixels.shape)
    np.add.at(weights, (tiles, units, lo - first[:, None]), 1 - t)
    np.add.at(weights, (tiles, units, hi - first[:, None]), t)
    return Axis(tile, count, first, span, weights)


def interpolate_tiles(cells: np.ndarray, ys: Axis, xs: Axis, ty: np.ndarray, tx: np.ndarray) -> np.ndarray:
    """C x h x w low-resolution values -> C x N x tile rows x tile columns (each + extra) in the N listed tiles."""
    rows = ys.first[ty][:, None, None] + np.arange(ys.span)[:, None]
    cols = xs.first[tx][:, None, None] + np.arange(xs.span)
    return (ys.weights[ty] @ cells[:, rows, cols]) @ xs.weights[tx].transpose(0, 2, 1)


def tile_view(image: np.ndarray, rows: int, cols: int, halo: int = 0) -> np.ndarray:
    """ty x tx x (C x) (rows + 2 halo) x (cols + 2 halo) view of the tiles of an image padded to fit them."""
    windows = np.lib.stride_tricks.sliding_window_view(image, (rows + 2 * halo, cols + 2 * halo), axis=(0, 1))
    return windows[::rows, ::cols]
