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


def write_png(path: Path, image: np.ndarray) -> Path:
    """RGB or RGBA uint8 -> PNG, written to a temporary name and renamed into place."""
    import os
    import tempfile

    fmt = "rgba" if image.shape[2] == 4 else "rgb24"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".vbr-partial.png")
    os.close(fd)
    try:
        with av.open(temp, "w", format="image2", options={"update": "1"}) as container:
            stream = container.add_stream("png", rate=1)
            stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], fmt
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=fmt)):
                container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        os.replace(temp, path)
    except av.error.FFmpegError as exc:
        Path(temp).unlink(missing_ok=True)
        raise MediaError(f"{path}: cannot write PNG ({exc})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
