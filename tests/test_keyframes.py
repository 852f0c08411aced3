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


def _two_shots(path: Path, cut: int, frames: int = 20) -> Path:
    """A red square on the left over green, then from frame `cut` one on the right over striped green: a hard cut."""
    before = np.empty((96, 160, 3), np.uint8)
    before[...] = GREEN
    before[24:72, 16:64] = RED
    after = np.empty((96, 160, 3), np.uint8)
    after[...] = (10, 120, 40)
    after[:, (np.arange(160) // 6) % 2 == 0] = (20, 70, 20)
    after[24:72, 100:148] = RED
    return write_frames(path, [before] * cut + [after] * (frames - cut))


def test_a_cut_forces_a_keyframe(project, redness_model, tmp_path):
    """Keyframes 4: 0, 4, 8, then the cut at 9 starts again: 9, 13, 17."""
    source = _two_shots(tmp_path / "cut.mp4", 9)
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
    # The odd frames, if each were a keyframe, and one more: a carried frame may mix in a keyframe not shown.
    assert bound.exact is False and bound.to_infer == 11
    done = renderer.render(three)  # keyframes 0, 3, ..., 18: 0, 6, 12, 18 are cached
    assert (done.inferred_frames, done.cached_frames) == (3, 4)
    after = renderer.plan(three)
    assert (after.to_infer, after.exact, after.masks_cached) == (0, True, 7)


APPEARS = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0, keyframes: 4, temporal: "off"}}
trim: {{start: 0, end: {end}}}
background: {{type: transparent}}
export: {{path: out/appears-{end}.webm}}
"""


def _square_appears(path: Path, at: int, frames: int = 20) -> Path:
    """A still red square that appears at frame `at` (too small a change to be a cut), 320x96."""
    images = []
    for i in range(frames):
        image = np.empty((96, 320, 3), np.uint8)
        image[...] = GREEN
        if i >= at:
            image[TOP : TOP + SIDE, 136 : 136 + SIDE] = RED
        images.append(image)
    return write_frames(path, images)


def _square_level(alpha: np.ndarray) -> float:
    return float(alpha[TOP + 10 : TOP + SIDE - 10, 146 : 136 + SIDE - 10].mean())


def test_a_carried_frame_mixes_the_keyframes_before_and_after_by_nearness(project, redness_model, tmp_path):
    """Keyframes 0, 4, 8, 12, 16; the square appears at 9: frames 9, 10, 11 take 1/4, 2/4, 3/4 of frame 12's
    matte (the square) and the rest of frame 8's (none). Carried from frame 8 alone, they would show no square."""
    source = _square_appears(tmp_path / "appears.mp4", at=9)
    made = renderer.compile(project(APPEARS.format(model=redness_model, end=0.8), name="appears.yaml", source=source))
    done = renderer.render(made)
    assert (done.inferred_frames, done.carried_frames) == (5, 15)
    levels = [_square_level(alpha) for alpha in _alpha(made)]
    assert levels[8] < 8 and levels[12] > 245
    for i, share in ((9, 0.25), (10, 0.5), (11, 0.75)):
        assert abs(levels[i] - 255 * share) < 12, f"frame {i}: {levels[i]:.1f}, expected about {255 * share:.0f}"


def test_the_last_frames_look_past_the_trim_end_and_match_a_longer_render(project, redness_model, tmp_path):
    """Trimmed to 11 frames, frames 9 and 10 still mix in keyframe 12 (read past the end and inferred):
    the same alpha as the 20-frame render's."""
    source = _square_appears(tmp_path / "appears.mp4", at=9)
    short = renderer.compile(project(APPEARS.format(model=redness_model, end=0.44), name="short.yaml", source=source))
    done = renderer.render(short)
    assert done.frames == 11 and done.inferred_frames == 4  # 0, 4, 8 and 12, past the end
    long = renderer.compile(project(APPEARS.format(model=redness_model, end=0.8), name="long.yaml", source=source))
    renderer.render(long)
    short_alpha, long_alpha = _alpha(short), _alpha(long)
    assert len(short_alpha) == 11
    for i in (9, 10):
        assert abs(_square_level(short_alpha[i]) - _square_level(long_alpha[i])) < 3
    assert _square_level(short_alpha[10]) > 100
    plan = renderer.plan(short)
    assert (plan.to_infer, plan.exact) == (0, True)


def test_no_keyframe_after_a_cut_is_mixed_into_the_frames_before_it(project, redness_model, tmp_path):
    """Keyframes 4 with a cut at frame 8, which is also counted as a keyframe: frames 5-7 keep the old
    shot's matte (carried from frame 4 alone), nothing of the new shot's."""
    source = _two_shots(tmp_path / "cut8.mp4", 8)
    made = _compiled(project, source, redness_model, 4)
    assert renderer.render(made).inferred_frames == 5  # 0, 4, 8, 12, 16
    alpha = _alpha(made)
    for i in (5, 6, 7):
        assert alpha[i][30:66, 22:58].min() > 200 and alpha[i][30:66, 106:142].max() < 40, f"frame {i}"
