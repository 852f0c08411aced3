"""background: {type: video}: which clip frame each output frame shows, fitting, audio, validation, caching."""

from __future__ import annotations

from fractions import Fraction
from math import ceil
from pathlib import Path

import numpy as np
import pytest

from helpers import read_audio, read_video, save_png, write_frames
from renderer import api

BODY = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: video, video: {video}{extra}}}
export: {{path: {out}{export}}}
"""

SHADES = 11  # a clip's frame i is solid blue 30 + 20 i: its index survives any codec


def shade(i: int) -> tuple[int, int, int]:
    return (0, 0, 30 + 20 * i)


def shown(image: np.ndarray) -> int:
    """Which clip frame a picture shows, from a corner the subject never reaches."""
    return round((float(image[88:94, 148:156, 2].mean()) - 30) / 20)


def make_background(
    path: Path,
    frames: int,
    *,
    fps: int = 25,
    size: tuple[int, int] = (160, 96),
    bands: bool = False,
    tone: float | None = None,
) -> Path:
    """Frame i solid `shade(i)` (or, with `bands`, three horizontal bands), lossless 4:4:4; `tone`: a loud 1 kHz track."""
    width, height = size
    images = []
    for i in range(frames):
        image = np.empty((height, width, 3), np.uint8)
        image[...] = shade(i % SHADES)
        if bands:
            image[: height // 3] = YELLOW
            image[height * 2 // 3 :] = CYAN
        images.append(image)
    return write_frames(path, images, fps, tone)


YELLOW = (200, 200, 0)
CYAN = (0, 200, 200)


def expected(outputs: int, fps: Fraction, clip_frames: int, clip_fps: Fraction, start: Fraction, loop: bool) -> list[int]:
    """The README's rule, written out: the clip frame nearest start + i / fps (ties earlier), looping from `start`."""
    duration = clip_frames / clip_fps
    found = []
    for i in range(outputs):
        t = Fraction(i) / fps
        u = start + (t % (duration - start) if loop else t)
        found.append(min(max(ceil(u * clip_fps - Fraction(1, 2)), 0), clip_frames - 1))
    return found


def body(model: str, video: str = "media/bg.mp4", extra: str = "", out: str = "out/o.mp4", export: str = "") -> str:
    return BODY.format(model=model, video=video, extra=extra, out=out, export=export)


def render(path: Path) -> api.Project:
    made = api.compile(path)
    api.render(made)
    return made


def test_output_frames_show_the_clip_from_start_and_loop_back_to_start(project, redness_model, tmp_path: Path):
    make_background(_media(tmp_path) / "bg.mp4", 10)
    path = project(body(redness_model, extra=", start: 0.08"))
    made = render(path)
    video = read_video(tmp_path / "out" / "o.mp4")
    assert len(video.frames) == 25
    got = [shown(f) for f in video.frames]
    # Frames 2..9 (8 frames from 0.08 s), then from frame 2 again: the loop starts over at `start`.
    assert got == [2, 3, 4, 5, 6, 7, 8, 9] * 3 + [2]
    assert got == expected(25, made.fps, 10, Fraction(25), Fraction(2, 25), True)
    # The subject is still there, over the clip.
    assert np.abs(video.frames[0][40:60, 50:60].astype(int) - (220, 30, 30)).max() < 40


def test_without_loop_the_last_frame_is_held(project, redness_model, tmp_path: Path):
    make_background(_media(tmp_path) / "bg.mp4", 10)
    made = render(project(body(redness_model, extra=", start: 0.2, loop: false")))
    got = [shown(f) for f in read_video(tmp_path / "out" / "o.mp4").frames]
    assert got == [5, 6, 7, 8, 9] + [9] * 20
    assert got == expected(25, made.fps, 10, Fraction(25), Fraction(1, 5), False)


@pytest.mark.parametrize("clip_fps, out_fps, start", [(10, 25, "0"), (10, 15, "0.25"), (30, 25, "0.1")])
def test_a_clip_at_another_rate_is_taken_on_the_output_timeline(project, redness_model, tmp_path: Path, clip_fps, out_fps, start):
    make_background(_media(tmp_path) / "bg.mp4", 8, fps=clip_fps)
    export = "" if out_fps == 25 else f", fps: {out_fps}"
    made = render(project(body(redness_model, extra=f", start: {start}", export=export)))
    frames = read_video(tmp_path / "out" / "o.mp4").frames
    assert len(frames) == made.frames == out_fps
    assert [shown(f) for f in frames] == expected(out_fps, Fraction(out_fps), 8, Fraction(clip_fps), Fraction(start), True)


def test_a_held_or_looped_frame_is_converted_once(tmp_path: Path):
    """A one-frame clip looping (a run per output) and a clip held past its end: one array, not one per output."""
    from renderer.compose.background import fit_geometry
    from renderer.graph.timeline import clip_passes
    from renderer.media.background_video import background_frames

    fit = fit_geometry(160, 96, 80, 48, "cover")
    still = make_background(tmp_path / "still.mp4", 1)
    looped = list(background_frames(still, clip_passes(0, 6, Fraction(25), Fraction(0), Fraction(1, 25)), Fraction(25), Fraction(25), fit))
    assert len(looped) == 6 and all(p is looped[0] for p in looped) and looped[0].shape == (48, 80, 3)
    assert shown(np.pad(looped[0], ((0, 48), (0, 80), (0, 0)), mode="edge")) == 0
    short = make_background(tmp_path / "short.mp4", 3)
    held = list(background_frames(short, clip_passes(0, 8, Fraction(25), Fraction(0), None), Fraction(25), Fraction(25), fit))
    assert len(held) == 8 and len({id(p) for p in held}) == 3 and all(p is held[2] for p in held[2:])


def test_the_clips_audio_is_never_in_the_output(project, redness_model, tmp_path: Path):
    make_background(_media(tmp_path) / "bg.mp4", 25, tone=0.9)
    render(project(body(redness_model)))
    sound = read_audio(tmp_path / "out" / "o.mp4")
    assert sound is not None and sound.channels == 2
    spectrum = np.abs(np.fft.rfft(sound.samples[0]))
    freqs = np.fft.rfftfreq(sound.samples.shape[1], 1 / sound.rate)
    assert abs(freqs[spectrum.argmax()] - 440) < 5  # the source's tone
    assert spectrum[np.abs(freqs - 1000) < 20].max() < spectrum.max() / 100  # none of the clip's
    assert np.abs(sound.samples).max() < 0.5  # the source's level (0.3), not the clip's (0.9)


def test_cover_crops_and_contain_pads_a_clip_of_another_shape(project, redness_model, tmp_path: Path):
    """A 64x96 (2:3) clip of three bands behind a 160x96 output."""
    make_background(_media(tmp_path) / "bg.mp4", 3, size=(64, 96), bands=True)
    blue = shade(0)
    cover = api.preview(api.compile(project(body(redness_model, extra=", fit: cover"), name="cover.yaml")), frames=[0])
    image = cover.frames[0].image
    save_png(image, tmp_path / "cover.png")
    # Scaled to 160x240 and its middle 96 rows kept: yellow above row 8, blue, cyan from row 88.
    for (y, x), colour in {(2, 150): YELLOW, (48, 150): blue, (48, 4): blue, (94, 150): CYAN, (94, 20): CYAN}.items():
        assert np.abs(image[y, x].astype(int) - colour).max() <= 12, (y, x)
    contain = api.preview(api.compile(project(body(redness_model, extra=", fit: contain"), name="contain.yaml")), frames=[0])
    image = contain.frames[0].image
    save_png(image, tmp_path / "contain.png")
    # Unscaled, centred: columns 48..111 show it, black bars either side.
    assert not image[:, 112:].any()
    assert not image[8:, :32].any()  # left of the subject and below the source's frame counter
    for (y, x), colour in {(10, 70): YELLOW, (50, 100): blue, (92, 50): CYAN, (92, 110): CYAN}.items():
        assert np.abs(image[y, x].astype(int) - colour).max() <= 6, (y, x)


def test_previews_are_the_full_runs_frames(project, redness_model, isolated_cache, tmp_path: Path):
    """Stills, exact (every mask cached) or from a window, equal one full run's frames: 30 fps over a 25 fps source
    (source frames held twice) over a looping 10 fps clip."""
    from renderer.graph.execute import evaluate, open_cache
    from renderer.graph.stages import RunContext

    make_background(_media(tmp_path) / "bg.mp4", 6, fps=10)
    made = api.compile(project(body(redness_model, extra=", start: 0.15", export=", fps: 30").replace(
        "dedup_threshold: 0}", "dedup_threshold: 0, temporal: off}")))
    assert made.frames == 30
    cold = api.preview(made, frames=[7, 23]).frames  # no masks cached: windows around each still
    assert not any(still.exact for still in cold)
    ctx = RunContext(cache=open_cache(isolated_cache, lambda event: None))
    try:
        full = [frame.image for frame in evaluate(made.graph.frames, ctx)]
    finally:
        ctx.pipeline.stop()
    assert [shown(f) for f in full] == expected(30, Fraction(30), 6, Fraction(10), Fraction(3, 20), True)
    warm = api.preview(made, frames=[0, 7, 13, 14, 23, 29]).frames
    assert all(still.exact for still in warm)
    for still in cold + warm:
        assert np.array_equal(still.image, full[still.index]), f"frame {still.index}"


def test_rerenders_are_byte_identical_and_a_new_clip_infers_nothing(project, redness_model, tmp_path: Path):
    media = _media(tmp_path)
    make_background(media / "bg.mp4", 10)
    path = project(body(redness_model, extra=", start: 0.1"))
    first = api.render(api.compile(path))
    assert first.inferred_frames == 25
    output = tmp_path / "out" / "o.mp4"
    before = output.read_bytes()
    again = api.render(api.compile(path), force=True)
    assert again.inferred_frames == 0 and output.read_bytes() == before
    # Other bytes under the same name: a new graph key (re-encoded), the same masks.
    make_background(media / "bg.mp4", 10, fps=50)
    made = api.compile(path)
    assert made.graph.key() != first.graph_key
    changed = api.render(made)
    assert not changed.skipped and changed.inferred_frames == 0 and changed.cached_frames == 25
    assert output.read_bytes() != before
    got = [shown(f) for f in read_video(output).frames]
    assert got[:4] == [5, 7, 9, 6] and got == expected(25, made.fps, 10, Fraction(50), Fraction(1, 10), True)


def test_validation_errors_point_at_the_background(project, redness_model, vbr, tmp_path: Path, monkeypatch):
    media = _media(tmp_path)
    make_background(media / "bg.mp4", 10, size=(200, 120))
    (media / "notes.txt").write_text("not a video\n")

    def first_line(body_text: str, name: str) -> tuple[int, str]:
        result = vbr("validate", project(body_text, name=name))
        return result.code, result.err.strip().splitlines()[0]

    line = "background: {type: video, video: "
    code, err = first_line(body(redness_model, video="media/none.mp4"), "missing.yaml")
    assert code == 2 and err.startswith(f"{tmp_path / 'missing.yaml'}:4:{len(line) + 1}: background.video: no such file")
    code, err = first_line(body(redness_model, video="media/notes.txt"), "text.yaml")
    assert code == 1 and err.startswith(f"{tmp_path / 'text.yaml'}:4:{len(line) + 1}: {media / 'notes.txt'}: ")
    code, err = first_line(body(redness_model, extra=", start: 0.4"), "late.yaml")  # the clip lasts 0.4 s
    assert code == 2
    assert err == f"{tmp_path / 'late.yaml'}:4:{len(line) + len('media/bg.mp4, start: ') + 1}: " \
        "background.start 00:00.400 is at or past the end of the clip (00:00.400)"
    monkeypatch.setenv("VBR_MAX_FRAME_SIZE", "180")  # the source is 160x96, the clip 200x120
    code, err = first_line(body(redness_model), "large.yaml")
    assert code == 2 and err.startswith(f"{tmp_path / 'large.yaml'}:4:{len(line) + 1}: background.video: 200x120 frames")
    monkeypatch.delenv("VBR_MAX_FRAME_SIZE")
    code, err = first_line(body(redness_model, out="media/bg.mp4"), "over.yaml")
    assert code == 2 and "export.path is the background video" in err
    assert vbr("validate", project(body(redness_model, extra=", start: 0.36"), name="fine.yaml")).code == 0


def test_the_clip_travels_with_a_batch_row(project, redness_model, tmp_path: Path):
    """Rows pick the clip through a path variable; it is an input no row may overwrite; Ray ships it by content."""
    from renderer.batch.shipping import graph_inputs, relocate
    from renderer.graph.nodes import BackgroundVideo

    media = _media(tmp_path)
    make_background(media / "a.mp4", 10)
    make_background(media / "b.mp4", 10, fps=50)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "one.mp4").write_bytes((media / "b.mp4").read_bytes())
    template = project(
        "version: 1\nvars:\n  name: {type: string}\n  bg: {type: path}\n"
        + body(redness_model, video='"${bg}"', out='"out/${name}.mp4"').removeprefix("version: 1\n"),
        name="t.yaml",
    )
    rows = tmp_path / "rows.csv"
    rows.write_text("name,bg\none,media/a.mp4\ntwo,media/b.mp4\nthree,out/one.mp4\n")
    planned = api.plan_batch(template, rows)
    (failed,) = planned.failures
    assert failed.row == 2 and "would overwrite the background video of line 4" in failed.message
    assert [job.row for job in planned.jobs] == [3, 4]
    clips = [job.graph.frames.find(BackgroundVideo) for job in planned.jobs]
    assert [Path(c.path).name for c in clips] == ["b.mp4", "one.mp4"] and clips[0].sha256 == clips[1].sha256
    done = api.run_batch(planned)
    assert (done.rendered, done.failed) == (2, 1)
    assert [shown(f) for f in read_video(tmp_path / "out" / "two.mp4").frames][:7] == [0, 2, 4, 6, 8, 0, 2]
    graph = planned.jobs[0].graph
    shipped = {item.sha256: item.path for item in graph_inputs(graph)}
    assert shipped[clips[0].sha256] == media / "b.mp4"
    copy = tmp_path / "copy.mp4"
    copy.write_bytes((media / "b.mp4").read_bytes())
    moved = relocate(graph, {**shipped, clips[0].sha256: copy}, tmp_path / "elsewhere" / "two.mp4")
    assert moved.key() == graph.key() and moved.frames.find(BackgroundVideo).path == str(copy)


def _media(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir(exist_ok=True)
    return media
