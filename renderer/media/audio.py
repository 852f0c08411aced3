"""The source's audio, cut sample-accurately to the rendered span.

Audio is decoded, resampled to the output's rate and layout, and cut to
exactly [start, start + duration): silence fills any gap where the source has
no audio, so the track always lasts as long as the video it goes with.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from renderer.errors import MediaError

RATE = 48_000
_CHUNK = 4800  # samples per frame handed to the encoder (0.1 s)


def _samples(path: Path, start: Fraction, layout: str) -> Iterator[tuple[int, np.ndarray]]:
    """(position in output samples relative to `start`, planar float32 block)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        stream = container.streams.audio[0]
        origin = Fraction(video.start_time or 0) * video.time_base if video else Fraction(0)
        if start > 1:
            container.seek(int((origin + start - 1) / stream.time_base), stream=stream, backward=True)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
        position: int | None = None
        for frame in container.decode(stream):
            if position is None:
                begin = Fraction(frame.pts) * stream.time_base - origin if frame.pts is not None else Fraction(0)
                position = round((begin - start) * RATE)
            for out in resampler.resample(frame):
                block = out.to_ndarray()
                yield position, block
                position += block.shape[1]
        for out in resampler.resample(None):
            block = out.to_ndarray()
            if position is not None:
                yield position, block
                position += block.shape[1]


def audio_blocks(path: Path, start: Fraction, layout: str) -> Iterator[np.ndarray]:
    """Endless contiguous planar float32 blocks from `start`: the source's audio, then silence.

    The consumer stops pulling at the video's end, which sets the exact length.
    """
    channels = 1 if layout == "mono" else 2
    written = 0
    try:
        for position, block in _samples(path, start, layout):
            if position > written:  # a gap (or audio starting late): fill with silence
                yield from _silence(position - written, channels)
                written = position
            skip = written - position
            if skip >= block.shape[1]:
                continue
            block = block[:, skip:]
            yield block
            written += block.shape[1]
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: audio decoding failed ({exc})") from None
    while True:
        yield from _silence(_CHUNK, channels)


def _silence(count: int, channels: int) -> Iterator[np.ndarray]:
    for offset in range(0, count, _CHUNK):
        yield np.zeros((channels, min(_CHUNK, count - offset)), dtype=np.float32)
