"""Colour grading of the subject: five controls, documented formulas, float32 maths.

On RGB in [0, 1], in this order, then clipped to [0, 1] and rounded to 8 bits:
  brightness b:   x * (1 + b)
  contrast c:     (x - 0.5) * (1 + c) + 0.5
  saturation s:   Y + (x - Y) * (1 + s),   Y = 0.2126 R + 0.7152 G + 0.0722 B (BT.709)
  temperature t:  R * (1 + 0.2 t),  B * (1 - 0.2 t)
  tint n:         G * (1 - 0.2 n)
All five at 0 is no grade at all (the stage is left out of the graph).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


@dataclass(frozen=True)
class GradeSpec:
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    temperature: float = 0.0
    tint: float = 0.0

    @property
    def neutral(self) -> bool:
        return not any((self.brightness, self.contrast, self.saturation, self.temperature, self.tint))


def apply_grade(rgb: np.ndarray, spec: GradeSpec) -> np.ndarray:
    """H x W x 3 uint8 -> graded H x W x 3 uint8."""
    x = rgb.astype(np.float32) * np.float32(1 / 255)
    if spec.brightness:
        x *= np.float32(1 + spec.brightness)
    if spec.contrast:
        x -= np.float32(0.5)
        x *= np.float32(1 + spec.contrast)
        x += np.float32(0.5)
    if spec.saturation:
        luma = (x @ _LUMA)[..., None]
        x -= luma
        x *= np.float32(1 + spec.saturation)
        x += luma
    gains = np.array(
        [1 + 0.2 * spec.temperature, 1 - 0.2 * spec.tint, 1 - 0.2 * spec.temperature], dtype=np.float32
    )
    if spec.temperature or spec.tint:
        x *= gains
    np.clip(x, 0, 1, out=x)
    x *= np.float32(255)
    return np.rint(x).astype(np.uint8)
