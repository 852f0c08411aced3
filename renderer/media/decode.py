"""Video frames out of a source, in presentation order, with exact times.

Frames are handed out still in the decoder's pixel format: converting to RGB
(and scaling) happens only for the frames the timeline keeps, in one swscale
pass per size a stage asks for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter

from renderer.errors import MediaError

# Sources that say nothing about their colours are read the way players read
# them: BT.709 from 720 lines up, BT.601 below.
_HD_LINES = 720
_SEEK_MARGIN = Fraction(1)  # seek only when the trim start is further in than this
# Exact rounding in swscale where PyAV exposes the flags (PyAV 18+); older builds scale
# the same way every run too, only without these refinements.
_SWS_EXACT = int(getattr(Interpolation, "ACCURATE_RND", 0)) | int(getattr(Interpolation, "BITEXACT", 0))


# Matrices swscale knows, by their FFmpeg numbers (AVColorSpace = SWS_CS_*):
# BT.709, BT.470BG, SMPTE 170M, SMPTE 240M, BT.2020.
_KNOWN_MATRICES = {1, 5, 6, 7, 9}


def _frame_colorspace(frame: av.VideoFrame) -> int:
    tagged = int(frame.colorspace)
    if tagged in _KNOWN_MATRICES:
        return tagged
    return int(Colorspace.ITU709 if frame.height >= _HD_LINES else Colorspace.ITU601)


@dataclass
class SourceFrame:
    """One decoded frame: its time in seconds from the source's first frame.

    `pts` (in the stream's time base) names the frame in cache keys: unlike an
    index it does not depend on where decoding started.

    A frame is shared between threads (the matte stage may take a dedup
    thumbnail of a reference frame that the compose stage is already scaling),
    and PyAV frames are not safe for that: a reformat briefly rewrites the
    source frame's colour tags and reuses one swscale context per frame, so two
    at once crash the interpreter or mix their settings into each other's
    pixels. Every conversion therefore holds the frame's lock and runs on a
    fresh swscale context, which also makes its pixels independent of which
    conversion ran before it.
    """

    time: Fraction
    pts: int
    _frame: av.VideoFrame
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def rgb(self, width: int, height: int, *, downscale: bool = False) -> np.ndarray:
        """H x W x 3 uint8, full-range RGB, scaled in the same pass.

        `width` x `height` is the upright picture wanted: the stored frame is stretched
        to it, so asking for the source's display shape (probe's `aspect`) undoes a
        non-square sample aspect ratio in this same pass.
        `downscale` picks area averaging (for model inputs); otherwise Lanczos.
        """
        frame = self._frame
        interpolation = Interpolation.AREA if downscale else Interpolation.LANCZOS
        with self._lock:  # everything that reads the PyAV frame, its tags included
            turns = quarter_turns(frame.rotation)
            stored_w, stored_h = (height, width) if turns % 2 else (width, height)
            converted = VideoReformatter().reformat(
                frame,
                width=stored_w,
                height=stored_h,
                format="rgb24",
                src_colorspace=_frame_colorspace(frame),
                dst_colorspace=Colorspace.ITU709,
                src_color_range=ColorRange.JPEG if frame.color_range == ColorRange.JPEG else ColorRange.MPEG,
                dst_color_range=ColorRange.JPEG,
                interpolation=int(interpolation) | _SWS_EXACT,
                threads=1,
            )
        rgb = converted.to_ndarray()
        return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def quarter_turns(rotation: float) -> int:
    """Counter-clockwise quarter turns that show a frame upright (display matrix).

    Phones store portrait video as landscape frames plus this rotation; other
    angles do not occur in practice and are rounded to the nearest quarter.
    """
    return round(rotation / 90) % 4


def decode_video(path: Path, start: Fraction = Fraction(0)) -> Iterator[SourceFrame]:
    """Frames from `start` on (and the one shown at `start`), until the stream ends.

    Seeks to the keyframe before `start` when that saves decoding; if the
    container's seek lands after `start` (some files index badly), it decodes
    from the beginning instead.
    """
    seek = start > _SEEK_MARGIN
    try:
        while True:
            restarted = False
            with av.open(str(path), mode="r") as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                tb = stream.time_base
                origin = Fraction(stream.start_time or 0) * tb
                if seek:
                    target = int((origin + start - _SEEK_MARGIN) / tb)
                    container.seek(target, stream=stream, backward=True, any_frame=False)
                first = True
                last_time: Fraction | None = None
                for frame in container.decode(stream):
                    if frame.pts is not None:
                        time = Fraction(frame.pts) * tb - origin
                    elif last_time is not None:
                        time = last_time + 1 / Fraction(stream.average_rate or 25)
                    else:
                        time = Fraction(0)
                    pts = frame.pts if frame.pts is not None else round((time + origin) / tb)
                    if first and seek and time > start:
                        restarted = True
                        break
                    first = False
                    last_time = time
                    yield SourceFrame(time=time, pts=pts, _frame=frame)
            if not restarted:
                return
            seek = False
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: decoding failed ({exc})") from None


@dataclass(frozen=True)
class FrameStamp:
    """A frame's time and pts, read from the container without decoding."""

    time: Fraction
    pts: int


def frame_stamps(path: Path, start: Fraction, end: Fraction) -> list[FrameStamp]:
    """Presentation-ordered stamps of the frames from `start` to a little past `end`.

    Demuxing only (no decoding): cheap enough for `vbr plan` on long sources.
    """
    horizon = end + 2
    stamps: list[FrameStamp] = []
    try:
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            origin = Fraction(stream.start_time or 0) * tb
            if start > _SEEK_MARGIN:
                container.seek(int((origin + start - _SEEK_MARGIN) / tb), stream=stream, backward=True, any_frame=False)
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                time = Fraction(packet.pts) * tb - origin
                if time > horizon:
                    break
                stamps.append(FrameStamp(time, packet.pts))
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: cannot read ({exc})") from None
    stamps.sort(key=lambda s: s.pts)
    return stamps
