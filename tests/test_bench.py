"""The benchmark runs end to end in quick mode (it asserts nothing about time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderer.bench import speed as bench


def test_quick_benchmark_reports_every_ratio(tmp_path: Path):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["frames"] == 5 and results["inferred_frames"] == 5
    assert results["warm_inferred_frames"] == 0
    for key in ("cold_seconds", "warm_seconds", "codec_floor_seconds", "inference_ms_per_frame", "peak_rss_mb", "peak_rss_mb_long"):
        assert results[key] > 0
    assert results["rss_long_over_short"] == pytest.approx(results["peak_rss_mb_long"] / results["peak_rss_mb"], rel=0.02)
    # Ratios come from unrounded seconds: equal to the printed ones up to rounding.
    assert results["cold_over_warm"] == pytest.approx(results["cold_seconds"] / results["warm_seconds"], rel=0.02)
    assert results["warm_over_floor"] == pytest.approx(results["warm_seconds"] / results["codec_floor_seconds"], rel=0.02)
    assert results["video_bg_over_color"] == pytest.approx(
        results["warm_720p_video_bg_seconds"] / results["warm_720p_color_bg_seconds"], rel=0.02
    )
    assert results["video_bg_over_floor"] == pytest.approx(
        results["warm_720p_video_bg_seconds"] / results["codec_floor_720p_seconds"], rel=0.02
    )
    assert results["video_bg_clip_alone_seconds"] > 0
    # float against int8 in the same run: speed from the same frames, IoU against the made-up footage's truth
    assert results["int8_speedup"] == pytest.approx(
        results["float_inference_ms_per_frame_same_run"] / results["int8_inference_ms_per_frame"], rel=0.02
    )
    assert results["int8_iou_delta"] == pytest.approx(results["int8_iou_vs_truth"] - results["float_iou_vs_truth"], abs=2e-4)
    assert 0 < results["int8_iou_vs_truth"] <= 1 and results["cold_int8_fps"] > 0


def test_the_looped_clip_is_ten_times_as_long_and_plays(tmp_path: Path):
    from renderer.media.probe import probe

    looped = bench._looped(bench.SAMPLE, 2.0, tmp_path / "looped.mp4")
    source, long = probe(bench.SAMPLE), probe(looped)
    assert long.duration >= 2.0 and long.duration >= 2 * source.duration * 0.99
    assert (long.width, long.height, long.fps) == (source.width, source.height, source.fps)


def test_quick_long_render_reports_memory_at_every_mark(tmp_path: Path):
    from renderer.bench import long

    out = tmp_path / "long.json"
    assert long.main(["--quick", "--work", str(tmp_path / "work"), "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["source-320x180-30fps-2s-v1.mp4"]  # kept; renders and caches not
    for fmt in ("mp4", "webm"):
        assert results[f"{fmt}_frames"] == 60 and results[f"{fmt}_inferred_frames"] > 0  # a cold render: the model ran
        assert results[f"{fmt}_fps"] == pytest.approx(60 / results[f"{fmt}_seconds"], rel=0.1)
        marks = [results[f"{fmt}_rss_mb_at_{mark}"] for mark in (10, 50, 90)]
        assert all(0 < rss <= results[f"{fmt}_peak_rss_mb"] for rss in marks)
        assert results[f"{fmt}_growth_10_to_90_percent"] == pytest.approx(100 * (marks[2] - marks[0]) / marks[0], abs=0.1)
        assert results[f"{fmt}_peak_under_1gb"] == (results[f"{fmt}_peak_rss_mb"] < 1000)
        assert results[f"{fmt}_output_mb"] > 0
