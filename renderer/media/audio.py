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
# swresample mixes a wider layout down with FFmpeg's matrix (centre and surrounds at -3 dB,
# LFE left out), whose gains into one output channel add up to more than 1: 2.41 for 5.1
# to stereo. Scaled so they add up to at most 1, a mix of in-range channels stays in range.
_DOWNMIX = {"rematrix_maxval": "1.0"}


def _samples(path: Path, start: Fraction, layout: str) -> Iterator[tuple[int, np.ndarray]]:
    """(position in output samples relative to `start`, planar float32 block)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        stream = container.streams.audio[0]
        origin = Fraction(video.start_time or 0) * video.time_base if video else Fraction(0)
        if start > 1:
            container.seek(int((origin + start - 1) / stream.time_base), stream=stream, backward=True)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE, options=_DOWNMIX)
        # A lossy source can decode a little over full scale (a loud 5.1 AAC track, by up to
        # 40%), and its mix with it: the mix is clipped there, never handed on louder.
        mixing = stream.codec_context.channels > av.AudioLayout(layout).nb_channels
        position: int | None = None
        for frame in container.decode(stream):
            if position is None:
                begin = Fraction(frame.pts) * stream.time_base - origin if frame.pts is not None else Fraction(0)
                position = round((begin - start) * RATE)
            for out in resampler.resample(frame):
                block = _clipped(out.to_ndarray(), mixing)
                yield position, block
                position += block.shape[1]
        for out in resampler.resample(None):
            block = _clipped(out.to_ndarray(), mixing)
            if position is not None:
                yield position, block
                position += block.shape[1]


def _clipped(block: np.ndarray, mixing: bool) -> np.ndarray:
    return np.clip(block, -1.0, 1.0) if mixing else block


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
