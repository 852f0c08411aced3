"""Encoding and muxing, with every option fixed so output bytes are reproducible.

The file is written to a temporary name beside the target and renamed into
place only when complete: the target path never holds a half-written file.
A PNG sequence (a folder) has its own writer, media/sequence.py; `open_writer`
picks the one a format needs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, TypeVar

import av
import numpy as np
from av.codec.context import Flags
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from renderer.atomic import current_umask
from renderer.errors import MediaError
from renderer.media.audio import RATE
from renderer.publish import PARTIAL_MARKER, partial_prefix, remove_stale_partials


# Fixed thread counts: x264 records its settings (threads included) in the
# stream, so letting it follow the core count would change bytes per machine.
_THREADS = 4


@dataclass(frozen=True)
class VideoSettings:
    format: str  # "webm" | "mp4" | "mov" | "png"
    width: int
    height: int
    fps: Fraction
    alpha: bool  # the frames carry alpha (a transparent composite)
    quality: str = "standard"  # "draft" | "standard" | "high"
    content: str = "composite"  # "matte": frames are H x W grey (the alpha), written as an opaque grey picture


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
# ProRes 4444 (prores_ks) always, its alpha plane lossless (16 bits), at a fixed quantiser
# (1 is the finest): constant quality, as crf is for the others. prores_ks's rate control is
# no use with alpha: it multiplies its bit budget by 20 then, so it picks quantiser 1 anyway,
# 3x slower than asking for it. Measured in the README ("Output formats").
PRORES_QSCALE = {"draft": 8, "standard": 4, "high": 1}


def _video_stream(container: av.container.OutputContainer, video: VideoSettings) -> av.video.stream.VideoStream:
    if video.format == "webm":
        stream = container.add_stream("libvpx-vp9", rate=video.fps)
        stream.pix_fmt = "yuva420p" if video.alpha else "yuv420p"
        stream.options = {"b": "0", "row-mt": "1", "tile-columns": "1", **VP9_PRESETS[video.quality]}
        if video.alpha:
            stream.metadata["alpha_mode"] = "1"
    elif video.format == "mov":
        stream = container.add_stream("prores_ks", rate=video.fps)
        stream.pix_fmt = "yuva444p10le"  # alpha always: opaque when the frames have none
        stream.options = {"profile": "4444", "alpha_bits": "16"}
        stream.codec_context.qscale = True
        stream.codec_context.global_quality = PRORES_QSCALE[video.quality]  # prores_ks takes the quantiser as is
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


AUDIO_CODECS = {"webm": ("libopus", 128_000), "mp4": ("aac", 192_000), "mov": ("pcm_s16le", None), "wav": ("pcm_s16le", None)}


def audio_stream(container: av.container.OutputContainer, fmt: str, layout: str) -> av.audio.stream.AudioStream:
    """The audio track a format carries: Opus, AAC, or 16-bit PCM (MOV, and a PNG sequence's WAV)."""
    codec, bit_rate = AUDIO_CODECS[fmt]
    stream = container.add_stream(codec, rate=RATE, layout=layout)
    if bit_rate is not None:
        stream.bit_rate = bit_rate
    stream.codec_context.flags |= Flags.bitexact
    return stream


class AudioFeed:
    """The render's audio cut to the video: endless planar float32 blocks at RATE in `layout`,
    handed on as AudioFrames up to a sample count (the length of the video written so far)."""

    def __init__(self, blocks: Iterator[np.ndarray], layout: str):
        self.blocks = blocks
        self.layout = layout
        self.written = 0
        self._carry: np.ndarray | None = None

    def until(self, frames: int, fps: Fraction) -> Iterator[av.AudioFrame]:
        """Audio frames up to the end of the first `frames` video frames at `fps`."""
        target = round(Fraction(frames) / fps * RATE)
        while self.written < target:
            block = self._carry if self._carry is not None else next(self.blocks)
            self._carry = None
            take = min(block.shape[1], target - self.written)
            if take < block.shape[1]:
                self._carry = block[:, take:]
                block = block[:, :take]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=self.layout)
            frame.sample_rate = RATE
            frame.pts = self.written
            frame.time_base = Fraction(1, RATE)
            self.written += take
            yield frame


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """A frame as RGB(A) for a video encoder: a grey H x W one (a matte) as the RGB picture of the same
    levels, so it takes exactly the conversion an RGB frame takes (full-range grey -> limited-range Y)."""
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def open_writer(
    target: Path, video: VideoSettings, audio: Iterator[np.ndarray] | None, layout: str | None, pattern: str | None = None
) -> StagedWriter:
    """The writer for the format: VideoWriter for a file, SequenceWriter for a PNG sequence (a folder)."""
    if video.format == "png":
        from renderer.media.sequence import SequenceWriter

        assert pattern is not None, "a PNG sequence needs its frame-name pattern"
        return SequenceWriter(target, video, pattern, audio, layout)
    return VideoWriter(target, video, audio, layout)


W = TypeVar("W", bound="StagedWriter")


class StagedWriter:
    """What both writers share: frames go into a partial beside the target (a file, a folder) that
    `commit` publishes whole. Leaving the `with` block without `commit` (an error, Ctrl-C) deletes
    the partial and leaves the target as it was.

    Subclasses say how to stage, open, write, flush, close and publish; errors become MediaErrors here.
    """

    WHAT = "file"  # what is published, for messages
    target: Path
    frames: int
    temp: Path | None = None

    def __enter__(self: W) -> W:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_partials(self.target)
            self.temp = self._stage()
        except OSError as exc:
            raise MediaError(f"{self.target}: cannot write here ({exc.strerror or exc})") from None
        try:
            self._open()
        except av.error.FFmpegError as exc:
            self._discard()
            raise MediaError(f"{self.target}: cannot start encoding ({exc})") from None
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.temp is not None and self.temp.exists():
            self._discard()

    def write(self, image: np.ndarray) -> None:
        """One output frame: H x W x 3 (RGB), H x W x 4 (straight RGBA) or H x W (grey: a matte) uint8."""
        try:
            self._write(image)
        except (av.error.FFmpegError, OSError) as exc:  # OSError: the disk is full, the device went away
            raise MediaError(f"{self.target}: encoding failed ({reason(exc)})") from None

    def commit(self) -> Path:
        """Flush the encoders, close what is open and publish the partial onto the target."""
        if self.frames == 0:
            raise MediaError("nothing to write: the render produced no frames")
        try:
            self._flush()
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"{self.target}: encoding failed ({reason(exc)})") from None
        try:
            self._publish()
        except OSError as exc:
            raise MediaError(f"{self.target}: cannot move the finished {self.WHAT} into place ({exc.strerror or exc})") from None
        return self.target

    def _discard(self) -> None:
        try:
            self._close()
        except Exception:
            pass
        finally:
            self._remove_partial()

    def _stage(self) -> Path:
        raise NotImplementedError

    def _open(self) -> None:
        raise NotImplementedError

    def _write(self, image: np.ndarray) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _remove_partial(self) -> None:
        raise NotImplementedError

    def _publish(self) -> None:
        raise NotImplementedError


class VideoWriter(StagedWriter):
    """A video file: write frames with `write`, then `commit` to publish it."""

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
        self._audio = AudioFeed(audio, layout) if audio is not None and layout else None
        self.container: av.container.OutputContainer | None = None

    def _stage(self) -> Path:
        fd, name = tempfile.mkstemp(
            prefix=partial_prefix(self.target), suffix=f"{PARTIAL_MARKER}.{self.video.format}", dir=self.target.parent
        )
        os.close(fd)
        os.chmod(name, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the usual mode
        return Path(name)

    def _open(self) -> None:
        assert self.temp is not None
        self.container = av.open(
            str(self.temp), mode="w", format=self.video.format, container_options=_container_options(self.video.format)
        )
        self.container.metadata.clear()
        self.vstream = _video_stream(self.container, self.video)
        self.astream = None
        if self._audio is not None:
            self.astream = audio_stream(self.container, self.video.format, self._audio.layout)

    def _close(self) -> None:
        if self.container is not None:
            self.container.close()

    def _remove_partial(self) -> None:
        assert self.temp is not None
        self.temp.unlink(missing_ok=True)

    def _write(self, image: np.ndarray) -> None:
        image = _as_rgb(image)
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
        # ProRes writes the frame's own tags into each frame header (the container's come from the stream).
        frame.color_primaries, frame.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
        frame.pts = self.frames
        frame.time_base = self.vstream.codec_context.time_base
        self._mux(self.vstream.encode(frame))
        self.frames += 1
        self._pump_audio()

    def _pump_audio(self) -> None:
        """Encode audio up to the end of the video written so far (interleaving)."""
        if self.astream is None or self._audio is None:
            return
        for frame in self._audio.until(self.frames, self.video.fps):
            self._mux(self.astream.encode(frame))

    def _mux(self, packets: list[av.Packet]) -> None:
        assert self.container is not None
        for packet in packets:
            self.container.mux(packet)

    def _flush(self) -> None:
        assert self.container is not None
        self._mux(self.vstream.encode(None))
        if self.astream is not None:
            self._mux(self.astream.encode(None))
        self.container.close()
        self.container = None

    def _publish(self) -> None:
        assert self.temp is not None
        os.replace(self.temp, self.target)


def reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _container_options(fmt: str) -> dict[str, str]:
    options = {"fflags": "+bitexact"}
    if fmt == "mp4":
        options["movflags"] = "+faststart"
    return options
