"""Running a model on several frames at once, for GPUs, where one frame leaves most of the device idle.

Most exported matting models fix their batch dimension at 1 (u2netp takes
[1, 3, 320, 320]). `with_batch_dimension` names that dimension instead, so one
session takes batches of any size; nothing else in the graph changes, so each
frame's result is the one it gets alone (tests compare the bytes).
"""

from __future__ import annotations

from pathlib import Path

from renderer.errors import ModelError

BATCH_DIM = "batch"
# Frames per batch on a GPU: a guess until `python -m renderer.bench gpu` has run on one (README, Devices).
GPU_BATCH = 8


def with_batch_dimension(weights: bytes | str) -> bytes:
    """The model (bytes, or a file path) with the first dimension of its inputs and outputs left free.

    Needs the `onnx` package (in the `gpu` extra). Shapes recorded for
    intermediate values are dropped: they name batch 1 too, and onnxruntime
    infers them again.
    """
    try:
        import onnx
    except ImportError:
        raise ModelError("batched inference needs the onnx package: pip install 'vbr[gpu]'") from None
    model = onnx.load_from_string(weights) if isinstance(weights, bytes) else onnx.load(str(Path(weights)))
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = BATCH_DIM
    del model.graph.value_info[:]
    return model.SerializeToString()
