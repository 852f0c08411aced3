"""Long test sources made in code: a subject moving over a grainy textured field, with a stereo tone.

The long-render benchmark needs minutes of 1080p footage that exercises the
whole pipeline (a moving subject for the matte, grain so no two frames are
alike and the encoders work on every one, audio to cut and mux) without
shipping gigabytes. Frames are drawn one at a time, audio is written beside
them, so making the clip takes as little memory as playing it. Deterministic:
the grain comes from a seeded generator, the motion from formulas.
"""

from __future__ import annotations

import os
from fractions import Fraction
from math import cos, pi, sin
from pathlib import Path

import av
import numpy as np

from renderer.media.audio import RATE

GRAIN_PLANES = 8  # grainy backgrounds drawn once and cycled: frame i shows number i % 8
TONE_HZ = 440.0


def _backgrounds(width: int, height: int, seed: int) -> list[np.ndarray]:
    """Green-blue gradients crossed by soft stripes (texture for the codecs), each with its own grain."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = 0.5 + 0.5 * np.sin(x / 23.0 + y / 37.0)
    field = np.empty((height, width, 3), np.float32)
    field[..., 0] = 20 + 30 * stripes
    field[..., 1] = 90 + 80 * (y / height) + 30 * stripes
    field[..., 2] = 60 + 60 * (x / width)
    rng = np.random.default_rng(seed)
    return [np.clip(field + rng.integers(-6, 7, size=(height, width, 1)), 0, 255).astype(np.uint8) for _ in range(GRAIN_PLANES)]


def _frame(backgrounds: list[np.ndarray], i: int, fps: int) -> np.ndarray:
    """Frame i: a red disc, shaded by the grain under it, on a slow Lissajous path over a background."""
    image = backgrounds[i % len(backgrounds)].copy()
    height, width = image.shape[:2]
    t = i / fps
    radius = height // 6
    cx = int(width / 2 + (width / 2 - radius) * 0.9 * sin(2 * pi * t / 11))
    cy = int(height / 2 + (height / 2 - radius) * 0.8 * cos(2 * pi * t / 7))
    top, left = max(cy - radius, 0), max(cx - radius, 0)
    y, x = np.ogrid[top : cy + radius, left : cx + radius]
    inside = (y - cy) ** 2 + (x - cx) ** 2 <= radius * radius
    patch = image[top : cy + radius, left : cx + radius]
    patch[inside] = np.array([220, 30, 40], np.uint8) + patch[inside] % 16
    return image


def write_moving_subject(path: Path, *, width: int, height: int, fps: int, seconds: float, seed: int = 0) -> Path:
    """An H.264 (ultrafast, crf 26) + stereo AAC MP4 of `seconds` at `fps`, written whole or not at all."""
    frames = round(seconds * fps)
    backgrounds = _backgrounds(width, height, seed)
    temp = path.with_name(path.name + ".partial.mp4")
    try:
        with av.open(str(temp), "w") as container:
            video = container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.options = {"crf": "26", "preset": "ultrafast"}
            audio = container.add_stream("aac", rate=RATE, layout="stereo")
            written = 0  # audio samples so far: kept level with the video, so the muxer holds nothing back
            for i in range(frames):
                frame = av.VideoFrame.from_ndarray(_frame(backgrounds, i, fps), format="rgb24")
                frame.pts = i
                for packet in video.encode(frame):
                    container.mux(packet)
                target = round(Fraction(i + 1, fps) * RATE)
                if target > written:
                    t = np.arange(written, target) / RATE
                    tone = (0.3 * np.sin(2 * pi * TONE_HZ * t)).astype(np.float32)
                    block = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                    block.sample_rate, block.pts = RATE, written
                    for packet in audio.encode(block):
                        container.mux(packet)
                    written = target
            for stream in (video, audio):
                for packet in stream.encode(None):
                    container.mux(packet)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
