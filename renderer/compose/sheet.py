"""Contact sheets: thumbnails in a grid, each labelled with its time (pure layout)."""

from __future__ import annotations

from fractions import Fraction
from math import ceil, sqrt

import numpy as np

from renderer.compose.resize import resize
from renderer.compose.text import TextSpec, draw_layer, render_layer

THUMB_WIDTH = 320
GAP = 8
LABEL = 26
SHEET_BG = (32, 32, 32)


def checkerboard(height: int, width: int, cell: int = 8) -> np.ndarray:
    """The usual light/dark squares that show where an image is transparent."""
    ys, xs = np.indices((height, width))
    light = ((ys // cell + xs // cell) % 2 == 0)[..., None]
    return np.where(light, np.uint8(204), np.uint8(153)).astype(np.uint8).repeat(3, axis=2)


def flatten_on_checkerboard(image: np.ndarray) -> np.ndarray:
    if image.shape[2] == 3:
        return image
    board = checkerboard(*image.shape[:2]).astype(np.uint16)
    a = image[..., 3:4].astype(np.uint16)
    return ((image[..., :3].astype(np.uint16) * a + board * (255 - a) + 127) // 255).astype(np.uint8)


def contact_sheet(frames: list[tuple[Fraction, np.ndarray]], label: "callable") -> np.ndarray:
    """Frames (time, RGB/RGBA) in a near-square grid on a dark sheet, labelled by `label(time)`."""
    count = len(frames)
    columns = ceil(sqrt(count))
    rows = ceil(count / columns)
    h, w = frames[0][1].shape[:2]
    tw = min(THUMB_WIDTH, w)
    th = max(2, round(h * tw / w))
    cell_w, cell_h = tw + GAP, th + LABEL + GAP
    sheet = np.empty((rows * cell_h + GAP, columns * cell_w + GAP, 3), dtype=np.uint8)
    sheet[...] = SHEET_BG
    for n, (time, image) in enumerate(frames):
        x = GAP + (n % columns) * cell_w
        y = GAP + (n // columns) * cell_h
        sheet[y : y + th, x : x + tw] = resize(flatten_on_checkerboard(image), tw, th)
        spec = TextSpec(
            text=label(time), font=None, size=16, color=(230, 230, 230, 255), position=(0, 0), margin=0,
            align="left", line_spacing=1.2, start=Fraction(0), end=None,
        )
        layer = render_layer(spec, sheet.shape[1], sheet.shape[0])
        sheet = draw_layer(sheet, type(layer)(x + layer.x + 2, y + th + 3 + layer.y, layer.pixels))
    return sheet
