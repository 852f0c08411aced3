"""export.aspect + export.reframe on real renders: the window follows the subject, from cached masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer import api
from renderer.graph.execute import evaluate, open_cache
from renderer.graph.nodes import Reframe
from renderer.graph.stages import RunContext

from helpers import read_video, write_frames

W, H, FPS = 320, 180, 25
GREEN, RED = (0, 200, 0), (220, 0, 0)
SIDE = 40


def subject_clip(path: Path, centres: list[float], backgrounds: list[tuple[int, int, int]] | None = None, jitter: int = 0) -> Path:
    """A red square whose centre is at x = centres[i] (pixels) over green (or backgrounds[i]); lossless."""
    rng = np.random.default_rng(7)
    frames = []
    for i, cx in enumerate(centres):
        image = np.empty((H, W, 3), np.uint8)
        image[...] = backgrounds[i] if backgrounds else GREEN
        left, right = round(cx - SIDE / 2), round(cx + SIDE / 2)
        if jitter:  # the matte's edge wobbles frame to frame, as a real model's does
            left += int(rng.integers(-jitter, jitter + 1))
            right += int(rng.integers(-jitter, jitter + 1))
        image[70 : 70 + SIDE, left:right] = RED
        frames.append(image)
    return write_frames(path, frames, FPS)


def body(model: str, export: str, extra: str = "") -> str:
    return (
        f"version: 1\nsource: media/clip.mp4\nmodel: {{name: {model}, temporal: off}}\n"
        f"background: {{type: color, color: '#0000ff'}}\nexport: {{{export}}}\n{extra}"
    )


def red_centre_x(image: np.ndarray) -> float:
    red = (image[..., 0] > 150) & (image[..., 1] < 100) & (image[..., 2] < 100)
    xs = np.nonzero(red)[1]
    return float(xs.mean()) if xs.size else float("nan")


def offsets_of(made: api.Project, cache_root: Path) -> list[int]:
    """The window offset of each frame, read from the reframe stage's output in one full run."""
    seen: list[int] = []

    def tap(node, result):
        if isinstance(node, Reframe):
            def record(items):
                for item in items:
                    seen.extend([item.offset] * item.repeats)
                    yield item
            return record(result)
        return result

    ctx = RunContext(cache=open_cache(cache_root, lambda event: None))
    try:
        for _ in evaluate(made.graph.frames, ctx, tap):
            pass
    finally:
        ctx.pipeline.stop()
    return seen


def test_a_subject_moving_left_to_right_stays_in_the_middle_third_of_a_9_16_output(project, redness_model, tmp_path: Path):
    centres = [60 + 200 * i / 74 for i in range(75)]  # 3 s across most of the frame
    clip = subject_clip(tmp_path / "moving.mp4", centres)
    out = tmp_path / "out" / "v.mp4"
    done = api.render(api.compile(project(body(redness_model, "path: out/v.mp4, aspect: '9:16'", ""), source=clip)))
    assert done.frames == 75
    video = read_video(out)
    assert (video.width, video.height, len(video.frames)) == (102, 180, 75)  # 9:16 of 180 lines: 101.25, made even
    for i, frame in enumerate(video.frames):
        x = red_centre_x(frame)
        assert video.width / 3 <= x <= 2 * video.width / 3, f"frame {i}: subject at x={x:.1f} of {video.width}"


def test_center_holds_the_middle_and_the_subject_leaves_it(project, redness_model, tmp_path: Path, isolated_cache: Path):
    centres = [60 + 200 * i / 74 for i in range(75)]
    clip = subject_clip(tmp_path / "moving.mp4", centres)
    made = api.compile(project(body(redness_model, "path: out/c.mp4, aspect: '9:16', reframe: center"), source=clip))
    assert set(offsets_of(made, isolated_cache)) == {(W - 102) // 2}
    api.render(made)
    first = read_video(tmp_path / "out" / "c.mp4").frames[0]
    assert np.isnan(red_centre_x(first))  # the subject starts outside the middle window


def test_a_still_subject_with_a_wobbling_edge_gets_a_window_that_never_moves(project, redness_model, tmp_path: Path, isolated_cache: Path):
    clip = subject_clip(tmp_path / "still.mp4", [200.0] * 50, jitter=3)
    made = api.compile(project(body(redness_model, "path: out/s.mp4, aspect: '9:16'"), source=clip))
    offsets = offsets_of(made, isolated_cache)
    assert len(offsets) == 50 and len(set(offsets)) == 1
    assert abs(offsets[0] + 51 - 200) <= 0.015 * W + 1  # centred on the subject, within the dead zone


def test_at_a_scene_cut_the_window_jumps_with_the_subject(project, redness_model, tmp_path: Path, isolated_cache: Path):
    centres = [70.0] * 25 + [250.0] * 25
    backgrounds = [GREEN] * 25 + [(0, 200, 200)] * 25  # another shot: the cut detector sees it
    clip = subject_clip(tmp_path / "cut.mp4", centres, backgrounds)
    made = api.compile(project(body(redness_model, "path: out/k.mp4, aspect: '9:16'"), source=clip))
    offsets = offsets_of(made, isolated_cache)
    assert len(set(offsets[:25])) == 1 and len(set(offsets[25:])) == 1  # no glide into or out of the cut
    assert abs(offsets[0] + 51 - 70) <= 0.015 * W + 1
    assert abs(offsets[25] + 51 - 250) <= 0.015 * W + 1  # at the cut's first frame, on the new position


def test_a_new_aspect_infers_nothing_and_previews_match_the_full_run(project, redness_model, tmp_path: Path, isolated_cache: Path):
    centres = [60 + 200 * i / 49 for i in range(50)]
    clip = subject_clip(tmp_path / "moving.mp4", centres)
    wide = api.render(api.compile(project(body(redness_model, "path: out/a.mp4"), source=clip)))
    assert wide.inferred_frames > 0
    made = api.compile(project(body(redness_model, "path: out/b.mp4, aspect: '1:1'"), name="square.yaml", source=clip))
    squared = api.render(made)
    assert squared.inferred_frames == 0
    assert (read_video(tmp_path / "out" / "b.mp4").width, made.graph.height) == (180, 180)

    ctx = RunContext(cache=open_cache(isolated_cache, lambda event: None))
    try:
        full = [frame.image for frame in evaluate(made.graph.frames, ctx)]
    finally:
        ctx.pipeline.stop()
    stills = api.preview(made, frames=[0, 5, 24, 40, 49]).frames
    for still in stills:
        assert still.exact
        assert np.array_equal(still.image, full[still.index]), f"frame {still.index}"


def test_reframe_without_an_aspect_is_a_located_error(project, redness_model):
    from renderer.errors import ProjectError

    with pytest.raises(ProjectError) as bad:
        api.compile(project(body(redness_model, "path: out/x.mp4, reframe: subject")))
    assert "project.yaml:5:" in str(bad.value) and "export.reframe has no effect without export.aspect" in str(bad.value)


def test_with_temporal_off_a_cut_threshold_still_steers_the_reframe(project, redness_model):
    from renderer.errors import ProjectError

    follows = "version: 1\nsource: media/clip.mp4\nmodel: {name: %s, temporal: off, cut_threshold: 0.5}\nbackground: {type: color}\nexport: {%s}\n"
    made = api.compile(project(follows % (redness_model, "path: out/x.mp4, aspect: '9:16'")))
    assert made.graph.find(Reframe).cut_threshold == 0.5
    with pytest.raises(ProjectError) as bad:
        api.compile(project(follows % (redness_model, "path: out/x.mp4"), name="plain.yaml"))
    assert "model.cut_threshold has no effect with temporal: off" in str(bad.value)
