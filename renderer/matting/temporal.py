"""Temporal mask handling: dedup and exponential smoothing, as pure functions."""

from __future__ import annotations

import numpy as np

# A pixel counts as changed when any channel moved by more than this (of 255):
# well above codec noise on a still shot, well below any real motion.
PIXEL_TOLERANCE = 12


def changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of pixels of two same-size RGB images that differ noticeably."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    return float(np.count_nonzero(diff > PIXEL_TOLERANCE)) / diff.size


def ema(previous: np.ndarray | None, raw: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One smoothing step: mask_t = a*raw_t + (1-a)*mask_(t-1).

    Returns (state to carry, uint8 mask to use). The state stays float so
    small changes are not lost to rounding; the mask is quantised once.
    """
    raw_f = raw.astype(np.float32)
    state = raw_f if previous is None or alpha >= 1 else np.float32(alpha) * raw_f + np.float32(1 - alpha) * previous
    return state, np.rint(state).astype(np.uint8)
