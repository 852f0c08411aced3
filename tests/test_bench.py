"""The benchmark runs end to end in quick mode (it asserts nothing about time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderer import bench


def test_quick_benchmark_reports_every_ratio(tmp_path: Path):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["frames"] == 10 and results["inferred_frames"] == 10
    assert results["warm_inferred_frames"] == 0
    for key in ("cold_seconds", "warm_seconds", "codec_floor_seconds", "inference_ms_per_frame"):
        assert results[key] > 0
    # Ratios come from unrounded seconds: equal to the printed ones up to rounding.
    assert results["cold_over_warm"] == pytest.approx(results["cold_seconds"] / results["warm_seconds"], rel=0.02)
    assert results["warm_over_floor"] == pytest.approx(results["warm_seconds"] / results["codec_floor_seconds"], rel=0.02)
