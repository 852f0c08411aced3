"""Still images (backgrounds) decoded with FFmpeg's image decoders."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from renderer.errors import MediaError


def read_image(path: Path) -> np.ndarray:
    """H x W x 4 uint8 RGBA of the first frame of a PNG, JPEG, WebP, BMP or TIFF."""
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise MediaError(f"{path}: not an image")
            for frame in container.decode(video=0):
                return frame.to_ndarray(format="rgba")
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: cannot read as an image ({exc})") from None
    raise MediaError(f"{path}: not an image (no picture decoded)")
