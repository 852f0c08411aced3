"""The subject over its background, through the mask, in integer arithmetic."""

from __future__ import annotations

import numpy as np


def composite(frame: np.ndarray, mask: np.ndarray, background: np.ndarray | None) -> np.ndarray:
    """frame H x W x 3, mask H x W (0..255) -> RGB over `background`, or straight RGBA when None.

    Integer maths (rounded) keeps results identical on every run and machine.
    """
    if background is None:
        return np.concatenate([frame, mask[..., None]], axis=2)
    a = mask[..., None].astype(np.int32)
    fg = frame.astype(np.int32)
    bg = background.astype(np.int32)
    return ((fg * a + bg * (255 - a) + 127) // 255).astype(np.uint8)
