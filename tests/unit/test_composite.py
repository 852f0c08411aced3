"""renderer.compose.composite: integer alpha blending."""

from fractions import Fraction
from math import floor

import numpy as np
import pytest

from renderer.compose.composite import composite


def planes():
    """Every (foreground, background) value pair as two 256 x 256 x 3 images."""
    fg, bg = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    frame = np.stack([fg, fg, fg], axis=2).astype(np.uint8)
    frame[..., 1] = 255 - frame[..., 1]  # channels differ so a mix-up would show
    background = np.stack([bg, 255 - bg, bg], axis=2).astype(np.uint8)
    return frame, background


def test_alpha_255_gives_the_foreground_exactly():
    frame, background = planes()
    mask = np.full(frame.shape[:2], 255, dtype=np.uint8)
    out = composite(frame, mask, background)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    np.testing.assert_array_equal(out, frame)


def test_alpha_0_gives_the_background_exactly():
    frame, background = planes()
    mask = np.zeros(frame.shape[:2], dtype=np.uint8)
    np.testing.assert_array_equal(composite(frame, mask, background), background)


@pytest.mark.parametrize("alpha", [1, 64, 127, 128, 200, 254])
def test_partial_alpha_is_the_rounded_mix(alpha):
    frame, background = planes()
    mask = np.full(frame.shape[:2], alpha, dtype=np.uint8)
    out = composite(frame, mask, background)
    fg = frame.astype(np.int64)
    bg = background.astype(np.int64)
    exact = (fg * alpha + bg * (255 - alpha)) / 255
    # Nearest integer to the exact mix (255 is odd, so there are no exact halves).
    np.testing.assert_array_equal(out, np.floor(exact + 0.5).astype(np.uint8))


def test_half_alpha_examples():
    frame = np.array([[[255, 0, 100]]], dtype=np.uint8)
    background = np.array([[[0, 255, 101]]], dtype=np.uint8)
    out = composite(frame, np.array([[128]], dtype=np.uint8), background)
    expected = [floor(Fraction(f * 128 + b * 127, 255) + Fraction(1, 2)) for f, b in [(255, 0), (0, 255), (100, 101)]]
    assert out[0, 0].tolist() == expected == [128, 127, 100]


def test_mask_varies_per_pixel():
    frame = np.full((1, 3, 3), 200, dtype=np.uint8)
    background = np.full((1, 3, 3), 10, dtype=np.uint8)
    mask = np.array([[0, 128, 255]], dtype=np.uint8)
    out = composite(frame, mask, background)
    assert out[0, :, 0].tolist() == [10, round((200 * 128 + 10 * 127) / 255), 200]


def test_no_background_gives_straight_rgba():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    mask = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    out = composite(frame, mask, None)
    assert out.shape == (9, 11, 4)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., :3], frame)  # straight, not premultiplied
    np.testing.assert_array_equal(out[..., 3], mask)
