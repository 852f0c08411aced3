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


@pytest.mark.parametrize("model_extra", ["", ", dedup_threshold: 0", ", keyframes: 2"])
def test_a_render_in_batches_is_the_render_one_frame_at_a_time(project, redness_model, tmp_path: Path, monkeypatch, model_extra):
    """The matte stage as on a GPU (batches of 4, forced here on the CPU): the same output bytes and counts."""
    from renderer import api
    from renderer.graph.stages import RunContext

    body = (
        f"version: 1\nsource: media/clip.mp4\nmodel: {{name: {redness_model}{model_extra}}}\n"
        "export: {path: out/o.webm}\n"
    )
    one = api.render(api.compile(project(body, name="one.yaml"), options=api.Options(cache_dir=tmp_path / "c1")))
    sizes: list[int] = []
    original = Matter.many

    def spy(self, frames):
        sizes.append(len(frames))
        return original(self, frames)

    monkeypatch.setattr(Matter, "many", spy)
    monkeypatch.setattr(RunContext, "batch", staticmethod(lambda device: 4))
    made = api.compile(project(body.replace("out/o.webm", "out/b.webm"), name="batched.yaml"), options=api.Options(cache_dir=tmp_path / "c2"))
    four = api.render(made)
    assert max(sizes) == 4 and sum(sizes) == four.inferred_frames  # it did batch
    assert (four.inferred_frames, four.cached_frames, four.reused_frames) == (one.inferred_frames, one.cached_frames, one.reused_frames)
    assert Path(four.output).read_bytes() == Path(one.output).read_bytes()
