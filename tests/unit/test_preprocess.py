"""renderer.matting.preprocess: model input and output conversion."""

import dataclasses

import numpy as np
import pytest

from renderer.matting.preprocess import to_mask, to_tensor
from renderer.matting.registry import IMAGENET_MEAN, IMAGENET_STD, MODELS

SPEC = MODELS["u2netp"]
SIGMOID = dataclasses.replace(SPEC, activation="sigmoid")


def test_to_tensor_shape_dtype_and_layout():
    h, w = 6, 5
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    rgb[..., 2] = np.arange(w, dtype=np.uint8)[None, :] * 50
    x = to_tensor(rgb, SPEC)
    assert x.shape == (1, 3, h, w)
    assert x.dtype == np.float32
    assert x.flags["C_CONTIGUOUS"]
    # Channel-first: channel 2 varies along the width exactly as the input did.
    expected_blue = (np.arange(w) * 50 / 255 - IMAGENET_MEAN[2]) / IMAGENET_STD[2]
    np.testing.assert_allclose(x[0, 2, 3], expected_blue, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("value", [0, 1, 128, 255])
def test_to_tensor_normalisation(value):
    rgb = np.full((4, 4, 3), value, dtype=np.uint8)
    x = to_tensor(rgb, SPEC)
    for c in range(3):
        expected = (value / 255 - SPEC.mean[c]) / SPEC.std[c]
        np.testing.assert_allclose(x[0, c], expected, rtol=1e-5, atol=1e-6)


def test_to_tensor_uses_the_spec_not_hardcoded_values():
    spec = dataclasses.replace(SPEC, mean=(0.5, 0.5, 0.5), std=(0.5, 0.25, 1.0))
    rgb = np.full((2, 2, 3), 255, dtype=np.uint8)
    x = to_tensor(rgb, spec)
    np.testing.assert_allclose(x[0, :, 0, 0], [1.0, 2.0, 0.5], rtol=1e-6)


def test_to_tensor_of_the_models_input_size():
    w, h = SPEC.input_size
    x = to_tensor(np.zeros((h, w, 3), dtype=np.uint8), SPEC)
    assert x.shape == (1, 3, h, w)


def test_to_mask_constant_half_is_constant_128():
    out = np.full((1, 1, 8, 8), 0.5, dtype=np.float32)
    mask = to_mask(out, SPEC)
    assert mask.shape == (8, 8) and mask.dtype == np.uint8
    assert np.all(mask == 128)


def test_to_mask_is_not_rescaled_per_frame():
    prob = np.linspace(0.2, 0.4, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    mask = to_mask(prob, SPEC)
    assert mask.min() == 51 and mask.max() == 102  # not stretched to 0..255
    np.testing.assert_array_equal(mask, np.rint(prob[0, 0] * 255).astype(np.uint8))


def test_to_mask_same_pixel_value_gives_same_mask_regardless_of_the_rest():
    a = np.full((1, 1, 4, 4), 0.4, dtype=np.float32)
    b = a.copy()
    b[0, 0, 0, 0] = 0.9  # another frame's extreme must not change this pixel's value
    assert to_mask(a, SPEC)[3, 3] == to_mask(b, SPEC)[3, 3] == 102


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8), (1, 1, 8, 8)])
def test_to_mask_accepts_batched_shapes(shape):
    mask = to_mask(np.full(shape, 1.0, dtype=np.float32), SPEC)
    assert mask.shape == (8, 8)
    assert np.all(mask == 255)


def test_to_mask_clips_out_of_range_values():
    out = np.array([[[[-0.5, -1e-3, 0.0, 1.0, 1.001, 7.0]]]], dtype=np.float32)
    mask = to_mask(out, SPEC)
    assert mask.tolist() == [[0, 0, 0, 255, 255, 255]]


def test_to_mask_no_activation_for_u2netp():
    assert SPEC.activation == "none"
    # A logit-like value is clipped, not squashed.
    assert to_mask(np.array([[0.0]], np.float32), SPEC)[0, 0] == 0


def test_to_mask_sigmoid_activation():
    logits = np.array([[-20.0, -2.0, 0.0, 2.0, 20.0]], dtype=np.float32)
    mask = to_mask(logits, SIGMOID)
    expected = np.rint(255 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.uint8)
    np.testing.assert_array_equal(mask, expected)
    assert mask.tolist() == [[0, 30, 128, 225, 255]]
