"""Encoding and muxing, with every option fixed so output bytes are reproducible.

The file is written to a temporary name beside the target and renamed into
place only when complete: the target path never holds a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.codec.context import Flags
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from renderer.atomic import current_umask
from renderer.errors import MediaError
from renderer.media.audio import RATE

PARTIAL_MARKER = ".vbr-partial"

# Fixed thread counts: x264 records its settings (threads included) in the
# stream, so letting it follow the core count would change bytes per machine.
_THREADS = 4


@dataclass(frozen=True)
class VideoSettings:
    format: str  # "webm" | "mp4"
    width: int
    height: int
    fps: Fraction
    alpha: bool
    quality: str = "standard"  # "draft" | "standard" | "high"


# Encoder settings per export.quality (README: "Quality presets"). VP9 in constant-quality
# mode (b=0); cpu-used trades speed for compression at a given crf.
VP9_PRESETS = {
    "draft": {"crf": "40", "deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "auto-alt-ref": "0"},
    "standard": {"crf": "31", "deadline": "good", "cpu-used": "4", "lag-in-frames": "16", "auto-alt-ref": "1"},
    "high": {"crf": "24", "deadline": "good", "cpu-used": "2", "lag-in-frames": "25", "auto-alt-ref": "1"},
}
X264_PRESETS = {
    "draft": {"crf": "28", "preset": "ultrafast"},
    "standard": {"crf": "20", "preset": "medium"},
    "high": {"crf": "16", "preset": "slow"},
}


def _video_stream(container: av.container.OutputContainer, video: VideoSettings) -> av.video.stream.VideoStream:
    if video.format == "webm":
        stream = container.add_stream("libvpx-vp9", rate=video.fps)
        stream.pix_fmt = "yuva420p" if video.alpha else "yuv420p"
        stream.options = {"b": "0", "row-mt": "1", "tile-columns": "1", **VP9_PRESETS[video.quality]}
        if video.alpha:
            stream.metadata["alpha_mode"] = "1"
    else:
        stream = container.add_stream("libx264", rate=video.fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"profile": "high", **X264_PRESETS[video.quality]}
    ctx = stream.codec_context
    ctx.width, ctx.height = video.width, video.height
    ctx.sample_aspect_ratio = Fraction(1)  # square pixels: an anamorphic source was scaled to its display shape
    ctx.time_base = Fraction(1) / video.fps
    ctx.gop_size = max(1, round(video.fps * 2))
    ctx.thread_count = _THREADS
    ctx.flags |= Flags.bitexact
    ctx.colorspace = Colorspace.ITU709
    ctx.color_primaries = ColorPrimaries.BT709
    ctx.color_trc = ColorTrc.BT709
    ctx.color_range = ColorRange.MPEG
    return stream


def _audio_stream(container: av.container.OutputContainer, fmt: str, layout: str) -> av.audio.stream.AudioStream:
    codec = "libopus" if fmt == "webm" else "aac"
    stream = container.add_stream(codec, rate=RATE, layout=layout)
    stream.bit_rate = 128_000 if codec == "libopus" else 192_000
    stream.codec_context.flags |= Flags.bitexact
    return stream


class VideoWriter:
    """Write frames with `write`, then `commit` to publish the file.

    Leaving the `with` block without `commit` (an error, Ctrl-C) deletes the
    temporary file and leaves the target path as it was.
    """

    def __init__(
        self,
        target: Path,
        video: VideoSettings,
        audio: Iterator[np.ndarray] | None = None,
        layout: str | None = None,
    ):
        """`audio`: endless planar float32 blocks at RATE in `layout`; pulled up to the video's length."""
        self.target = target
        self.video = video
        self.layout = layout
        self.frames = 0
        self._audio_written = 0
        self._audio_iter = audio
        self._carry: np.ndarray | None = None

    def __enter__(self) -> "VideoWriter":
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_partials(self.target)
            fd, name = tempfile.mkstemp(
                prefix=f".{self.target.name}.{os.getpid()}-", suffix=f"{PARTIAL_MARKER}.{self.video.format}", dir=self.target.parent
            )
        except OSError as exc:
            raise MediaError(f"{self.target}: cannot write here ({exc.strerror or exc})") from None
        os.close(fd)
        self.temp = Path(name)
        os.chmod(self.temp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the usual mode
        try:
            self.container = av.open(
                str(self.temp), mode="w", format=self.video.format, container_options=_container_options(self.video.format)
            )
            self.container.metadata.clear()
            self.vstream = _video_stream(self.container, self.video)
            self.astream = None
            if self._audio_iter is not None and self.layout:
                self.astream = _audio_stream(self.container, self.video.format, self.layout)
        except av.error.FFmpegError as exc:
            self._discard()
            raise MediaError(f"{self.target}: cannot start encoding ({exc})") from None
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.temp.exists():
            self._discard()

    def _discard(self) -> None:
        try:
            if getattr(self, "container", None) is not None:
                self.container.close()
        except Exception:
            pass
        finally:
            self.temp.unlink(missing_ok=True)

    def write(self, image: np.ndarray) -> None:
        """One output frame: H x W x 3 (RGB) or H x W x 4 (straight RGBA) uint8."""
        try:
            self._write(image)
        except (av.error.FFmpegError, OSError) as exc:  # OSError: the disk is full, the device went away
            raise MediaError(f"{self.target}: encoding failed ({_reason(exc)})") from None

    def _write(self, image: np.ndarray) -> None:
        layout = "rgba" if image.shape[2] == 4 else "rgb24"
        frame = av.VideoFrame.from_ndarray(image, format=layout)
        frame = frame.reformat(
            format=self.vstream.pix_fmt,
            src_colorspace=Colorspace.ITU709,
            dst_colorspace=Colorspace.ITU709,
            src_color_range=ColorRange.JPEG,
            dst_color_range=ColorRange.MPEG,
            threads=1,
        )
        frame.pts = self.frames
        frame.time_base = self.vstream.codec_context.time_base
        self._mux(self.vstream.encode(frame))
        self.frames += 1
        self._pump_audio()

    def _audio_target(self) -> int:
        return round(Fraction(self.frames) / self.video.fps * RATE)

    def _pump_audio(self) -> None:
        """Encode audio up to the end of the video written so far (interleaving)."""
        if self.astream is None or self._audio_iter is None:
            return
        target = self._audio_target()
        while self._audio_written < target:
            block = self._carry if self._carry is not None else next(self._audio_iter)
            self._carry = None
            take = min(block.shape[1], target - self._audio_written)
            if take < block.shape[1]:
                self._carry = block[:, take:]
                block = block[:, :take]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=self.layout)
            frame.sample_rate = RATE
            frame.pts = self._audio_written
            frame.time_base = Fraction(1, RATE)
            self._mux(self.astream.encode(frame))
            self._audio_written += take

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            self.container.mux(packet)

    def commit(self) -> Path:
        """Flush encoders, close the file and rename it onto the target."""
        if self.frames == 0:
            raise MediaError("nothing to write: the render produced no frames")
        try:
            self._mux(self.vstream.encode(None))
            if self.astream is not None:
                self._mux(self.astream.encode(None))
            self.container.close()
            self.container = None
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"{self.target}: encoding failed ({_reason(exc)})") from None
        try:
            os.replace(self.temp, self.target)
        except OSError as exc:
            raise MediaError(f"{self.target}: cannot move the finished file into place ({exc.strerror or exc})") from None
        return self.target


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def remove_stale_partials(target: Path) -> None:
    """Delete partial outputs for this target left by renders that were killed (SIGKILL, power loss).

    A partial file names the process that writes it; one whose process is gone
    is garbage. A live render's partial file is never touched.
    """
    prefix = f".{target.name}."
    try:
        candidates = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and PARTIAL_MARKER in p.name]
    except OSError:
        return
    for path in candidates:
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _container_options(fmt: str) -> dict[str, str]:
    options = {"fflags": "+bitexact"}
    if fmt == "mp4":
        options["movflags"] = "+faststart"
    return options
