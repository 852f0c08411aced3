"""Every output example renders on the real sample with the embedded model, and reads back right.

One example per format (mov, png), content (matte, foreground), background (video) and reframe
(9:16). They share a trim of the sample, so its masks are inferred once for the module and the
other renders read them from the cache. Each output is decoded with PyAV and checked for codec,
pixel format, size, frame count, frame rate, alpha and audio.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from renderer import api

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ROOT / "projects"


@dataclass
class Decoded:
    codec: str
    pix_fmt: str
    size: tuple[int, int]
    rate: Fraction
    frames: list[np.ndarray]  # RGBA where the stream has alpha, else RGB


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        frames = [f.to_ndarray(format="rgba" if f.format.name.startswith("yuva") else "rgb24") for f in container.decode(stream)]
        return Decoded(ctx.name, ctx.pix_fmt, (ctx.width, ctx.height), Fraction(stream.average_rate or 0), frames)


def audio_of(path: Path) -> tuple[str, int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return stream.codec_context.name, stream.codec_context.channels, samples / stream.codec_context.sample_rate


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples beside a link to the sample media, so their outputs land here, not in the repo."""
    root = tmp_path_factory.mktemp("examples")
    (root / "media").symlink_to(PROJECTS / "media")
    for example in PROJECTS.glob("bunny-*.yaml"):
        shutil.copy(example, root / example.name)
    return root


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> api.Options:
    return api.Options(cache_dir=tmp_path_factory.mktemp("shared-cache"))


def render(workspace: Path, options: api.Options, name: str, **values: str) -> Path:
    done = api.render(api.compile(workspace / name, values or None, options))
    return Path(done.output)


def test_prores_4444_keeps_the_alpha(workspace, options):
    out = render(workspace, options, "bunny-prores.yaml")
    video = decode(out)
    # FFmpeg's ProRes decoder hands 4444 out as 12-bit (the encoder took 10-bit yuva444p10le); the profile says 4444
    assert (video.codec, video.pix_fmt, video.size, video.rate, len(video.frames)) == ("prores", "yuva444p12le", (1280, 720), 25, 50)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.profile == "4444"
    alpha = np.stack([frame[..., 3] for frame in video.frames])
    assert alpha.min() == 0 and alpha.max() == 255 and 0.05 < (alpha > 127).mean() < 0.95  # a subject, cut out
    assert audio_of(out) == ("pcm_s16le", 2, pytest.approx(2.0, abs=1e-6))


def test_a_png_sequence_with_its_wav(workspace, options):
    out = render(workspace, options, "bunny-png.yaml")
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [f"shot_{i:03d}.png" for i in range(50)]
    first = decode(files[0])
    assert (first.codec, first.pix_fmt, first.size) == ("png", "rgb24", (854, 480))
    background = np.array([0x1E, 0x90, 0xFF])
    assert (np.abs(first.frames[0].astype(int) - background).max(axis=2) == 0).mean() > 0.2  # the colour shows exactly
    assert audio_of(out / "audio.wav") == ("pcm_s16le", 2, pytest.approx(2.0, abs=1e-6))


def test_a_video_background_moves_behind_the_subject(workspace, options):
    out = render(workspace, options, "bunny-video-bg.yaml")
    video = decode(out)
    assert (video.codec, video.pix_fmt, video.size, video.rate, len(video.frames)) == ("h264", "yuv420p", (854, 480), 25, 63)
    assert audio_of(out)[0] == "aac"


def test_a_9_16_cut_that_follows_the_subject(workspace, options):
    out = render(workspace, options, "bunny-vertical.yaml")
    video = decode(out)
    assert (video.codec, video.pix_fmt, video.size, video.rate, len(video.frames)) == ("h264", "yuv420p", (720, 1280), 25, 50)


def test_a_key_and_its_fill(workspace, options):
    key = decode(render(workspace, options, "bunny-fill-key.yaml"))
    fill = decode(render(workspace, options, "bunny-fill-key.yaml", content="foreground"))
    for video in (key, fill):
        assert (video.codec, video.pix_fmt, video.size, video.rate, len(video.frames)) == ("h264", "yuv420p", (854, 480), 25, 50)
    grey = np.stack(key.frames).astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 2 and np.abs(grey[..., 1] - grey[..., 2]).max() <= 2  # grey
    assert grey.min() <= 2 and grey.max() >= 253
    for matte, colours in zip(key.frames, fill.frames):
        outside = matte[..., 0] == 0  # no subject: the fill is black there (a straight fill: any alpha shows colour)
        assert colours[outside].mean() < 4
