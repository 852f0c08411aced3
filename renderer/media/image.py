"""Still images: backgrounds read, previews written, with FFmpeg's image codecs."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from av.codec.context import Flags

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


# Still formats vbr writes, by extension: FFmpeg's encoder and the pixel format it takes.
STILL_FORMATS = {".png": ("png", None), ".jpg": ("mjpeg", "yuvj444p"), ".jpeg": ("mjpeg", "yuvj444p")}
_JPEG_QUALITY = 2  # mjpeg's qscale: 2 is near-lossless (1 only doubles the size)


def write_still(path: Path, image: np.ndarray) -> Path:
    """RGB or RGBA uint8 -> a PNG or (RGB only) JPEG, chosen by the extension.

    Written like a render: to a temporary name beside the target, given the
    usual file mode, and renamed into place, so the target is never half a file.
    """
    import os
    import tempfile

    from renderer.atomic import current_umask

    codec, pix_fmt = STILL_FORMATS[path.suffix.lower()]
    fmt = "rgba" if image.shape[2] == 4 else "rgb24"
    if codec == "mjpeg" and fmt == "rgba":
        raise ValueError("JPEG has no alpha channel: flatten the image first")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".vbr-partial{path.suffix}")
        os.close(fd)
        os.chmod(temp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the usual mode
    except OSError as exc:
        raise MediaError(f"{path}: cannot write here ({exc.strerror or exc})") from None
    try:
        with av.open(temp, "w", format="image2", options={"update": "1"}) as container:
            stream = container.add_stream(codec, rate=1)
            stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], pix_fmt or fmt
            stream.codec_context.flags |= Flags.bitexact
            if codec == "mjpeg":
                stream.codec_context.qmin = stream.codec_context.qmax = _JPEG_QUALITY
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=fmt)):
                container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        os.replace(temp, path)
    except (av.error.FFmpegError, OSError) as exc:
        Path(temp).unlink(missing_ok=True)
        raise MediaError(f"{path}: cannot write the image ({getattr(exc, 'strerror', None) or exc})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
