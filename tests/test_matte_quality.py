"""The matte after the cache: temporal filter and cuts, edge refinement, keyer controls, foreground colours.

Stills come from `vbr preview` (PNG: lossless, so alpha and colours are exact),
renders from `vbr render`; the tiny test model makes red opaque and green clear.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import GREEN, RED, read_video, write_frames

PROJECT = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0{temporal}}}
background: {background}
matte: {matte}
export: {{path: out/o.webm, audio: false}}
"""


def body(model: str, matte: str = "{}", temporal: str = "", background: str = "{type: transparent}") -> str:
    return PROJECT.format(model=model, matte=matte, temporal=temporal, background=background)


def still(vbr, path: Path, out: Path, at: str = "0") -> np.ndarray:
    result = vbr("preview", path, "--at", at, "-o", out)
    assert result.code == 0, result.err
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgba" if "a" in frame.format.name else "rgb24")


def test_every_setting_after_the_cache_infers_nothing_and_changes_the_output(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model))
    first = vbr("render", "--json", path)
    assert first.code == 0, first.err
    assert first.events[-1]["inferred_frames"] == 25
    digests = {hashlib.sha256((tmp_path / "out" / "o.webm").read_bytes()).hexdigest()}
    variants = [
        ("{refine: guided}", ""), ("{foreground: estimate}", ""), ("{choke: 2}", ""), ("{choke: -2}", ""),
        ("{feather: 3}", ""), ("{black: 0.2, white: 0.8}", ""), ("{}", ", temporal: ema"), ("{}", ", temporal: off"),
    ]
    for matte, temporal in variants:
        path.write_text(body(redness_model, matte, temporal), encoding="utf-8")
        result = vbr("render", "--json", path)
        assert result.code == 0, result.err
        assert result.events[-1]["inferred_frames"] == 0, (matte, temporal)
        digests.add(hashlib.sha256((tmp_path / "out" / "o.webm").read_bytes()).hexdigest())
    assert len(digests) == len(variants) + 1  # each setting does something


def test_every_stage_on_gives_the_same_bytes_run_to_run(project, vbr, redness_model, tmp_path):
    matte = "{refine: guided, foreground: estimate, black: 0.05, white: 0.95, choke: 1, feather: 1.5}"
    path = project(body(redness_model, matte, background="{type: color, color: '#3060a0'}").replace("o.webm", "o.mp4"))
    digests = []
    for cache in ("one", "two", "one"):
        result = vbr("render", "--json", "--force", "--cache-dir", tmp_path / cache, path)
        assert result.code == 0, result.err
        digests.append(hashlib.sha256((tmp_path / "out" / "o.mp4").read_bytes()).hexdigest())
    assert digests[0] == digests[1] == digests[2]


def test_plan_shows_the_matte_stages(project, vbr, redness_model):
    path = project(body(redness_model, "{foreground: estimate}"))
    result = vbr("plan", "--json", path)
    assert result.code == 0, result.err
    stages = [node["stage"] for node in result.events[-1]["nodes"]]
    assert stages.index("matte") < stages.index("scale") < stages.index("refine") < stages.index("foreground") < stages.index("composite")
    path.write_text(body(redness_model), encoding="utf-8")  # the default takes the source's colours: no stage
    assert "foreground" not in [node["stage"] for node in vbr("plan", "--json", path).events[-1]["nodes"]]


# --- foreground colours ---------------------------------------------------------------------


def _soft_square_clip(path: Path, frames: int = 3, ramp: int = 12) -> Path:
    """A red square whose edge blends into the green field over `ramp` pixels, as a soft subject edge does."""
    width, height = 320, 192
    y, x = np.mgrid[0:height, 0:width]
    inside = np.minimum.reduce([x - 100, 220 - x, y - 48, 144 - y]).astype(np.float64)  # distance to the edge
    t = np.clip(0.5 + inside / ramp, 0, 1)[..., None]  # 1 in the subject, 0 in the field
    image = np.rint(t * np.array(RED) + (1 - t) * np.array(GREEN)).astype(np.uint8)
    return write_frames(path, [image] * frames)


def test_estimated_foreground_keeps_the_old_background_out_of_soft_edges(project, vbr, redness_model, tmp_path):
    """In the blend the source pixels are part green; the straight colour written with the alpha should be red."""
    path = project(body(redness_model, "{foreground: source}"), source=_soft_square_clip(tmp_path / "soft.mp4"))
    source = still(vbr, path, tmp_path / "source.png").astype(int)
    path.write_text(body(redness_model, "{foreground: estimate}"), encoding="utf-8")
    estimated = still(vbr, path, tmp_path / "estimated.png").astype(int)
    alpha = estimated[..., 3]
    assert np.array_equal(alpha, source[..., 3])  # colours only: the matte is the same
    soft = (alpha >= 32) & (alpha < 224)
    assert soft.sum() > 200
    greenness = lambda image: (image[..., 1] - image[..., 0])[soft].mean()  # noqa: E731
    assert greenness(source) > -120  # the blend holds a good share of the old green
    assert greenness(estimated) < greenness(source) - 60  # the estimate leaves little of it
    opaque = alpha == 255
    assert np.array_equal(estimated[opaque], source[opaque])  # untouched where fully subject


def test_estimated_foreground_over_a_colour_has_less_green_fringe(project, vbr, redness_model, tmp_path):
    background = "{type: color, color: '#0000ff'}"
    path = project(body(redness_model, "{foreground: source}"), source=_soft_square_clip(tmp_path / "soft.mp4"))
    alpha = still(vbr, path, tmp_path / "alpha.png")[..., 3]
    path.write_text(body(redness_model, "{foreground: source}", background=background), encoding="utf-8")
    plain = still(vbr, path, tmp_path / "plain.png").astype(int)
    path.write_text(body(redness_model, "{foreground: estimate}", background=background), encoding="utf-8")
    clean = still(vbr, path, tmp_path / "clean.png").astype(int)
    soft = (alpha >= 32) & (alpha < 224)
    # Over blue, any green at the edge is the old field showing through.
    assert clean[..., 1][soft].mean() < 0.75 * plain[..., 1][soft].mean()  # measured: 27 against 42
    solid = alpha == 255
    assert np.array_equal(clean[solid], plain[solid])


# --- keyer controls -------------------------------------------------------------------------------


def _alpha(vbr, path: Path, model: str, matte: str, out: Path) -> np.ndarray:
    path.write_text(body(model, matte), encoding="utf-8")
    return still(vbr, path, out)[..., 3]


def test_choke_feather_and_levels_act_on_the_output_alpha(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model))
    base = _alpha(vbr, path, redness_model, "{}", tmp_path / "base.png")
    shrunk = _alpha(vbr, path, redness_model, "{choke: 3}", tmp_path / "shrunk.png")
    grown = _alpha(vbr, path, redness_model, "{choke: -3}", tmp_path / "grown.png")
    soft = _alpha(vbr, path, redness_model, "{feather: 4}", tmp_path / "soft.png")
    clipped = _alpha(vbr, path, redness_model, "{black: 0.3, white: 0.7}", tmp_path / "clipped.png")

    def area(a: np.ndarray) -> int:
        return int(np.count_nonzero(a > 127))

    def partial(a: np.ndarray) -> int:
        return int(np.count_nonzero((a > 0) & (a < 255)))

    assert area(shrunk) < area(base) < area(grown)
    assert np.all(shrunk <= base) and np.all(grown >= base)  # erosion and dilation never cross
    assert partial(soft) > 1.5 * partial(base)
    assert partial(clipped) < partial(base)
    assert np.all(clipped[base <= 0.3 * 255] == 0) and np.all(clipped[base >= 0.7 * 255] == 255)


# --- temporal filter and cuts ---------------------------------------------------------------------


def _clip_with_a_cut(path: Path, frames: int = 20, cut: int = 10) -> Path:
    """A red square on green at the left, then (a new shot) on dark green stripes at the right."""
    width, height = 160, 96
    before = np.empty((height, width, 3), np.uint8)
    before[...] = GREEN
    before[24:72, 16:64] = RED
    after = np.empty((height, width, 3), np.uint8)
    after[...] = (10, 120, 40)
    after[:, (np.arange(width) // 6) % 2 == 0] = (20, 70, 20)
    after[24:72, 100:148] = RED
    return write_frames(path, [before] * cut + [after] * (frames - cut))


OLD_PLACE = (slice(30, 66), slice(22, 58))  # inside the square before the cut
NEW_PLACE = (slice(30, 66), slice(106, 142))  # inside it after the cut


@pytest.mark.parametrize("temporal", ["ema", "adaptive"])
def test_a_scene_cut_resets_the_filter(project, vbr, redness_model, tmp_path, temporal):
    source = _clip_with_a_cut(tmp_path / "cut.mp4")
    path = project(body(redness_model, temporal=", temporal: off"), source=source)
    per_frame = still(vbr, path, tmp_path / "off.png", at="0.4")[..., 3]  # frame 10, the new shot's first
    assert per_frame[OLD_PLACE].max() < 16 and per_frame[NEW_PLACE].min() == 255
    path.write_text(body(redness_model, temporal=f", temporal: {temporal}, ema_alpha: 0.3"), encoding="utf-8")
    after_cut = still(vbr, path, tmp_path / "reset.png", at="0.4")[..., 3]
    assert np.array_equal(after_cut, per_frame)  # the new shot starts from its own matte
    path.write_text(body(redness_model, temporal=f", temporal: {temporal}, ema_alpha: 0.3, cut_threshold: 1"), encoding="utf-8")
    blind = still(vbr, path, tmp_path / "blind.png", at="0.4")[..., 3]
    assert not np.array_equal(blind, per_frame)  # without cut detection the old shot leaks into the new
    if temporal == "ema":  # the old subject lingers as a ghost and the new one fades in
        assert blind[OLD_PLACE].mean() > 150 and blind[NEW_PLACE].mean() < 100


def test_adaptive_follows_motion_that_the_ema_drags(project, vbr, redness_model, tmp_path, clip):
    """The test clip's square moves 2 px a frame: the EMA leaves a trail behind it, adaptive much less."""
    trails = {}
    for temporal in ("off", "ema", "adaptive"):
        path = project(body(redness_model, temporal=f", temporal: {temporal}" + (", ema_alpha: 0.3" if temporal != "off" else "")))
        trails[temporal] = still(vbr, path, tmp_path / f"{temporal}.png", at="0.6")[..., 3].astype(int)
    error_ema = np.abs(trails["ema"] - trails["off"]).sum()
    error_adaptive = np.abs(trails["adaptive"] - trails["off"]).sum()
    assert error_ema > 0 and error_adaptive < 0.5 * error_ema


# --- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,expected",
    [
        ("matte: {black: 0.6, white: 0.4}\n", "7:28: matte.white (0.4) must be above matte.black (0.6)"),
        ("matte: {choke: 60}\n", "7:16: matte.choke: 60 is above the maximum, 50"),
        ("matte: {feather: -1}\n", "7:18: matte.feather: -1 is below the minimum, 0"),
        ("matte: {refine: sharp}\n", "7:17: matte.refine: 'sharp' is not one of: guided, bilinear"),
        ("model: {temporal: off, ema_alpha: 0.5}\n", "7:35: model.ema_alpha has no effect with temporal: off"),
        ("model: {temporal: smooth}\n", "7:19: model.temporal:"),
    ],
)
def test_matte_settings_are_validated_at_their_position(project, vbr, extra, expected):
    path = project("version: 1\nsource: media/clip.mp4\nexport: {path: o.webm}\n\n\n\n" + extra)
    result = vbr("validate", path)
    assert result.code == 2
    assert f"{path}:{expected}" in result.err, result.err


def test_a_project_from_before_temporal_modes_keeps_its_ema(project, vbr, redness_model, tmp_path):
    """`ema_alpha` alone means what it always meant: the fixed EMA (now reset at cuts)."""
    old = project(body(redness_model, temporal=", ema_alpha: 0.5"))
    new = tmp_path / "new.yaml"
    new.write_text(body(redness_model, temporal=", temporal: ema, ema_alpha: 0.5"), encoding="utf-8")
    a = still(vbr, old, tmp_path / "old.png", at="0.6")
    b = still(vbr, new, tmp_path / "new.png", at="0.6")
    assert np.array_equal(a, b)


def test_rendered_alpha_matches_the_preview(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{refine: guided, choke: 1, feather: 1}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out" / "o.webm")
    expected = still(vbr, path, tmp_path / "f5.png", at="0.2")[..., 3].astype(int)
    assert np.abs(video.frames[5][..., 3].astype(int) - expected).mean() < 2  # VP9's alpha is lossy
