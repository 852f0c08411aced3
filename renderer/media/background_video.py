"""A video background: a clip's frames fitted to the output, one picture per output frame.

The graph runs this generator in its own thread, so every PyAV frame is decoded
and converted in that one thread and never shared. Only the video stream is
read: the clip's audio is never decoded.
"""

from __future__ import annotations

from contextlib import closing
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from renderer.errors import MediaError
from renderer.graph.timeline import select_frames  # pure: which frame each output shows
from renderer.media.decode import decode_video

if TYPE_CHECKING:
    from renderer.compose.background import Fit


def background_frames(
    path: Path, runs: Iterable[tuple[Fraction, int]], fps: Fraction, clip_fps: Fraction, fit: Fit
) -> Iterator[np.ndarray]:
    """fit.height x fit.width x 3 RGB pictures, `count` for each (clip time, count) run (graph.timeline.clip_passes).

    A run decodes from its clip time on (seeking as the source does) and each of
    its outputs, `1 / fps` apart, shows the clip frame nearest its time, a tie to
    the earlier one: the source's own rule (select_frames). A frame is converted
    once, to the fitted size in the same swscale pass as its colours (full range,
    BT.709, exact rounding), and a frame shown by several outputs, in one run or
    (a loop shorter than a frame) in the next, is the same array each time.
    Outputs past the clip's last frame hold it.
    """
    picture: np.ndarray | None = None
    converted: int | None = None  # the pts of the frame `picture` shows
    for time, count in runs:
        shown = 0
        with closing(decode_video(path, time)) as frames:
            for frame, repeats in select_frames(frames, time, fps, count, clip_fps):
                if frame.pts != converted:
                    picture, converted = fit.place(frame.rgb(*fit.scaled)), frame.pts
                for _ in range(repeats):
                    yield picture
                shown += repeats
        if picture is None:
            raise MediaError(f"{path}: no video frame could be decoded at {float(time):.3f} s of the background clip")
        for _ in range(count - shown):
            yield picture
