"""What a source file holds, read from its headers without decoding it all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from fractions import Fraction
from pathlib import Path

import av

from renderer.errors import MediaError


@dataclass(frozen=True)
class SourceInfo:
    width: int  # as displayed, in square pixels: after the sample aspect ratio and the display rotation
    height: int
    fps: Fraction
    duration: Fraction  # seconds from the first video frame to the end of the last
    audio_channels: int  # 0 when the source has no audio
    video_codec: str
    aspect: Fraction  # displayed width / height, exact (width and height are rounded to whole pixels)
    frame_size: tuple[int, int]  # width x height as stored and decoded: before the SAR and the rotation


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"{path}: cannot read as video ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def probe(path: Path) -> SourceInfo:
    """Remembered per file version in this process: a batch of rows on one source probes it once."""
    try:
        stat = os.stat(path)
    except OSError:
        return _probe(str(path), -1, -1, -1)  # let the open report it
    return _probe(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


@lru_cache(maxsize=32)
def _probe(name: str, size: int, mtime_ns: int, inode: int) -> SourceInfo:
    path = Path(name)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:  # FFmpeg knows no decoder for it
            raise MediaError(f"{path}: the video's codec cannot be decoded by this FFmpeg (re-encode it, e.g. to H.264)")
        if not ctx.width or not ctx.height:
            raise MediaError(f"{path}: video stream has no frame size")
        fps = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not fps or fps <= 0:
            raise MediaError(f"{path}: cannot tell the video's frame rate")
        duration = _duration(container, stream)
        if duration is None or duration <= 0:
            raise MediaError(f"{path}: cannot tell the video's duration")
        # Anamorphic video stores pixels that are shown wider (or narrower) than tall: the
        # displayed width is the stored width times the sample aspect ratio, then the
        # display rotation turns the picture upright.
        shown_w, shown_h = ctx.width * _sample_aspect_ratio(stream), Fraction(ctx.height)
        if _first_frame_turns(path, container, stream) % 2:
            shown_w, shown_h = shown_h, shown_w
        return SourceInfo(
            width=max(1, round(shown_w)),
            height=max(1, round(shown_h)),
            fps=Fraction(fps),
            duration=duration,
            audio_channels=container.streams.audio[0].codec_context.channels if container.streams.audio else 0,
            video_codec=ctx.name,
            aspect=shown_w / shown_h,
            frame_size=(ctx.width, ctx.height),
        )


def _sample_aspect_ratio(stream: av.video.stream.VideoStream) -> Fraction:
    """The container's SAR, else the codec's (FFmpeg's guess); 1 when neither says (or says nonsense)."""
    sar = stream.sample_aspect_ratio
    return Fraction(sar) if sar and sar > 0 else Fraction(1)


def _first_frame_turns(path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """The display rotation rides on frames (side data): decode the first one to read it."""
    from renderer.media.decode import quarter_turns

    try:
        for frame in container.decode(stream):
            return quarter_turns(frame.rotation)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: cannot decode the video ({exc})") from None
    raise MediaError(f"{path}: the video stream has no decodable frame")


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> Fraction | None:
    if stream.duration and stream.time_base:
        return Fraction(stream.duration) * stream.time_base
    if container.duration:
        start = Fraction(container.start_time or 0, av.time_base)
        return Fraction(container.duration, av.time_base) - max(Fraction(0), start)
    return None
