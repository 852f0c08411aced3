"""An onnxruntime session for one model, created once and reused per frame."""

from __future__ import annotations

import os

import numpy as np

from renderer.errors import ModelError, first_line
from renderer.matting.device import provider_options
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

    def __init__(self, spec: ModelSpec, threads: int | None = None, device: str = "cpu", batch: int = 1):
        """`batch` > 1: the session takes that many frames at once (`many`); the model's batch dimension is freed."""
        import onnxruntime as ort  # heavy: imported only when a render needs it

        self.spec = spec
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Batch workers split the cores between them; a lone render takes them all.
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        # Memory patterns pre-plan one big block per input shape: for u2netp that raised the
        # peak from ~355 MB to ~550 MB for no speed gain (measured 306 vs 333 ms/frame, 2 cores).
        options.enable_mem_pattern = False
        options.log_severity_level = 3
        weights = load_weights(spec)
        if batch > 1:
            from renderer.matting.batching import with_batch_dimension

            weights = with_batch_dimension(weights)
        self.batch = batch
        self.device = device
        try:
            self.session = ort.InferenceSession(weights, sess_options=options, providers=provider_options(device))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"model '{spec.name}': onnxruntime cannot load it ({first_line(exc)})") from None
        self.input_name, self.output_name = check_signature(spec, self.session)
        self.provider = self.session.get_providers()[0]

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """H x W x 3 uint8 at the model's size -> H x W uint8 mask."""
        (matte,) = self.session.run([self.output_name], {self.input_name: to_tensor(rgb, self.spec)})
        return to_mask(matte, self.spec)

    def many(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Masks for up to `batch` frames, in one run of the model.

        The frames go to the device as one contiguous tensor and the matte comes
        back as one (I/O binding on a GPU: no other outputs are computed or copied).
        """
        if not 0 < len(frames) <= self.batch:
            raise ValueError(f"{len(frames)} frames for a session of batch {self.batch}")
        tensor = np.concatenate([to_tensor(rgb, self.spec) for rgb in frames])
        if self.device == "cpu":
            (matte,) = self.session.run([self.output_name], {self.input_name: tensor})
        else:
            binding = self.session.io_binding()
            binding.bind_cpu_input(self.input_name, tensor)
            binding.bind_output(self.output_name, DEVICE_MEMORY.get(self.device, "cpu"))
            self.session.run_with_iobinding(binding)
            (matte,) = binding.copy_outputs_to_cpu()
        return [to_mask(matte[i : i + 1], self.spec) for i in range(len(frames))]


# Where a provider's outputs can stay for I/O binding (onnxruntime's device names).
DEVICE_MEMORY = {"cuda": "cuda", "directml": "dml"}


def check_signature(spec: ModelSpec, session) -> tuple[str, str]:
    """The input and matte output names, or a ModelError saying what was expected and found."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    width, height = spec.input_size
    found = ", ".join(f"{i.name} {i.type} {i.shape}" for i in inputs)
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].type != "tensor(float)":
        raise ModelError(f"model '{spec.name}': expected one float input [N,3,H,W], found {found}")
    _, channels, h, w = inputs[0].shape
    if isinstance(channels, int) and channels != 3:
        raise ModelError(f"model '{spec.name}': expected 3 input channels, found {found}")
    if (isinstance(h, int) and h != height) or (isinstance(w, int) and w != width):
        raise ModelError(f"model '{spec.name}': input_size is {width}x{height} but the model takes {w}x{h} ({found})")
    if not -len(outputs) <= spec.output < len(outputs):
        raise ModelError(f"model '{spec.name}': output {spec.output} does not exist (the model has {len(outputs)} outputs)")
    matte = outputs[spec.output]
    shape = matte.shape
    fits = len(shape) == 3 or (len(shape) == 4 and (not isinstance(shape[1], int) or shape[1] == 1))
    if not fits or matte.type != "tensor(float)":
        raise ModelError(
            f"model '{spec.name}': expected output {spec.output} to be a float matte [N,1,H,W] or [N,H,W], "
            f"found {matte.name} {matte.type} {shape}"
        )
    return inputs[0].name, matte.name
