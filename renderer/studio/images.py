"""Pixels for the page's view modes, and PNG bytes for them: pure functions on numpy arrays.

The studio shows what `api.preview(..., layers=True)` computed and nothing
else: the finished frame, the source frame scaled like the output, and the
subject's matte. PNG (not JPEG) so the page shows the preview's exact pixels.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

MODES = ("composite", "matte", "original", "split", "transparency")
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # grey, RGB, RGBA


def view(mode: str, image: np.ndarray, source: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """What a view mode shows, from a still's finished image (RGB/RGBA), source (RGB) and matte (grey).

    composite: the export's frame as is; matte: the matte as grey; original: the
    source frame; split: original | composite side by side; transparency: the
    frame with its alpha (an export with a background shows the subject cut
    out of the source by the matte), for the page to put over a checkerboard.
    """
    if mode == "composite":
        return image
    if mode == "matte":
        return matte
    if mode == "original":
        return source
    if mode == "split":
        return np.concatenate([_rgba(source), _rgba(image)], axis=1)
    if mode == "transparency":
        return image if image.shape[2] == 4 else np.concatenate([source, matte[..., None]], axis=2)
    raise ValueError(f"unknown view mode {mode!r} (one of {', '.join(MODES)})")


def _rgba(image: np.ndarray) -> np.ndarray:
    if image.shape[2] == 4:
        return image
    return np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=2)


def shrink(image: np.ndarray, width: int) -> np.ndarray:
    """A thumbnail at most `width` wide: the mean of each block of whole pixels (no resampling library)."""
    step = max(1, -(-image.shape[1] // width))
    if step == 1:
        return image
    h, w = image.shape[0] // step * step, image.shape[1] // step * step
    if h == 0:  # a frame shorter than one block: sample rows instead
        return np.ascontiguousarray(image[:, : w : step])
    blocks = image[:h, :w].reshape(h // step, step, w // step, step, *image.shape[2:])
    return (blocks.mean(axis=(1, 3)) + 0.5).astype(np.uint8)


def png(image: np.ndarray, level: int = 1) -> bytes:
    """H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 as a PNG file.

    Level 1 compression: a preview is served once over loopback, where speed beats size.
    """
    if image.dtype != np.uint8:
        raise ValueError("png: uint8 pixels only")
    pixels = image if image.ndim == 3 else image[..., None]
    height, width, channels = pixels.shape
    if channels not in _COLOUR_TYPE:
        raise ValueError(f"png: {channels} channels (1, 3 or 4 only)")
    rows = np.empty((height, 1 + width * channels), np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:] = pixels.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
        _chunk(b"IEND", b""),
    ])


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def thumbnail_indices(count: int, total: int) -> list[int]:
    """`count` output frames spread evenly, the middle of each equal part (as `vbr preview --sheet` picks them)."""
    count = min(count, total)
    return sorted({(2 * i + 1) * total // (2 * count) for i in range(count)}) if count > 0 else []
