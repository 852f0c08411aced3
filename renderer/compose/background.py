"""Backgrounds behind the subject: colour, the blurred frame, an image, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from renderer.compose.resize import gaussian_blur, resize

# A function from the frame (output size, RGB) to the background behind it;
# None means transparent.
Backdrop = Callable[[np.ndarray], "np.ndarray | None"]


@dataclass(frozen=True)
class BackgroundSpec:
    kind: str  # transparent | color | blur | image
    color: tuple[int, int, int] | None = None
    radius: float | None = None
    fit: str | None = None  # cover | contain


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def fit_image(image: np.ndarray, width: int, height: int, fit: str) -> np.ndarray:
    """Scale an RGB image to cover (fill, crop the overflow) or be contained (black bars)."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h) if fit == "cover" else min(width / w, height / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    if fit == "cover":
        sw, sh = max(sw, width), max(sh, height)
    scaled = resize(image, sw, sh)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    # Centre the scaled image: crop when larger, pad when smaller.
    src_x, dst_x = max(0, (sw - width) // 2), max(0, (width - sw) // 2)
    src_y, dst_y = max(0, (sh - height) // 2), max(0, (height - sh) // 2)
    cw, ch = min(sw, width), min(sh, height)
    canvas[dst_y : dst_y + ch, dst_x : dst_x + cw] = scaled[src_y : src_y + ch, src_x : src_x + cw]
    return canvas


def flatten(image: np.ndarray) -> np.ndarray:
    """RGBA -> RGB over black; RGB unchanged."""
    if image.shape[2] == 3:
        return image
    alpha = image[..., 3:4].astype(np.uint32)
    return ((image[..., :3].astype(np.uint32) * alpha + 127) // 255).astype(np.uint8)


def make_backdrop(spec: BackgroundSpec, width: int, height: int, image: np.ndarray | None = None) -> Backdrop:
    """Everything that does not depend on the frame is computed here, once."""
    if spec.kind == "transparent":
        return lambda frame: None
    if spec.kind == "color":
        assert spec.color is not None
        plate = np.empty((height, width, 3), dtype=np.uint8)
        plate[...] = spec.color
        return lambda frame: plate
    if spec.kind == "blur":
        assert spec.radius is not None
        sigma = spec.radius
        return lambda frame: gaussian_blur(frame, sigma)
    if spec.kind == "image":
        assert image is not None and spec.fit is not None
        plate = fit_image(flatten(image), width, height, spec.fit)
        return lambda frame: plate
    raise ValueError(f"unknown background kind {spec.kind!r}")
