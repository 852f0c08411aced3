"""Lossless RGB clips (FFV1 in Matroska): sources whose every pixel is known.

The quality benchmark writes its made-up footage here, so what the renderer
decodes is exactly what was composited: decode_video gives the same RGB back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import av
import numpy as np


def write_lossless(path: Path, frames: Iterable[np.ndarray], fps: int) -> Path:
    """H x W x 3 uint8 frames -> an FFV1/MKV file at a whole-number frame rate."""
    with av.open(str(path), "w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream("ffv1", rate=fps)
                stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "bgr0"
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode(None):
                container.mux(packet)
    return path
