"""Batched inference (for GPUs): several frames in one run give each frame's single-run mask, byte for byte.

Runs on the CPU here (no GPU in CI); the same comparison is what a GPU check runs.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from renderer.errors import UsageError
from renderer.matting.batching import BATCH_DIM, with_batch_dimension
from renderer.matting.device import resolve_device
from renderer.matting.registry import get_model, load_weights
from renderer.matting.session import Matter

ROOT = Path(__file__).resolve().parents[1]


def sample_frames(count: int) -> list[np.ndarray]:
    """Frames of the sample at the model's size, as the matte stage converts them."""
    from renderer.media.decode import decode_video

    frames = []
    for frame in decode_video(ROOT / "projects" / "media" / "bigbuckbunny-720p.mp4", Fraction(1)):
        frames.append(frame.rgb(320, 320))
        if len(frames) == count:
            return frames
    raise AssertionError("the sample is too short")


def test_the_batch_dimension_is_freed_and_nothing_else_changes():
    import onnx

    weights = load_weights(get_model("u2netp"))
    before, after = onnx.load_from_string(weights), onnx.load_from_string(with_batch_dimension(weights))
    assert before.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    assert after.graph.input[0].type.tensor_type.shape.dim[0].dim_param == BATCH_DIM
    assert all(o.type.tensor_type.shape.dim[0].dim_param == BATCH_DIM for o in after.graph.output)
    assert [n.SerializeToString() for n in before.graph.node] == [n.SerializeToString() for n in after.graph.node]
    assert [t.SerializeToString() for t in before.graph.initializer] == [t.SerializeToString() for t in after.graph.initializer]


def test_u2netp_in_batches_gives_the_single_frame_masks_byte_for_byte():
    frames = sample_frames(6)
    spec = get_model("u2netp")
    alone = Matter(spec, threads=2)
    together = Matter(spec, threads=2, batch=4)
    single = [alone(rgb) for rgb in frames]
    batched = together.many(frames[:4]) + together.many(frames[4:])  # a full batch, then a short one
    for i, (a, b) in enumerate(zip(single, batched)):
        assert np.array_equal(a, b), f"frame {i}: {int(np.abs(a.astype(int) - b).max())} levels apart"
    assert single[0].max() == 255 and single[0].min() == 0  # real mattes, not blanks


def test_a_batch_larger_than_the_session_s_is_refused():
    matter = Matter(get_model("u2netp"), threads=1, batch=2)
    with pytest.raises(ValueError):
        matter.many(sample_frames(3))


def test_asking_for_cuda_without_it_says_what_to_install():
    with pytest.raises(UsageError) as missing:
        resolve_device("cuda", ["CPUExecutionProvider"])
    assert "--device cuda: this onnxruntime has no CUDAExecutionProvider" in str(missing.value)
    assert "onnxruntime-gpu" in str(missing.value)


def test_the_gpu_benchmark_measures_a_gpu_or_says_its_figures_are_pending(tmp_path: Path):
    import json

    from renderer.bench import gpu

    out = tmp_path / "gpu.json"
    assert gpu.main(["--quick", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    if "best_batch" not in results:  # no CUDA here (CI): nothing measured, and it says so
        assert results == {"gpu": "none: no CUDAExecutionProvider in this onnxruntime; figures pending (install vbr[gpu] on a GPU machine)"}
        return
    assert all(results[f"batch_{size}_equals_single"] for size in gpu.BATCHES[1:])  # batching never changes a mask
    assert results["best_batch"] in gpu.BATCHES and results["gpu_over_codec_floor"] > 0
