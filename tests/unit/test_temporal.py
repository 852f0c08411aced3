"""renderer.matting.temporal: change detection and EMA smoothing."""

import numpy as np
import pytest

from renderer.matting.temporal import PIXEL_TOLERANCE, changed_fraction, ema


def rgb(h=40, w=40, seed=0):
    return np.random.default_rng(seed).integers(20, 236, (h, w, 3), dtype=np.uint8)


def test_identical_images_have_not_changed():
    a = rgb()
    assert changed_fraction(a, a.copy()) == 0.0


def test_noise_within_tolerance_is_no_change():
    a = rgb()
    noise = np.random.default_rng(1).integers(-PIXEL_TOLERANCE, PIXEL_TOLERANCE + 1, a.shape)
    b = (a.astype(int) + noise).astype(np.uint8)  # values stay in 8..247: no wrap-around
    assert np.abs(b.astype(int) - a).max() == PIXEL_TOLERANCE
    assert changed_fraction(a, b) == 0.0


def test_just_above_tolerance_counts():
    a = np.full((10, 10, 3), 100, dtype=np.uint8)
    b = a.copy()
    b[0, 0, 2] = 100 + PIXEL_TOLERANCE + 1  # one channel of one pixel
    assert changed_fraction(a, b) == pytest.approx(1 / 100)
    b[0, 0, 2] = 100 + PIXEL_TOLERANCE
    assert changed_fraction(a, b) == 0.0


def test_changed_quarter():
    a = rgb()
    b = a.copy()
    b[:20, :20] = 255 - b[:20, :20]  # inverted: every channel moves far
    assert np.all(np.abs(b[:20, :20].astype(int) - a[:20, :20]).max(axis=2) > PIXEL_TOLERANCE)
    assert changed_fraction(a, b) == 0.25
    assert changed_fraction(b, a) == 0.25


def test_no_uint8_wraparound():
    a = np.zeros((2, 2, 3), dtype=np.uint8)
    b = np.full((2, 2, 3), 255, dtype=np.uint8)
    assert changed_fraction(a, b) == 1.0
    assert changed_fraction(b, a) == 1.0


def test_ema_first_call_returns_raw():
    raw = np.array([[0, 17, 255]], dtype=np.uint8)
    state, mask = ema(None, raw, 0.3)
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, raw)
    np.testing.assert_array_equal(state, raw.astype(np.float32))


def test_ema_alpha_one_returns_raw_exactly():
    previous = np.full((1, 3), 200.0, dtype=np.float32)
    raw = np.array([[0, 17, 255]], dtype=np.uint8)
    state, mask = ema(previous, raw, 1.0)
    np.testing.assert_array_equal(mask, raw)
    np.testing.assert_array_equal(state, raw.astype(np.float32))


def test_ema_blends_with_the_previous_state():
    previous = np.array([[0.0, 100.0]], dtype=np.float32)
    raw = np.array([[100, 0]], dtype=np.uint8)
    state, mask = ema(previous, raw, 0.25)
    np.testing.assert_allclose(state, [[25.0, 75.0]])
    assert mask.tolist() == [[25, 75]]


def test_ema_converges_toward_a_constant():
    raw = np.full((4, 4), 200, dtype=np.uint8)
    state, mask = ema(None, np.zeros((4, 4), np.uint8), 0.5)
    history = []
    for _ in range(30):
        state, mask = ema(state, raw, 0.5)
        history.append(float(state[0, 0]))
    assert all(b > a for a, b in zip(history, history[1:10]))  # rises steadily
    assert history[0] == pytest.approx(100.0)
    assert np.all(mask == 200)
    assert abs(history[-1] - 200) < 1e-3


def test_ema_state_keeps_small_changes_that_rounding_would_lose():
    # With alpha 0.1, stepping from 100 to 104 moves the state by 0.4 per frame:
    # a uint8 state would be stuck at 100 forever, the float state gets there.
    state, _ = ema(None, np.array([[100]], np.uint8), 0.1)
    raw = np.array([[104]], np.uint8)
    masks = []
    for _ in range(60):
        state, mask = ema(state, raw, 0.1)
        masks.append(int(mask[0, 0]))
    assert masks[0] == 100
    assert masks[-1] == 104
    assert masks == sorted(masks)


def test_ema_mask_is_quantised_uint8():
    previous = np.array([[10.0, 10.0, 254.9]], dtype=np.float32)
    raw = np.array([[11, 12, 255]], dtype=np.uint8)
    state, mask = ema(previous, raw, 0.5)
    assert state.dtype == np.float32
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, np.rint(state).astype(np.uint8))
    assert mask.tolist() == [[10, 11, 255]]  # 10.5 -> 10 (half to even), 11.0, 254.95 -> 255
