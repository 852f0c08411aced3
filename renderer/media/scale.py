"""Scaling single-channel planes (masks) with swscale: bilinear, in C, per frame."""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import Interpolation

_EXACT = int(getattr(Interpolation, "ACCURATE_RND", 0)) | int(getattr(Interpolation, "BITEXACT", 0))


def scale_plane(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """H x W uint8 -> height x width uint8, bilinear (0 and 255 stay exact)."""
    if plane.shape == (height, width):
        return plane
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(plane), format="gray")
    scaled = frame.reformat(width=width, height=height, interpolation=int(Interpolation.BILINEAR) | _EXACT, threads=1)
    return scaled.to_ndarray()
