"""An onnxruntime session for one model, created once and reused per frame."""

from __future__ import annotations

import os

import numpy as np

from renderer.errors import ModelError
from renderer.matting.preprocess import to_mask, to_tensor
from renderer.matting.registry import ModelSpec, load_weights


def usable_cores() -> int:
    """Cores this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Matter:
    """Runs a registered model on RGB frames at the model's input size."""

    def __init__(self, spec: ModelSpec, threads: int | None = None):
        import onnxruntime as ort  # heavy: imported only when a render needs it

        self.spec = spec
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Batch workers split the cores between them; a lone render takes them all.
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                load_weights(spec), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except ModelError:
            raise
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"model '{spec.name}': onnxruntime cannot load it ({exc})") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError(f"model '{spec.name}': expected one input [N,3,H,W], found {[i.shape for i in inputs]}")
        self.input_name = inputs[0].name
        self.output_name = self.session.get_outputs()[spec.output].name

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """H x W x 3 uint8 at the model's size -> H x W uint8 mask."""
        (matte,) = self.session.run([self.output_name], {self.input_name: to_tensor(rgb, self.spec)})
        return to_mask(matte, self.spec)
