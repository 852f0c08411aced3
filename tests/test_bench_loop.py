"""`python -m renderer.bench loop --quick` runs the plain loop and the four vbr renders end to end (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import read_video

from renderer.bench import loop


def test_quick_loop_benchmark_writes_a_transparent_webm_and_every_ratio(tmp_path: Path):
    out, work = tmp_path / "loop.json", tmp_path / "work"
    child = subprocess.run(
        [sys.executable, "-m", "renderer.bench", "loop", "--quick", "--out", str(work), "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert child.returncode == 0, child.stderr
    results = json.loads(out.read_text())
    frames = round(loop.QUICK_SECONDS * 25)  # the sample is 25 fps
    assert results["frames"] == frames

    video = read_video(work / "loop.webm")
    assert (video.codec, video.pix_fmt) == ("vp9", "yuva420p")
    assert len(video.frames) == frames
    assert (video.width, video.height) == (854, 480)  # 480p at the sample's 16:9, as vbr's export
    alpha = np.stack([f[..., 3] for f in video.frames])
    assert alpha.min() < 64 and alpha.max() > 192 and alpha.std() > 10  # a matte, not a constant plane

    # vbr wrote the same frames at the same size; keyframes halve the model runs.
    default = read_video(work / "vbr-defaults.webm")
    assert (len(default.frames), default.width, default.height, default.pix_fmt) == (frames, 854, 480, "yuva420p")
    assert results["loop_inferred_frames"] == frames
    for name in loop.VBR_RUNS:
        assert 0 < results[f"vbr_{name}_inferred_frames"] <= frames
        assert results[f"vbr_{name}_seconds"] > 0 and results[f"vbr_{name}_cpu_seconds"] > 0
        for suffix in ("", "_cpu"):
            ratio = results[f"loop_over_vbr_{name}{suffix}"]
            assert isinstance(ratio, (int, float)) and ratio > 0
    assert results["vbr_keyframes2_inferred_frames"] <= (results["vbr_defaults_inferred_frames"] + 1) // 2 + 1
    # Ratios from unrounded seconds: equal to the printed seconds' ratio up to rounding.
    expected = results["loop_seconds"] / results["vbr_int8_seconds"]
    assert results["loop_over_vbr_int8"] == pytest.approx(expected, rel=0.02, abs=0.01)
