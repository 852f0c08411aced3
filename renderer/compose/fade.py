"""Fades at the ends of a render, for frames (by output index) and audio (by sample).

Video: frame i at t = i / fps is multiplied by min(1, t / in) * min(1, (D - 1/fps - t) / out),
where D is the render's duration, so the first frame of a fade-in and the last of a
fade-out are fully black (or fully transparent, with a transparent background:
then the alpha fades and the colours stay). Audio: each sample at time s gets
gain min(1, s / in) * min(1, (D - s) / out).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class FadeSpec:
    fade_in: Fraction
    fade_out: Fraction
    duration: Fraction  # of the whole render, seconds

    @property
    def active(self) -> bool:
        return bool(self.fade_in or self.fade_out)


def _ramp(t: np.ndarray | float, length: Fraction) -> np.ndarray | float:
    if not length:
        return np.ones_like(t) if isinstance(t, np.ndarray) else 1.0
    return np.clip(t / float(length), 0.0, 1.0)


def frame_factor(index: int, fps: Fraction, spec: FadeSpec) -> float:
    t = Fraction(index) / fps
    last = spec.duration - 1 / fps
    return float(_ramp(float(t), spec.fade_in)) * float(_ramp(float(last - t), spec.fade_out))


def fade_frame(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale RGB or grey (opaque frames) or only alpha (RGBA) by `factor`; 1.0 returns the frame itself."""
    if factor >= 1.0:
        return image
    k = np.float32(factor)
    if image.ndim == 3 and image.shape[2] == 4:
        out = image.copy()
        out[..., 3] = np.rint(image[..., 3] * k).astype(np.uint8)
        return out
    return np.rint(image * k).astype(np.uint8)


def fade_audio(blocks: Iterator[np.ndarray], rate: int, spec: FadeSpec) -> Iterator[np.ndarray]:
    """Apply the gain ramps to channels x samples float blocks, tracking the sample position."""
    position = 0
    end = float(spec.duration)
    for block in blocks:
        n = block.shape[1]
        if spec.active:
            t = (position + np.arange(n, dtype=np.float64)) / rate
            gain = _ramp(t, spec.fade_in) * _ramp(end - t, spec.fade_out)
            if np.any(gain < 1):
                block = (block * gain.astype(np.float32)).astype(np.float32)
        position += n
        yield block
