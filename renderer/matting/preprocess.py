"""Model input and output conversion: pure functions on numpy arrays."""

from __future__ import annotations

import numpy as np

from renderer.matting.registry import ModelSpec


def to_tensor(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """H x W x 3 uint8 RGB (already at the model's size) -> 1 x 3 x H x W float32."""
    scale = np.float32(spec.scale)
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)
    pixels = rgb[..., ::-1] if spec.channels == "bgr" else rgb  # mean/std are in the network's channel order
    x = (pixels.astype(np.float32) * scale - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def to_mask(output: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """The model's matte output -> H x W uint8, 0 background, 255 subject.

    The probability map is used as it is: never rescaled by each frame's own
    min and max, which would make the matte flicker from frame to frame.
    """
    matte = np.asarray(output, dtype=np.float32)
    matte = matte.reshape(matte.shape[-2], matte.shape[-1])
    if spec.activation == "sigmoid":
        matte = 1 / (1 + np.exp(-matte))
    return np.rint(np.clip(matte, 0, 1) * 255).astype(np.uint8)
