"""Temporal mask handling: dedup, and smoothing of the masks from frame to frame.

Modes of the smoother (model.temporal):
- off: each frame's raw model mask as it is.
- ema: mask_t = a * raw_t + (1 - a) * mask_(t-1), the same weight a everywhere.
- adaptive: the same, with a weight per pixel that grows with how far the new raw
  mask is from the running one: a where the matte is steady (up to STEADY_LEVELS
  apart), rising linearly to 1 at MOVING_LEVELS apart, so an edge that moves is
  followed at once while small flicker is smoothed like the EMA.
A scene cut restarts the state from the raw mask in both smoothing modes.
"""

from __future__ import annotations

from math import ceil, log

import numpy as np

# A pixel counts as changed when any channel moved by more than this (of 255):
# well above codec noise on a still shot, well below any real motion.
PIXEL_TOLERANCE = 12

TEMPORAL_MODES = ("adaptive", "ema", "off")
# Adaptive ramp, in 8-bit levels of |raw - running mask|. A model's flicker on a still
# shot is a few levels (u2netp on a frame of the sample repeated with fresh sensor noise
# through H.264: 99 % of its frame-to-frame changes are <= 5), so up to 8 is smoothed as
# by the EMA; a moving edge changes pixels by tens of levels a frame (on the moving
# sample a tenth of the changes are >= 47), so from 48 the raw mask is taken as it is
# and a pixel that jumps is never dragged behind.
STEADY_LEVELS = 8
MOVING_LEVELS = 48
# Weight of a frame in a later mask below which it is forgotten: half an 8-bit level.
FORGOTTEN = 1 / 512


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


def adaptive(previous: np.ndarray | None, raw: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One adaptive step: mask_t = w * raw_t + (1 - w) * mask_(t-1), w per pixel.

    w = a + (1 - a) * clip((|raw_t - mask_(t-1)| - STEADY) / (MOVING - STEADY), 0, 1).
    Returns (float32 state to carry, uint8 mask), like `ema`. Element-wise float32
    arithmetic only: the same inputs give the same bits on any machine and thread count.
    """
    raw_f = raw.astype(np.float32)
    if previous is None or alpha >= 1:
        return raw_f, np.rint(raw_f).astype(np.uint8)
    # In place, in two buffers: at model size, fresh arrays cost more than the arithmetic.
    weight = np.subtract(raw_f, previous)
    np.abs(weight, out=weight)
    weight -= np.float32(STEADY_LEVELS)
    weight /= np.float32(MOVING_LEVELS - STEADY_LEVELS)
    np.clip(weight, 0, 1, out=weight)
    weight *= np.float32(1 - alpha)
    weight += np.float32(alpha)
    state = raw_f
    state *= weight
    weight -= 1
    weight *= previous
    state -= weight  # w * raw + (1 - w) * previous
    return state, np.rint(state, out=weight).astype(np.uint8)


class Smoother:
    """The temporal filter of one render: raw masks in order in, smoothed masks out."""

    def __init__(self, mode: str, alpha: float) -> None:
        if mode not in TEMPORAL_MODES:
            raise ValueError(f"temporal mode must be one of {TEMPORAL_MODES}, not {mode!r}")
        self.mode = mode
        self.alpha = alpha
        self._state: np.ndarray | None = None

    def step(self, raw: np.ndarray, cut: bool) -> np.ndarray:
        """HxW uint8 raw mask of the next frame -> HxW uint8 mask; `cut` restarts from `raw`."""
        if self.mode == "off":
            return raw
        step = ema if self.mode == "ema" else adaptive
        self._state, mask = step(None if cut else self._state, raw, self.alpha)
        return mask


def warmup_frames(mode: str, alpha: float) -> int:
    """Frames before a still whose total weight in its mask is over FORGOTTEN (uncapped).

    Each step keeps at most (1 - alpha) of the state before it, in both smoothing modes,
    so the frames more than n back weigh at most (1 - alpha)^n together.
    """
    if mode == "off" or alpha >= 1:
        return 0
    return ceil(log(FORGOTTEN) / log(1 - alpha))
