"""Backgrounds behind the subject: colour, the blurred frame, an image, a video, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from renderer.compose.resize import gaussian_blur, resize

# A function from the frame (output size, RGB) to the background behind it;
# None means transparent.
Backdrop = Callable[[np.ndarray], "np.ndarray | None"]


@dataclass(frozen=True)
class BackgroundSpec:
    kind: str  # transparent | color | blur | image | video
    color: tuple[int, int, int] | None = None
    radius: float | None = None
    fit: str | None = None  # cover | contain


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


@dataclass(frozen=True)
class Fit:
    """Where a picture scaled for cover or contain lands in a width x height frame.

    The picture is scaled to `scaled` (width, height); its part of `size` from
    `src` (x, y) is what shows, at `dst` in the frame. The same numbers place an
    image once and every frame of a video background.
    """

    width: int
    height: int
    scaled: tuple[int, int]
    src: tuple[int, int]
    dst: tuple[int, int]
    size: tuple[int, int]

    def place(self, scaled: np.ndarray) -> np.ndarray:
        """The frame from the picture at its scaled size: centred, cropped (cover) or on black (contain)."""
        if self.scaled == (self.width, self.height):
            return scaled
        (sx, sy), (dx, dy), (cw, ch) = self.src, self.dst, self.size
        canvas = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        canvas[dy : dy + ch, dx : dx + cw] = scaled[sy : sy + ch, sx : sx + cw]
        return canvas


def fit_geometry(w: int, h: int, width: int, height: int, fit: str) -> Fit:
    """A w x h picture in a width x height frame: cover (fill, crop the overflow) or contain (black bars)."""
    scale = max(width / w, height / h) if fit == "cover" else min(width / w, height / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    if fit == "cover":
        sw, sh = max(sw, width), max(sh, height)
    return Fit(
        width,
        height,
        (sw, sh),
        (max(0, (sw - width) // 2), max(0, (sh - height) // 2)),
        (max(0, (width - sw) // 2), max(0, (height - sh) // 2)),
        (min(sw, width), min(sh, height)),
    )


def fit_image(image: np.ndarray, width: int, height: int, fit: str) -> np.ndarray:
    """Scale an RGB image to cover (fill, crop the overflow) or be contained (black bars)."""
    h, w = image.shape[:2]
    geometry = fit_geometry(w, h, width, height, fit)
    return geometry.place(resize(image, *geometry.scaled))


def flatten(image: np.ndarray) -> np.ndarray:
    """RGBA -> RGB over black; RGB unchanged."""
    if image.shape[2] == 3:
        return image
    alpha = image[..., 3:4].astype(np.uint32)
    return ((image[..., :3].astype(np.uint32) * alpha + 127) // 255).astype(np.uint8)


def make_backdrop(
    spec: BackgroundSpec, width: int, height: int, image: np.ndarray | None = None, pictures: Iterator[np.ndarray] | None = None
) -> Backdrop:
    """Everything that does not depend on the frame is computed here, once.

    A video's `pictures` come fitted, one per output frame: each call takes the next.
    """
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
    if spec.kind == "video":
        assert pictures is not None
        return lambda frame: next(pictures)
    raise ValueError(f"unknown background kind {spec.kind!r}")
