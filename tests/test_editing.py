"""Grade, text overlays, fades and previews, asserted on decoded pixels."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import numpy as np

from helpers import read_audio, read_png, read_video, save_png

PROJECT = """version: 1
source: media/clip.mp4
model: {{name: {model}, ema_alpha: 1.0, dedup_threshold: 0}}
background: {background}
export: {export}
{extra}"""


def body(model: str, extra: str = "", background: str = "{type: color, color: '#000000'}", export: str = "{path: out/o.mp4}") -> str:
    return PROJECT.format(model=model, background=background, export=export, extra=extra)


def preview(vbr, path: Path, at: str, out: Path) -> np.ndarray:
    result = vbr("preview", path, "--at", at, "-o", out)
    assert result.code == 0, result.err
    return read_png(out)


SUBJECT = (slice(30, 66), slice(52, 84))  # inside the red square at frame 0 (x 40..88, y 24..72)


def subject(i: int) -> tuple[slice, slice]:
    """Inside the red square at frame i: it moves 2 px right per frame."""
    return slice(30, 66), slice(52 + 2 * i, 76 + 2 * i)

BACKGROUND = (slice(78, 96), slice(0, 40))


# --- grade -------------------------------------------------------------------------------


def test_grade_moves_the_subject_and_not_the_background(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, background="{type: color, color: '#3060a0'}"))
    plain = preview(vbr, path, "0", tmp_path / "plain.png")
    path.write_text(body(redness_model, "grade: {brightness: -0.5, saturation: -1.0}\n", "{type: color, color: '#3060a0'}"))
    graded = preview(vbr, path, "0", tmp_path / "graded.png")
    save_png(graded, tmp_path / "graded-view.png")
    assert np.array_equal(plain[BACKGROUND], graded[BACKGROUND])  # exactly untouched
    subject = graded[SUBJECT].astype(int)
    assert subject.mean() < plain[SUBJECT].astype(int).mean() * 0.7  # darker
    assert np.abs(subject[..., 0] - subject[..., 1]).max() <= 2  # and grey (saturation -1)


def test_grade_with_transparent_background_keeps_the_colours_under_zero_alpha(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, background="{type: transparent}", export="{path: out/o.webm}"))
    plain = preview(vbr, path, "0", tmp_path / "plain.png")
    path.write_text(body(redness_model, "grade: {temperature: 1.0}\n", "{type: transparent}", "{path: out/o.webm}"))
    graded = preview(vbr, path, "0", tmp_path / "graded.png")
    assert plain.shape[2] == 4 and graded.shape[2] == 4
    assert np.array_equal(plain[BACKGROUND], graded[BACKGROUND])
    assert graded[SUBJECT][..., 2].mean() < plain[SUBJECT][..., 2].mean()  # cooler blue channel: warmer


def test_neutral_grade_is_byte_identical_to_no_grade(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model))
    first = vbr("render", "--json", path).events[-1]
    digest = hashlib.sha256((tmp_path / "out/o.mp4").read_bytes()).hexdigest()
    path.write_text(body(redness_model, "grade: {brightness: 0, contrast: 0, saturation: 0, temperature: 0, tint: 0}\n"))
    second = vbr("render", "--json", "--force", path).events[-1]
    assert second["graph_key"] == first["graph_key"]
    assert hashlib.sha256((tmp_path / "out/o.mp4").read_bytes()).hexdigest() == digest


# --- text ----------------------------------------------------------------------------------


def bright(region: np.ndarray) -> int:
    return int(np.count_nonzero(region[..., :3].min(axis=2) > 200))


def test_text_appears_only_in_its_time_range_and_near_its_position(project, vbr, redness_model, tmp_path):
    overlay = "text:\n  - {text: 'HELLO', size: 20, position: bottom-left, margin: 4, start: 0.4, end: 0.8}\n"
    path = project(body(redness_model, overlay))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.mp4")
    corner = (slice(60, 96), slice(0, 80))
    elsewhere = (slice(0, 40), slice(90, 160))
    for i, frame in enumerate(video.frames):
        shown = 10 <= i < 20  # 0.4 s .. 0.8 s at 25 fps
        assert (bright(frame[corner]) > 20) == shown, f"frame {i}"
        assert bright(frame[elsewhere]) == 0
    save_png(video.frames[12], tmp_path / "text.png")


def test_text_multiline_colour_alpha_box_and_position(project, vbr, redness_model, tmp_path):
    overlay = (
        "text:\n"
        "  - {text: \"Ada Lovelace\\nAnalyst\", size: 14, color: '#ffffff', position: {x: 0.05, y: 0.05}}\n"
        "  - {text: 'BOX', size: 12, color: '#ffffff80', position: bottom-right, margin: 2, box: {color: '#0000ff', padding: 3}}\n"
    )
    path = project(body(redness_model, overlay))
    image = preview(vbr, path, "0.2", tmp_path / "p.png")
    save_png(image, tmp_path / "view.png")
    rows = np.nonzero(image[:45, :80, :3].min(axis=2) > 200)[0]
    assert rows.min() >= 4 and rows.max() <= 44
    gaps = np.diff(np.unique(rows))
    assert gaps.max() >= 2  # two separate lines of text
    box = image[80:96, 110:160]
    assert np.count_nonzero((box[..., 2] > 200) & (box[..., 0] < 60)) > 100  # the blue box
    half_white = (box[..., 0] > 90) & (box[..., 0] < 170) & (box[..., 2] > 200)
    assert np.count_nonzero(half_white) > 5  # 50% white over blue


def test_text_on_transparent_video_is_opaque(project, vbr, redness_model, tmp_path):
    overlay = "text:\n  - {text: 'TITLE', size: 20, position: top-right, margin: 2}\n"
    path = project(body(redness_model, overlay, "{type: transparent}", "{path: out/o.webm}"))
    image = preview(vbr, path, "0", tmp_path / "p.png")
    region = image[0:30, 90:160]
    assert np.count_nonzero(region[..., 3] > 250) > 30  # text pixels are opaque
    assert image[80:, :30, 3].max() == 0  # the background is still transparent


def test_default_font_is_the_bundled_one_and_accents_render():
    from renderer.compose.text import TextSpec, _typeface, render_layer

    assert _typeface(None).getFamilyName() == "Noto Sans"

    def ink(text: str) -> int:
        spec = TextSpec(text, None, 40, (255, 255, 255, 255), (0.1, 0.1), 0, "left", 1.2, Fraction(0), None)
        return int(np.count_nonzero(render_layer(spec, 400, 200).pixels[..., 3]))

    assert ink("É") > ink("E") > 0  # the accent is drawn: a real glyph, not a box
    assert ink("Éé") != ink("Ee")


def test_missing_and_bad_fonts(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "text:\n  - {text: hi, font: fonts/none.ttf}\n"))
    result = vbr("render", path)
    assert result.code == 2
    assert result.err.startswith(f"{path}:7:22: text[0].font: no such file: ")
    (tmp_path / "fake.ttf").write_text("not a font")
    path.write_text(body(redness_model, "text:\n  - {text: hi, font: fake.ttf}\n"))
    result = vbr("render", path)
    assert result.code == 1 and "not a font" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out/o.mp4").exists()


# --- fade ----------------------------------------------------------------------------------


def test_fades_video_and_audio(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "fade: {in: 0.4, out: 0.4}\n", "{type: color, color: '#ffffff'}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.mp4")
    means = [float(f.mean()) for f in video.frames]
    assert means[0] < 3 and means[-1] < 3  # black at both ends
    assert means[5] < means[9] < means[12]  # rising through the fade-in
    assert 0.4 < means[5] / means[12] < 0.6  # frame 5 of a 10-frame fade: half way
    assert 0.4 < means[-6] / means[12] < 0.6  # and half way out, 5 frames from the end
    sound = read_audio(tmp_path / "out/o.mp4")
    assert sound is not None
    rate = sound.rate
    head = np.abs(sound.samples[:, : rate // 50]).max()  # first 20 ms
    middle = np.abs(sound.samples[:, rate // 2 - 1000 : rate // 2 + 1000]).max()
    tail = np.abs(sound.samples[:, -rate // 100 :]).max()  # last 10 ms
    assert middle > 0.25 and head < 0.05 * middle + 0.01 and tail < 0.05 * middle + 0.01


def test_fade_with_transparent_background_fades_alpha(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "fade: {in: 0.4}\n", "{type: transparent}", "{path: out/o.webm}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    first, later = video.frames[0], video.frames[15]
    assert first[..., 3].max() <= 3  # fully transparent...
    assert first[SUBJECT][..., 0].mean() > 150  # ...but the colours are not blackened
    assert later[subject(15)][..., 3].min() >= 250


def test_fade_longer_than_the_render_is_invalid(project, vbr, redness_model):
    path = project(body(redness_model, "fade: {in: 0.6, out: 0.5}\n"))
    result = vbr("validate", path)
    assert result.code == 2
    assert result.err.strip() == f"{path}:6:7: fade in + out (1.1 s) is longer than the render (1 s)"


# --- reuse ---------------------------------------------------------------------------------


def test_editing_changes_infer_nothing(project, vbr, redness_model):
    path = project(body(redness_model))
    assert vbr("render", "--json", path).events[-1]["inferred_frames"] == 25
    for extra in (
        "grade: {contrast: 0.3}\n",
        "text:\n  - {text: Hi}\n",
        "fade: {in: 0.2, out: 0.2}\n",
    ):
        path.write_text(body(redness_model, extra))
        done = vbr("render", "--json", path).events[-1]
        assert done["inferred_frames"] == 0 and done["cached_frames"] == 25, extra


# --- preview -------------------------------------------------------------------------------


def test_preview_equals_the_exported_frame(project, vbr, redness_model, tmp_path):
    extra = "grade: {saturation: 0.3}\ntext:\n  - {text: 'NOW', size: 18, start: 0.2}\nfade: {in: 0.3}\n"
    path = project(body(redness_model, extra, "{type: blur, radius: 3}", "{path: out/o.webm}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    for at, index in (("0.12", 3), ("0.5", 12), ("00:00.960", 24)):
        still = preview(vbr, path, at, tmp_path / f"at{index}.png")
        assert still.shape == video.frames[index].shape
        diff = np.abs(still.astype(int) - video.frames[index].astype(int))
        assert diff.mean() < 2.5, f"preview at {at} differs from exported frame {index}"


def test_preview_transparent_png_has_alpha_and_validates_time(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, background="{type: transparent}", export="{path: out/o.webm}"))
    still = preview(vbr, path, "0.3", tmp_path / "a.png")
    assert still.shape == (96, 160, 4)
    assert still[subject(7)][..., 3].min() >= 250 and still[BACKGROUND][..., 3].max() <= 2
    outside = vbr("preview", path, "--at", "1.0", "-o", tmp_path / "b.png")
    assert outside.code == 2 and "outside the render" in outside.err
    assert not (tmp_path / "b.png").exists()


def test_preview_fills_the_cache_and_infers_only_what_it_needs(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model).replace("ema_alpha: 1.0", "ema_alpha: 0.5"))
    result = vbr("preview", "--json", path, "--at", "0.8", "-o", tmp_path / "p.png")
    assert result.code == 0
    done = result.events[-1]
    assert done["frames"] == [20]
    assert done["inferred_frames"] == 10  # frame 20 and its EMA warm-up (0.5^9 < 1/512)
    assert done["exact"] is False
    render = vbr("render", "--json", path).events[-1]
    assert render["inferred_frames"] == 15 and render["cached_frames"] == 10
    again = vbr("preview", "--json", path, "--at", "0.8", "-o", tmp_path / "p.png").events[-1]
    assert again["inferred_frames"] == 0 and again["exact"] is True


def test_contact_sheet(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, background="{type: transparent}", export="{path: out/o.webm}"))
    result = vbr("preview", "--json", path, "--sheet", "6", "-o", tmp_path / "sheet.png")
    assert result.code == 0, result.err
    done = result.events[-1]
    assert done["frames"] == [2, 6, 10, 14, 18, 22]
    sheet = read_png(tmp_path / "sheet.png")
    save_png(sheet, tmp_path / "sheet-view.png")
    # 3 columns x 2 rows of 160x96 thumbnails, 8 px gaps, 26 px label bands.
    assert sheet.shape == (2 * (96 + 26 + 8) + 8, 3 * (160 + 8) + 8, 3)
    label_band = sheet[8 + 96 : 8 + 96 + 26, 8 : 8 + 160]
    assert np.count_nonzero(label_band.min(axis=2) > 150) > 20  # a timestamp is written there
    thumb = sheet[8 : 8 + 96, 8 : 8 + 160]
    board = thumb[80:96, 0:30]  # transparent background shows the checkerboard
    assert set(np.unique(board[..., 0])) <= {153, 204} and len(np.unique(board[..., 0])) == 2


def test_cjk_text_draws_with_a_font_that_has_the_glyphs(project, vbr, redness_model, tmp_path):
    from helpers import make_font

    # 日 as a tall bar on the left half of its cell, 本 as a wide bar at the bottom.
    make_font(tmp_path / "cjk.ttf", {"日": (100, 0, 450, 800), "本": (100, 0, 900, 300)})
    overlay = "text:\n  - {text: '日本', font: cjk.ttf, size: 40, position: {x: 0.1, y: 0.1}}\n"
    path = project(body(redness_model, overlay))
    image = preview(vbr, path, "0", tmp_path / "p.png")
    save_png(image, tmp_path / "cjk-view.png")
    white = image[..., :3].min(axis=2) > 200
    # 日: x 16+4 .. 16+18, rows from the baseline up 32 px; 本: x 16+44 .. 16+76, 12 px tall.
    assert white[15:35, 22:30].all()
    assert white[40:44, 62:88].all()
    assert not white[15:30, 62:88].any()  # 本's bar is low, nothing drawn above it
