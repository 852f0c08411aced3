"""The quality benchmark: its metrics on arrays with known answers, its ground truth, and a quick run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from math import pi, sqrt
from pathlib import Path

import numpy as np
import pytest

from renderer.bench.__main__ import main
from renderer.bench.groundtruth import (
    VEIL_ALPHA, Pose, Truth, composite_source, creature, default_shots, make_clip, render_subject,
)
from renderer.bench.metrics import Scores, dilate, edge_band, iou, mad, temporal_error
from renderer.bench.quality import still_matte_dtssd


# --- metrics ---------------------------------------------------------------------------------------------------------

def test_iou_thresholds_at_one_half():
    alpha = np.array([[0.6, 0.4], [0.9, 0.0]])
    truth = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert iou(alpha, truth) == pytest.approx(1 / 3)  # both: (0,0); either: (0,0), (0,1), (1,0)
    assert iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    assert iou(np.full((2, 2), 0.5), np.ones((2, 2))) == 0.0  # 0.5 is not > 0.5


def test_mad_is_the_mean_absolute_difference():
    assert mad(np.array([[0.0, 1.0], [0.5, 0.25]]), np.array([[1.0, 1.0], [0.0, 0.25]])) == pytest.approx(1.5 / 4)


def test_dilation_is_a_disc_of_the_radius():
    mask = np.zeros((25, 31), bool)
    mask[12, 15] = True
    mask[0, 0] = True  # at the border: clipped, not wrapped
    grown = dilate(mask, 3)
    ys, xs = np.mgrid[:25, :31]
    expected = ((ys - 12) ** 2 + (xs - 15) ** 2 <= 9) | (ys**2 + xs**2 <= 9)
    assert (grown == expected).all()
    assert np.count_nonzero(grown[6:19, 9:22]) == 29  # lattice points in a disc of radius 3


def test_the_edge_band_is_the_soft_truth_widened():
    truth = np.zeros((30, 30))
    truth[:, 15:] = 1  # a hard edge: no soft pixel, no band
    assert not edge_band(truth, 10).any()
    truth[:, 15] = 0.5
    band = edge_band(truth, 10)
    assert band[:, 5:26].all() and not band[:, :5].any() and not band[:, 26:].any()


def test_temporal_error_compares_changes_not_values():
    previous, alpha = np.array([0.0, 0.0]), np.array([1.0, 0.5])
    truth_previous, truth = np.array([0.0, 0.0]), np.array([1.0, 0.0])
    assert temporal_error(alpha, previous, truth, truth_previous) == pytest.approx(sqrt(0.25 / 2))
    # A matte that is wrong by the same amount every frame does not flicker.
    assert temporal_error(alpha + 0.2, previous + 0.2, alpha, previous) == pytest.approx(0)


def test_dtssd_skips_the_pair_across_a_cut():
    scores = Scores(shots=(0, 2))
    band = np.ones((1, 2), bool)
    truth = [np.zeros((1, 2)), np.zeros((1, 2)), np.ones((1, 2)), np.ones((1, 2))]
    alpha = [np.zeros((1, 2)), np.full((1, 2), 0.1), np.zeros((1, 2)), np.zeros((1, 2))]
    for i in range(4):
        scores.add_matte(i, alpha[i], truth[i], band)
    # Pairs 0->1 (error 0.1) and 2->3 (0); 1->2 crosses the cut and would add sqrt(1.1^2).
    assert scores.dtssd == pytest.approx([0.1, 0.0])
    summary = scores.summary()
    assert summary["dtssd_e2"] == pytest.approx(5.0)
    assert summary["iou"] == pytest.approx(0.5)  # frames 2 and 3 miss the whole subject
    assert summary["mad_e3"] == pytest.approx((0 + 100 + 1000 + 1000) / 4)
    # Both scored pairs have a truth that holds still, so both count as flicker.
    assert summary["dtssd_still_e2"] == pytest.approx(5.0)


def test_still_dtssd_counts_only_pairs_whose_truth_holds_still():
    scores = Scores(shots=(0,))
    band = np.ones((1, 2), bool)
    truth = [np.zeros((1, 2)), np.ones((1, 2)), np.ones((1, 2))]  # moves 0 -> 1, holds 1 -> 2
    alpha = [np.zeros((1, 2)), np.full((1, 2), 0.5), np.full((1, 2), 0.8)]
    for i in range(3):
        scores.add_matte(i, alpha[i], truth[i], band)
    assert scores.dtssd == pytest.approx([0.5, 0.3])
    assert scores.dtssd_still == pytest.approx([0.3])


def test_composite_error_is_in_levels_over_the_band():
    scores = Scores(shots=(0,))
    foreground = np.array([[[200, 100, 0], [0, 0, 0]]], np.uint8)
    truth = np.array([[0.5, 0.0]])
    band = np.array([[True, False]])
    image = np.array([[[110, 60, 10], [255, 255, 255]]], np.uint8)  # the unbanded pixel is ignored
    scores.add_composite(image, foreground, truth, band, (20, 20, 20))
    # Truth: 200*.5 + 20*.5 = 110, 100*.5 + 10 = 60, 0 + 10 = 10: no error. Then 5 levels off in one channel.
    image[0, 0, 2] = 25
    scores.add_composite(image, foreground, truth, band, (20, 20, 20))
    assert scores.composite == pytest.approx([0.0, 5.0])


def test_foreground_error_is_weighted_by_the_true_alpha():
    scores = Scores(shots=(0,))
    foreground = np.array([[[100, 100, 100], [50, 50, 50]]], np.uint8)
    rgb = np.array([[[103, 103, 103], [80, 80, 80]]], np.uint8)
    truth = np.array([[0.75, 0.25]])
    scores.add_foreground(rgb, foreground, truth, np.ones((1, 2), bool))
    assert scores.foreground == pytest.approx([(3 * 0.75 + 30 * 0.25) / 1.0])
    scores.add_foreground(rgb, foreground, np.zeros((1, 2)), np.ones((1, 2), bool))  # no subject: nothing to score
    assert len(scores.foreground) == 1


# --- ground truth ----------------------------------------------------------------------------------------------------

def _eroded(mask: np.ndarray, radius: int) -> np.ndarray:
    return ~dilate(~mask, radius)


@pytest.fixture(scope="module")
def small_clip():
    colours = [(40, 120, 40), (30, 60, 160)]
    return make_clip(default_shots(12), lambda shot, i: np.full((135, 240, 3), colours[shot], np.uint8), 240, 135)


def test_the_truth_is_the_exact_description_of_the_source(small_clip):
    frames, truth = small_clip
    assert len(frames) == truth.alpha.shape[0] == 12
    assert truth.alpha.min() == 0 and truth.alpha.max() == 1
    assert ((truth.alpha >= 0) & (truth.alpha <= 1)).all()
    assert (truth.foreground[truth.alpha == 0] == 0).all()
    for i, shot in ((0, 0), (11, 1)):
        a, fg, frame = truth.alpha[i], truth.foreground[i], frames[i].astype(np.int16)
        assert (frame[a == 1] == fg[a == 1]).all()  # the subject's own (grainy) colour, exactly
        background = np.array([(40, 120, 40), (30, 60, 160)][shot], np.int16)
        grain = frame[a == 0] - background
        assert abs(grain.mean()) < 0.1 and 1.5 < grain.std() < 2.5  # fresh grain of 2 levels over the flat colour
        soft = (a > 0) & (a < 1)  # the composite, up to the background's grain
        mixed = fg[soft] * a[soft][:, None] + background * (1 - a[soft][:, None])
        assert np.abs(frame[soft] - mixed).max() <= 12
    assert (frames[0][truth.alpha[0] == 0] != frames[1][truth.alpha[0] == 0]).any()


def test_strands_are_thin_soft_and_a_veil_is_see_through():
    alpha, fg = render_subject(creature(12), Pose(480, 270, 0.1, 1.0, 0.0), 960, 540)
    present = alpha > 0
    thick = dilate(_eroded(present, 2), 2)  # an opening: what survives is at least 5 px across
    thin = present & ~thick
    assert np.count_nonzero(thin) > 2000  # strand pixels, beyond the opening
    soft = alpha[thin]
    assert np.count_nonzero((soft > 0) & (soft < 1)) > 0.8 * soft.size  # antialiased and partly transparent
    assert np.count_nonzero(soft >= 0.999) < 0.2 * soft.size
    assert np.count_nonzero(np.abs(alpha - VEIL_ALPHA) < 1e-6) > 5000  # the veil where nothing covers it
    assert (fg[present].max(axis=1) > 0).all()


def test_it_is_deterministic():
    pose = Pose(120, 70, 0.3, 0.3, 0.2)
    first, again = render_subject(creature(12), pose, 240, 135), render_subject(creature(12), pose, 240, 135)
    assert (first[0] == again[0]).all() and (first[1] == again[1]).all()


def test_the_subject_moves_within_a_shot_and_changes_at_the_cut(small_clip):
    _, truth = small_clip
    assert truth.shots == (0, 6)
    shapes = truth.alpha > 0.5

    def overlap(i: int, j: int) -> float:
        return iou(shapes[i].astype(float), shapes[j].astype(float))

    assert (truth.alpha[2] == truth.alpha[3]).all()  # it holds perfectly still mid-shot, strands and all
    assert overlap(0, 5) < 0.7  # it moves over the shot
    assert overlap(5, 6) < 0.3  # the cut: another subject elsewhere
    ys, xs = np.nonzero(shapes[0])
    ys2, xs2 = np.nonzero(shapes[5])
    assert abs(xs2.mean() - xs.mean()) > 10


def test_the_pose_turns_and_scales_the_subject():
    still = Pose(120, 70, 0.0, 0.25, 0.0)
    base = render_subject(creature(12), still, 240, 135)[0]
    turned = render_subject(creature(12), Pose(120, 70, pi / 2, 0.25, 0.0), 240, 135)[0]
    grown = render_subject(creature(12), Pose(120, 70, 0.0, 0.3, 0.0), 240, 135)[0]
    assert grown.sum() > base.sum() * 1.3
    ys, xs = np.nonzero(base > 0.5)
    ys2, xs2 = np.nonzero(turned > 0.5)
    assert np.ptp(ys) > np.ptp(xs) and np.ptp(xs2) > np.ptp(ys2)  # tall, then lying on its side


# --- end to end ------------------------------------------------------------------------------------------------------

def _write_pair(folder: Path, name: str) -> None:
    from renderer.media.image import write_still

    alpha, fg = render_subject(creature(5), Pose(80, 62, 0.2, 0.2, 0.0), 161, 123)  # odd sides: cut to even
    photo = composite_source(fg, alpha, np.full((123, 161, 3), (90, 140, 200), np.uint8))
    write_still(folder / f"{name}_rgb.png", photo)
    write_still(folder / f"{name}_alpha.png", np.repeat(np.rint(alpha * 255).astype(np.uint8)[..., None], 3, axis=2))


def test_a_quick_run_scores_every_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    _write_pair(pairs, "toy")
    out = tmp_path / "quality.json"
    assert main(["quality", "--quick", "--json", str(out), "--pairs", str(pairs)]) == 0
    printed = capsys.readouterr().out
    assert "| variant | IoU | MAD ×1e3 | edge-band ×1e3 | dtSSD ×1e2 | dtSSD still ×1e2 | composite-band (levels) |" in printed
    results = json.loads(out.read_text())
    clip = results["clip"]
    assert clip["lossless_max_error"] <= 1 and clip["decoded_frames"] == clip["frames"]
    assert clip["cuts_before"] and 0 < clip["cuts_before"][0] < clip["frames"]
    rows = {row["variant"]: row for row in results["variants"]}
    ran = [row for row in rows.values() if "skipped" not in row]
    own_model = [row for row in ran if row["variant"] == "model: u2netp-int8"]
    assert len(own_model) == 1 and 0 < own_model[0]["inferred_frames"] <= clip["frames"]  # another model: its own masks
    # every other variant shares u2netp's masks: the clip is inferred once between them
    assert sum(row["inferred_frames"] for row in ran if row not in own_model) == clip["frames"]
    for row in ran:
        assert 0 < row["iou"] <= 1 and 0 < row["mad_e3"] < 1000 and 0 < row["edge_band_e3"] < 1000
        assert 0 < row["dtssd_e2"] < 100 and 0 < row["composite_band_levels"] < 255
        assert f"| {row['variant']}" in printed
    defaults, per_frame = rows["defaults"], rows["ema_alpha: 1 (per frame, as before)"]
    keys = ("mad_e3", "edge_band_e3", "dtssd_e2", "composite_band_levels")
    assert [defaults[k] for k in keys] != [per_frame[k] for k in keys]
    assert results["references"]["true alpha, source colours"]["composite_band_levels"] > 0
    assert 0 < results["still_matte_dtssd_e2"] < 100 and "a matte that never changes" in printed
    toy = results["pairs"]["per_pair"]["toy"]
    assert toy[0]["variant"] == "defaults" and toy[0]["inferred_frames"] == 1
    assert 0 <= toy[0]["iou"] <= 1 and toy[0]["dtssd_e2"] is None  # one frame: no temporal score
    assert "Image + alpha pairs (1, means" in printed


def test_still_matte_dtssd_is_the_truths_own_change():
    """A matte that never changes scores the truth's change: per frame sqrt(mean(dg^2)), never across a cut."""
    alpha = np.zeros((4, 2, 2), np.float32)
    alpha[1] = 1  # frame 0 -> 1: every pixel changes by 1, term 1
    alpha[2, 1] = 0.5  # 1 -> 2: half the pixels change by 1, half by 0.5, term sqrt((1 + 0.25) / 2)
    alpha[3] = 1  # after the cut before frame 3: not scored
    truth = Truth(alpha, np.zeros((4, 2, 2, 3), np.uint8), (0, 3))
    assert still_matte_dtssd(truth) == pytest.approx(100 * (1 + np.sqrt(1.25 / 2)) / 2, abs=1e-3)


def test_pairs_folder_without_pairs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "lonely_rgb.png").write_bytes(b"")  # no alpha beside it
    assert main(["quality", "--quick", "--pairs", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"--pairs {tmp_path}: no NAME_rgb.png with a NAME_alpha.png beside it"


@pytest.mark.parametrize(("argv", "usage"), [
    ([], "python -m renderer.bench [speed]"),
    (["speed"], "python -m renderer.bench [speed]"),
    (["quality"], "python -m renderer.bench quality"),
])
def test_the_entry_point_picks_the_benchmark(argv: list[str], usage: str):
    command = [sys.executable, "-m", "renderer.bench", *argv, "--help"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stdout.startswith(f"usage: {usage}")
