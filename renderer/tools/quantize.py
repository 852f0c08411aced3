"""`python -m renderer.tools.quantize`: makes the embedded u2netp-int8 model from the embedded float u2netp.

Static int8 quantisation (QDQ, per-channel weights), calibrated on frames the
repository makes or ships: frames of the sample clip and frames of the quality
benchmark's made-up footage, each preprocessed exactly as a render does. The
same input gives the same file, byte for byte: fixed frames in a fixed order,
calibration ranges rounded (so a CPU's last-bit differences in the float model
cannot move them), and no paths or times in the model.

Needs onnx and onnxruntime.quantization (the `dev` extra); the renderer itself
never imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

WEIGHTS = Path(__file__).resolve().parent.parent / "matting" / "weights"
SOURCE = WEIGHTS / "u2netp.onnx"
TARGET = WEIGHTS / "u2netp-int8.onnx"
OPSET = 13  # the first with per-axis DequantizeLinear
# The versions the shipped file was built with: the quantiser's output (node order, names, rounding)
# may change between releases, so byte-for-byte rebuilds are promised with these.
BUILT_WITH = {"onnx": "1.23.2", "onnxruntime": "1.32.0"}
SIZE = 320  # u2netp's input, square


@dataclass(frozen=True)
class Recipe:
    """Everything that shapes the quantised model (the choices measured in the README)."""

    per_channel: bool = True
    symmetric_activations: bool = False
    reduce_range: bool = False  # 7-bit weights: see RECIPE
    method: str = "MinMax"  # onnxruntime CalibrationMethod name
    exclude: tuple[str, ...] = ()  # float-kept nodes, by name in the pre-processed model
    concat_ratio: float = 8.0  # a Concat whose inputs' ranges differ more than this stays float, with its convs
    sample_frames: int = 24  # of the sample clip, spread over it
    synthetic_frames: int = 16  # of the quality benchmark's made-up footage
    digits: int = 4  # significant digits calibration ranges are rounded to


# reduce_range: on x86 without VNNI (AVX2, or AVX-512 without VNNI) onnxruntime's uint8 x int8 convolution sums pairs of
# products in 16 bits (vpmaddubsw), which saturates with full 8-bit weights: the int8 kernels then gave 28.6 dB
# output SQNR against the float model where the same QDQ model run in float gave 33.5 dB. With 7-bit weights the
# pairs cannot saturate and the kernels give what the QDQ model promises (31.9 dB), held-out sample frames agree
# with the float model better (IoU 0.994 mean / 0.987 worst, was 0.987 / 0.970), at the same speed.
RECIPE = Recipe(reduce_range=True)


def calibration_frames(recipe: Recipe) -> list[np.ndarray]:
    """320 x 320 RGB frames, in a fixed order: the sample clip's, then the made-up footage's."""
    from renderer.bench import SAMPLE
    from renderer.bench.groundtruth import default_shots, make_clip
    from renderer.media.decode import decode_video

    decoded = [frame.rgb(SIZE, SIZE) for frame in decode_video(SAMPLE)]
    step = max(1, len(decoded) // recipe.sample_frames)
    frames = decoded[::step][: recipe.sample_frames]
    backgrounds = decoded[1::2]  # other frames behind the made-up subjects
    made, _ = make_clip(default_shots(recipe.synthetic_frames), lambda shot, i: backgrounds[(shot * 50 + i) % len(backgrounds)], SIZE, SIZE)
    return frames + made


def tensors(frames: list[np.ndarray]) -> Iterator[np.ndarray]:
    """The network's inputs, made by the renderer's own preprocessing."""
    from renderer.matting.preprocess import to_tensor
    from renderer.matting.registry import get_model

    spec = get_model("u2netp")
    for rgb in frames:
        yield to_tensor(rgb, spec)


def upgraded(source: Path, folder: Path, probe: np.ndarray) -> Path:
    """The float model at OPSET, checked to give the same output as the original, then shape-inferred and folded."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = version_converter.convert_version(onnx.load(str(source)), OPSET)
    converted = folder / "opset.onnx"
    onnx.save(model, str(converted))
    before, after = _run(source, probe), _run(converted, probe)
    if not np.array_equal(before, after):
        raise RuntimeError(f"the opset {OPSET} model differs from the original (max {np.abs(before - after).max():.3g})")
    prepared = folder / "prepared.onnx"
    quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)  # symbolic shapes need sympy
    return prepared


def _run(model: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # calibration's numbers must not depend on the thread count
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def ranges(prepared: Path, frames: list[np.ndarray], recipe: Recipe, folder: Path) -> Path:
    """Calibrate, then round every range to `recipe.digits` significant digits: a calibration cache file."""
    from onnxruntime.quantization.calibrate import (
        CalibrationDataReader, CalibrationMethod, TensorData, TensorsData, create_calibrator, save_tensors_data,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.inputs = iter(tensors(frames))

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.inputs, None)
            return None if x is None else {"input.1": x}

    method = CalibrationMethod[recipe.method]
    calibrator = create_calibrator(
        prepared, augmented_model_path=str(folder / "augmented.onnx"), calibrate_method=method,
        extra_options={"symmetric": recipe.symmetric_activations},
    )
    calibrator.execution_providers = ["CPUExecutionProvider"]
    calibrator.collect_data(Reader())
    found = calibrator.compute_data()
    rounded = {
        name: TensorData(**{key: _round(value, recipe.digits) for key, value in zip(("lowest", "highest"), found[name].range_value)})
        for name in sorted(found.data)
    }
    cache = folder / "ranges.json"
    save_tensors_data(TensorsData(method, rounded), cache)
    return cache


def mismatched_concats(prepared: Path, cache: Path, ratio: float) -> list[str]:
    """Concats (and the nodes that take their output) whose inputs' calibrated ranges differ more than `ratio` times.

    A quantised Concat shares one scale: the narrow input (an encoder's skip
    connection beside an upsampled decoder map) loses nearly all its levels.
    In u2netp that broke the matte (measured, see the README).
    """
    import onnx
    from onnxruntime.quantization.calibrate import load_tensors_data

    widths = {name: float(np.max(d.range_value[1]) - np.min(d.range_value[0])) for name, d in load_tensors_data(cache).data.items()}
    graph = onnx.load(str(prepared)).graph
    names = []
    for node in graph.node:
        spans = [widths.get(name, 0.0) for name in node.input]
        if node.op_type == "Concat" and min(spans) > 0 and max(spans) / min(spans) > ratio:
            names.append(node.name)
            names += [user.name for user in graph.node if node.output[0] in user.input]
    return names


def _round(value: np.ndarray, digits: int) -> np.ndarray:
    flat = [float(f"{v:.{digits - 1}e}") for v in np.ravel(value)]
    return np.asarray(flat, np.float32).reshape(np.shape(value))


def quantize(source: Path, target: Path, recipe: Recipe = RECIPE) -> str:
    """Write the int8 model to `target` (atomically); its sha256."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    frames = calibration_frames(recipe)
    with tempfile.TemporaryDirectory(prefix="vbr-quantize-") as tmp:
        folder = Path(tmp)
        prepared = upgraded(source, folder, next(tensors(frames[:1])))
        cache = ranges(prepared, frames, recipe, folder)
        quantized = folder / "int8.onnx"
        quantize_static(
            str(prepared), str(quantized), None, quant_format=QuantFormat.QDQ, per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            nodes_to_exclude=list(recipe.exclude) + mismatched_concats(prepared, cache, recipe.concat_ratio), calibrate_method=CalibrationMethod[recipe.method],
            extra_options={"ActivationSymmetric": recipe.symmetric_activations}, calibration_cache_path=str(cache),
        )
        model = onnx.load(str(quantized))
        model.producer_name, model.producer_version, model.doc_string = "vbr renderer.tools.quantize", "1", ""
        data = model.SerializeToString(deterministic=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.tools.quantize", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(TARGET), help=f"where to write the model (default: {TARGET})")
    args = parser.parse_args(argv)
    print(f"{quantize(SOURCE, Path(args.output))}  {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
