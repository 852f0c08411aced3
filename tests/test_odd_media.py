"""Media that come out wrong: anamorphic sources, surround downmixes, frame sizes the encoders refuse."""

from __future__ import annotations

from fractions import Fraction
from itertools import islice
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import make_clip, read_audio, read_png, read_video, save_png, write_frames
from renderer.media.audio import audio_blocks

PROJECT = """version: 1
source: {source}
model: {{name: {model}, ema_alpha: 1.0, dedup_threshold: 0}}
background: {background}
export: {{path: {path}, resolution: {resolution}}}
"""


def write_project(tmp_path: Path, model: str, source: Path, *, resolution: str = "original", path: str = "out/o.webm",
                  background: str = "{type: transparent}", name: str = "p.yaml") -> Path:
    project = tmp_path / name
    project.write_text(
        PROJECT.format(source=source.name, model=model, background=background, path=path, resolution=resolution), encoding="utf-8"
    )
    return project


def at_resolution(project: Path) -> str:
    """FILE:LINE:COL of export.resolution's value (line 5 of PROJECT)."""
    line = project.read_text(encoding="utf-8").splitlines()[4]
    return f"{project}:5:{line.index('resolution: ') + len('resolution: ') + 1}"


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the True pixels."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def red(image: np.ndarray) -> np.ndarray:
    return (image[..., 0] > 150) & (image[..., 1] < 90)


# --- anamorphic sources --------------------------------------------------------------------------

# make_clip draws a still red square of height/2 stored pixels at (width/4, height/4). Stored
# 160x120 with a 2:1 sample aspect ratio, it is shown 320x120 and the square 120x60: twice as
# wide as tall.


@pytest.fixture
def anamorphic(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "anamorphic.mp4", size=(160, 120), sar=Fraction(2), seconds=0.2, audio=False, moving=False, counter=False)


@pytest.mark.parametrize("resolution,size", [("480p", (1280, 480)), ("original", (320, 120))])
def test_an_anamorphic_source_keeps_its_display_shape(vbr, redness_model, anamorphic, tmp_path, resolution, size):
    path = write_project(tmp_path, redness_model, anamorphic, resolution=resolution)
    assert vbr("render", "-q", path).code == 0
    with av.open(str(tmp_path / "out/o.webm")) as container:
        assert container.streams.video[0].sample_aspect_ratio == 1  # square pixels, said so
    video = read_video(tmp_path / "out/o.webm")
    assert (video.width, video.height) == size
    frame = video.frames[2]
    save_png(frame, tmp_path / "frame.png")
    scale = size[1] / 120
    for found in (box(red(frame)), box(frame[..., 3] > 128)):  # the colours, and the matte over them
        left, top, width, height = found
        assert abs(width / height - 2) < 0.08, found
        assert abs(left - 80 * scale) <= 3 * scale and abs(top - 30 * scale) <= 3 * scale, found


def test_an_anamorphic_portrait_source_turns_upright_in_its_display_shape(vbr, redness_model, tmp_path):
    """Stored 160x120 at 2:1, shown 320x120, turned a quarter: 120x320, the square 60 wide and 120 tall."""
    phone = make_clip(tmp_path / "phone.mp4", size=(160, 120), sar=Fraction(2), rotation=-90, seconds=0.2, audio=False,
                      moving=False, counter=False)
    path = write_project(tmp_path, redness_model, phone)
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    assert (video.width, video.height) == (120, 320)
    _, _, width, height = box(video.frames[0][..., 3] > 128)
    assert abs(height / width - 2) < 0.08


def test_previews_of_an_anamorphic_source_have_its_display_shape(vbr, redness_model, anamorphic, tmp_path):
    path = write_project(tmp_path, redness_model, anamorphic, resolution="480p")
    assert vbr("preview", path, "--at", "0", "-o", tmp_path / "still.png").code == 0
    still = read_png(tmp_path / "still.png")
    assert still.shape[:2] == (480, 1280)
    _, _, width, height = box(still[..., 3] > 128)
    assert abs(width / height - 2) < 0.08
    assert vbr("preview", path, "--sheet", "1", "-o", tmp_path / "sheet.png").code == 0
    _, _, width, height = box(red(read_png(tmp_path / "sheet.png")))
    assert abs(width / height - 2) < 0.1  # a 320 px wide thumbnail of the 1280x480 frame


# --- surround sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels,container", [(6, "mp4"), (6, "webm"), (8, "mp4"), (4, "webm")])
def test_a_loud_surround_source_mixes_down_within_full_scale(vbr, redness_model, tmp_path, channels, container):
    """A 0.8-peak tone on every channel, stored losslessly: the stereo mix keeps it at 0.8, not 1.93."""
    source = make_clip(tmp_path / "surround.mkv", seconds=0.4, audio_channels=channels, loudness=0.8, audio_codec="flac")
    path = write_project(tmp_path, redness_model, source, path=f"out/o.{container}", background="{type: color}")
    assert vbr("render", "-q", path).code == 0
    sound = read_audio(tmp_path / f"out/o.{container}")
    assert sound is not None and sound.channels == 2
    assert np.abs(sound.samples).max() <= 1.0  # before: 2.0 out of the MP4, 1.05 out of the WebM
    middle = sound.samples[:, sound.rate // 10 : -sound.rate // 10]  # away from the codec's ramps
    peaks = np.abs(middle).max(axis=1)
    assert (peaks >= 0.7).all(), peaks  # still the tone, at about its level


def test_a_lossy_surround_source_decoding_over_full_scale_is_clipped_in_the_mix(tmp_path):
    """AAC decodes a loud 5.1 tone up to ~40% over full scale; the mix handed to the encoder stays in range."""
    source = make_clip(tmp_path / "surround.mp4", seconds=0.5, audio_channels=6, loudness=0.8)
    with av.open(str(source)) as container:
        decoded = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert np.abs(decoded).max() > 1.0  # the source itself is over: otherwise this test shows nothing
    blocks = audio_blocks(source, Fraction(0), "stereo")  # endless: the source's 0.5 s, then silence
    mixed = np.concatenate(list(islice(blocks, 24)), axis=1)[:, :24_000]
    assert mixed.shape == (2, 24_000)
    assert np.abs(mixed).max() <= 1.0 and np.abs(mixed).max() >= 0.7


# --- frame sizes the encoders refuse -----------------------------------------------------------

SIZE_CASES = {
    # source size, its sample aspect ratio, resolution, format -> the message's end
    "wide-480p-mp4": ((1000, 16), None, "480p", "mp4",
                      "480p makes 30000x480 frames of this 1000x16 source, over the limit of 8192 pixels a side"),
    "wide-720p-webm": ((1000, 2), None, "720p", "webm",
                       "720p makes 360000x720 frames of this 1000x2 source, over the limit of 8192 pixels a side"),
    "anamorphic-original": ((160, 120), Fraction(100), "original", "webm",
                            "original makes 16000x120 frames of this 16000x120 source, over the limit of 8192 pixels a side"),
}


@pytest.mark.parametrize("case", sorted(SIZE_CASES))
def test_output_sizes_over_the_limits_are_located_errors_before_anything_runs(vbr, redness_model, tmp_path, case):
    size, sar, resolution, fmt, message = SIZE_CASES[case]
    source = make_clip(tmp_path / "odd.mp4", size=size, sar=sar, seconds=0.2, audio=False, counter=False)
    path = write_project(tmp_path, redness_model, source, resolution=resolution, path=f"out/o.{fmt}", background="{type: color}")
    expected = f"{at_resolution(path)}: export.resolution: {message} (VBR_MAX_FRAME_SIZE raises it): choose a lower resolution"
    for command in (["validate"], ["plan"], ["render"], ["preview", "--at", "0", "-o", tmp_path / "still.png"]):
        result = vbr(*command, path)
        assert result.code == 2, (command, result.err)
        assert result.err.strip().splitlines() == [expected], command
    assert not (tmp_path / "out").exists() and not (tmp_path / "still.png").exists()


def test_the_encoders_own_limits_apply_when_vbrs_is_raised(vbr, redness_model, tmp_path, monkeypatch):
    monkeypatch.setenv("VBR_MAX_FRAME_SIZE", "100000")
    source = make_clip(tmp_path / "odd.mp4", size=(1000, 16), seconds=0.2, audio=False, counter=False)
    mp4 = write_project(tmp_path, redness_model, source, resolution="480p", path="out/o.mp4", background="{type: color}")
    result = vbr("validate", mp4)
    assert result.code == 2 and result.err.strip() == (
        f"{at_resolution(mp4)}: export.resolution: 480p makes 30000x480 frames of this 1000x16 source, "
        "larger than H.264 (MP4) takes (16384 pixels a side): choose a lower resolution"
    )
    webm = write_project(tmp_path, redness_model, source, resolution="480p", path="out/o.webm", name="w.yaml",
                         background="{type: color}")
    assert vbr("validate", webm).code == 0  # VP9 takes 30000 px
    wider = write_project(tmp_path, redness_model, source, resolution="1080p", path="out/o.webm", name="x.yaml",
                          background="{type: color}")
    result = vbr("validate", wider)
    assert result.code == 2 and "67500x1080 frames of this 1000x16 source, larger than VP9 (WebM) takes (65536 pixels a side)" in result.err


def test_a_batch_row_whose_output_size_is_refused_fails_before_rendering(vbr, redness_model, tmp_path):
    source = make_clip(tmp_path / "odd.mp4", size=(1000, 16), seconds=0.2, audio=False, counter=False)
    template = tmp_path / "t.yaml"
    template.write_text(f"""version: 1
vars:
  name: {{type: string}}
  res: {{type: enum, choices: [original, 480p], default: original}}
source: {source.name}
model: {{name: {redness_model}, dedup_threshold: 0}}
background: {{type: color}}
export: {{path: "out/${{name}}.mp4", resolution: "${{res}}"}}
""", encoding="utf-8")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,res\nsmall,original\nhuge,480p\n", encoding="utf-8")
    result = vbr("batch", "-q", template, rows)
    assert result.code == 2
    assert f"{rows}:3: export.resolution: 480p makes 30000x480 frames of this 1000x16 source" in result.err
    assert "internal error" not in result.err and not (tmp_path / "out" / "huge.mp4").exists()


# --- tiny outputs -------------------------------------------------------------------------------


def _tiny_source(path: Path, width: int, height: int) -> Path:
    """Frames of any size (x264 in 4:4:4 takes odd and 1-pixel sides): a red left half on green."""
    image = np.zeros((height, width, 3), np.uint8)
    image[...] = (0, 160, 0)
    image[:, : max(1, width // 2)] = (220, 30, 30)
    return write_frames(path, [image] * 5)


@pytest.mark.parametrize("size,expected", [((1, 1), (2, 2)), ((64, 2), (64, 2)), ((3, 5), (2, 4))])
def test_tiny_outputs_render_with_every_stage(vbr, redness_model, tmp_path, size, expected):
    source = _tiny_source(tmp_path / "tiny.mp4", *size)
    path = tmp_path / "p.yaml"
    path.write_text(f"""version: 1
source: tiny.mp4
model: {{name: {redness_model}, dedup_threshold: 0}}
background: {{type: blur, radius: 20}}
grade: {{brightness: 0.1}}
text: [{{text: "Hi", box: {{color: "#000000", padding: 4}}, outline: {{color: "#000000", width: 2}}, shadow: {{}}}}]
fade: {{in: 0.04, out: 0.04}}
export: {{path: out/o.mp4}}
""", encoding="utf-8")
    result = vbr("render", "-q", path)
    assert result.code == 0, result.err
    video = read_video(tmp_path / "out/o.mp4")
    assert (video.width, video.height) == expected and len(video.frames) == 5
    sheet = vbr("preview", path, "--sheet", "4", "-o", tmp_path / "sheet.png")
    assert sheet.code == 0, sheet.err
