"""The subject over its background, through the mask, in integer arithmetic."""

from __future__ import annotations

import numpy as np


def composite(frame: np.ndarray, mask: np.ndarray, background: np.ndarray | None) -> np.ndarray:
    """frame H x W x 3, mask H x W (0..255) -> RGB over `background`, or straight RGBA when None.

    round((fg*a + bg*(255-a)) / 255), exactly, in uint16: the sum never exceeds
    255*255, and (x + 1 + (x >> 8)) >> 8 is floor(x / 255) for x < 65535.
    Integer maths keeps results identical on every run and machine.
    """
    if background is None:
        return np.concatenate([frame, mask[..., None]], axis=2)
    a = mask[..., None].astype(np.uint16)
    x = frame.astype(np.uint16)
    x *= a
    x += (255 - a) * background
    x += 127
    x += 1 + (x >> 8)
    x >>= 8
    return x.astype(np.uint8)
