"""`python -m renderer.bench gpu [--quick] [--json FILE]`: inference on a CUDA GPU, by batch size, against the codec floor.

Without a CUDA provider it says so and reports nothing else (the README's GPU
figures stay pending until this runs on a GPU machine). With one it measures,
in one run: u2netp's milliseconds per frame for batches of 1, 2, 4, 8 and 16
(I/O binding, the sample's own frames), whether every batch gives the
single-frame masks byte for byte, and a cold render of the sample on the GPU
against the codec floor (`gpu_over_codec_floor`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from renderer.bench import SAMPLE, print_results

BATCHES = (1, 2, 4, 8, 16)


def _frames(count: int) -> list[np.ndarray]:
    from renderer.media.decode import decode_video

    frames = []
    for frame in decode_video(SAMPLE, Fraction(0)):
        frames.append(frame.rgb(320, 320))  # u2netp's input, as the matte stage makes it
        if len(frames) == count:
            break
    return frames


def _per_batch(frames: list[np.ndarray]) -> dict[str, Any]:
    from renderer.matting.registry import get_model
    from renderer.matting.session import Matter

    spec = get_model("u2netp")
    results: dict[str, Any] = {}
    reference: list[np.ndarray] | None = None
    for size in BATCHES:
        matter = Matter(spec, device="cuda", batch=size)
        matter.many(frames[:size])  # first run: cuDNN picks its algorithms, memory is allocated
        began = time.perf_counter()
        masks = [mask for i in range(0, len(frames), size) for mask in matter.many(frames[i : i + size])]
        results[f"batch_{size}_ms_per_frame"] = round((time.perf_counter() - began) * 1000 / len(frames), 2)
        if reference is None:
            reference = masks
        else:
            results[f"batch_{size}_equals_single"] = all(np.array_equal(a, b) for a, b in zip(reference, masks))
    best = min(BATCHES, key=lambda size: results[f"batch_{size}_ms_per_frame"])
    results["best_batch"] = best
    return results


def _render_vs_floor(seconds: float) -> dict[str, Any]:
    import renderer.api as api
    from renderer.bench.speed import _codec_floor, project_text
    from renderer.graph.execute import render

    with tempfile.TemporaryDirectory(prefix="vbr-bench-gpu-") as tmp:
        work = Path(tmp)
        project = work / "gpu.yaml"
        project.write_text(project_text(SAMPLE, seconds, "#000000", work / "gpu.mp4"), encoding="utf-8")
        options = api.Options(cache_dir=work / "cache", device="cuda")
        graph = api.compile(project, options=options).graph
        began = time.perf_counter()
        render(graph, cache_root=work / "cache", force=True)
        cold = time.perf_counter() - began
        floor = _codec_floor(graph)
    return {"gpu_cold_seconds": round(cold, 3), "codec_floor_seconds": round(floor, 3), "gpu_over_codec_floor": round(cold / floor, 2)}


def measure(quick: bool) -> dict[str, Any]:
    from renderer.matting.device import PROVIDERS, available_providers

    if PROVIDERS["cuda"] not in available_providers():
        return {"gpu": "none: no CUDAExecutionProvider in this onnxruntime; figures pending (install vbr[gpu] on a GPU machine)"}
    import onnxruntime as ort

    results: dict[str, Any] = {"gpu": ort.get_device(), "onnxruntime": ort.__version__}
    results.update(_per_batch(_frames(16 if quick else 64)))
    results.update(_render_vs_floor(1.0 if quick else 3.0))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames: proves it runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    print_results(measure(args.quick), args.json)
    return 0
