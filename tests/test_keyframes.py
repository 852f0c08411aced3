"""model.keyframes: only every N-th frame (and each cut) is inferred, the matte carried by motion between."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import renderer
from helpers import GREEN, RED, read_video, write_frames
from renderer.graph.execute import evaluate, open_cache
from renderer.graph.stages import RunContext

BODY = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0, keyframes: {keyframes}}}
trim: {{start: 0, end: {end}}}
background: {{type: transparent}}
export: {{path: out/{name}.webm}}
"""

SIDE, STEP, LEFT, TOP = 48, 10, 30, 24  # the square, how far it moves each frame, where it starts


def _moving_square(path: Path, frames: int = 20) -> Path:
    """A red square moving STEP px right each frame over green, 320x96, lossless."""
    images = []
    for i in range(frames):
        image = np.empty((96, 320, 3), np.uint8)
        image[...] = GREEN
        image[TOP : TOP + SIDE, LEFT + STEP * i : LEFT + STEP * i + SIDE] = RED
        images.append(image)
    return write_frames(path, images)


def _compiled(project, source: Path, model: str, keyframes: int, end: float = 0.8, name: str = "o") -> renderer.Project:
    body = BODY.format(model=model, keyframes=keyframes, end=end, name=name)
    return renderer.compile(project(body, name=f"{name}-{keyframes}-{end}.yaml", source=source))


def _alpha(project: renderer.Project) -> list[np.ndarray]:
    return [frame[..., 3] for frame in read_video(Path(project.graph.path)).frames]


@pytest.fixture
def square(tmp_path: Path) -> Path:
    return _moving_square(tmp_path / "square.mp4")


def test_keyframes_2_infers_every_other_frame_and_the_matte_follows_the_square(project, redness_model, square):
    every = _compiled(project, square, redness_model, 1, name="every")
    assert renderer.render(every).inferred_frames == 20
    halved = _compiled(project, square, redness_model, 2, name="halved")
    done = renderer.render(halved)
    assert (done.inferred_frames, done.cached_frames) == (0, 10)  # frames 0, 2, ..., 18: the first render's masks
    alpha, truth = _alpha(halved), _alpha(every)
    assert len(alpha) == 20
    for i in range(1, 20, 2):  # carried frames: the square moved 10 px since its keyframe
        x = LEFT + STEP * i
        rows = slice(TOP + 8, TOP + SIDE - 8)
        leading, left_behind = alpha[i][rows, x + SIDE - 8 : x + SIDE - 2], alpha[i][rows, x - 8 : x - 2]
        assert leading.mean() > 160, f"frame {i}: the square's new leading edge is not opaque"
        assert left_behind.mean() < 96, f"frame {i}: the place it left is not clear"
        assert np.abs(alpha[i].astype(int) - truth[i]).mean() < 6  # close to the frame's own matte
    for i in range(0, 20, 2):  # keyframes: the model's own matte (the filter and the codec see other neighbours)
        assert np.abs(alpha[i].astype(int) - truth[i]).mean() < 2


def test_a_cut_forces_a_keyframe(project, redness_model, tmp_path):
    """Keyframes 4: 0, 4, 8, then the cut at 9 starts again: 9, 13, 17."""
    before = np.empty((96, 160, 3), np.uint8)
    before[...] = GREEN
    before[24:72, 16:64] = RED
    after = np.empty((96, 160, 3), np.uint8)
    after[...] = (10, 120, 40)
    after[:, (np.arange(160) // 6) % 2 == 0] = (20, 70, 20)
    after[24:72, 100:148] = RED
    source = write_frames(tmp_path / "cut.mp4", [before] * 9 + [after] * 11)
    made = _compiled(project, source, redness_model, 4)
    assert renderer.render(made).inferred_frames == 6
    alpha = _alpha(made)
    for i in range(9, 12):  # the new shot's own matte from its first frame, not the old one carried
        assert alpha[i][30:66, 106:142].min() > 200 and alpha[i][30:66, 22:58].max() < 40


def test_stills_are_the_full_render_frame_for_frame(project, redness_model, square, isolated_cache):
    made = _compiled(project, square, redness_model, 3)
    ctx = RunContext(cache=open_cache(isolated_cache, lambda event: None))
    try:
        full = [frame.image for frame in evaluate(made.graph.frames, ctx)]
    finally:
        ctx.pipeline.stop()
    assert ctx.counts.inferred == 7 and ctx.counts.carried == 13
    stills = renderer.preview(made, frames=[0, 1, 5, 13, 19]).frames
    for still in stills:
        assert np.array_equal(still.image, full[still.index]), f"frame {still.index}"


def test_a_re_render_is_byte_identical(project, redness_model, square):
    made = _compiled(project, square, redness_model, 2)
    cold = renderer.render(made)
    first = hashlib.sha256(Path(made.graph.path).read_bytes()).hexdigest()
    warm = renderer.render(made, force=True)
    assert (cold.inferred_frames, warm.inferred_frames, warm.cached_frames) == (10, 0, 10)
    assert hashlib.sha256(Path(made.graph.path).read_bytes()).hexdigest() == first


def test_plan_counts_keyframes_and_a_new_interval_reuses_cached_keyframe_masks(project, redness_model, square):
    two = _compiled(project, square, redness_model, 2)
    cold = renderer.plan(two)
    assert (cold.to_infer, cold.exact) == (20, False)  # no decisions cached yet: every frame, at most
    assert renderer.render(two).inferred_frames == 10
    warm = renderer.plan(two)
    assert (warm.to_infer, warm.exact, warm.masks_cached) == (0, True, 10)
    assert renderer.plan(_compiled(project, square, redness_model, 2, end=0.4)).to_infer == 0

    three = _compiled(project, square, redness_model, 3)
    assert three.graph.key() != two.graph.key()
    bound = renderer.plan(three)
    assert bound.exact is False and bound.to_infer == 10  # the odd frames, if each were a keyframe
    done = renderer.render(three)  # keyframes 0, 3, ..., 18: 0, 6, 12, 18 are cached
    assert (done.inferred_frames, done.cached_frames) == (3, 4)
    after = renderer.plan(three)
    assert (after.to_infer, after.exact, after.masks_cached) == (0, True, 7)
