"""renderer.matting.temporal: change detection, and smoothing (EMA, adaptive) with cut resets."""

import numpy as np
import pytest

from renderer.matting.temporal import (
    MOVING_LEVELS,
    PIXEL_TOLERANCE,
    STEADY_LEVELS,
    Smoother,
    adaptive,
    changed_fraction,
    ema,
    warmup_frames,
)


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


# --- The smoother: off, ema, adaptive; cuts ---------------------------------------------


def masks(count=12, shape=(6, 7), seed=0):
    return [m for m in np.random.default_rng(seed).integers(0, 256, (count, *shape), dtype=np.uint8)]


def test_adaptive_ramp_constants():
    # The hand computations below are worked out with these.
    assert (STEADY_LEVELS, MOVING_LEVELS) == (8, 48)


def test_off_returns_every_raw_mask_unchanged():
    smoother = Smoother("off", 0.5)
    for i, raw in enumerate(masks()):
        np.testing.assert_array_equal(smoother.step(raw, cut=i == 5), raw)


@pytest.mark.parametrize("alpha", [0.75, 0.3, 0.1, 1.0])
def test_ema_mode_is_todays_ema_bit_for_bit(alpha):
    smoother = Smoother("ema", alpha)
    state = None
    for raw in masks(seed=int(alpha * 10)):
        state, expected = ema(state, raw, alpha)
        got = smoother.step(raw, cut=False)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", ["ema", "adaptive"])
def test_a_cut_outputs_the_raw_mask_and_smoothing_restarts_from_it(mode):
    smoother = Smoother(mode, 0.75)
    for _ in range(5):
        smoother.step(np.full((2, 2), 200, np.uint8), cut=False)
    # Close to the old 200, so that without the cut the adaptive filter would smooth too.
    cut_frame = np.array([[190, 205], [170, 230]], np.uint8)
    np.testing.assert_array_equal(smoother.step(cut_frame, cut=True), cut_frame)
    # Next frame: within the steady range in both modes, so 0.75 * new + 0.25 * cut frame.
    after = np.array([[194, 201], [166, 226]], np.uint8)
    assert smoother.step(after, cut=False).tolist() == [[193, 202], [167, 227]]
    # Without the cut, the old 200 would still weigh in: the same frames give other masks.
    kept = Smoother(mode, 0.75)
    for _ in range(5):
        kept.step(np.full((2, 2), 200, np.uint8), cut=False)
    assert not np.array_equal(kept.step(cut_frame, cut=False), cut_frame)


def test_first_frame_is_the_raw_mask():
    for mode in ("ema", "adaptive"):
        raw = masks(1)[0]
        np.testing.assert_array_equal(Smoother(mode, 0.3).step(raw, cut=False), raw)


@pytest.mark.parametrize("jump", [200, -200, 48, -48])
def test_adaptive_follows_a_large_jump_within_one_frame(jump):
    start = 20 if jump > 0 else 230
    smoother = Smoother("adaptive", 0.75)
    for _ in range(4):
        smoother.step(np.full((3, 3), start, np.uint8), cut=False)
    raw = np.full((3, 3), start + jump, np.uint8)
    np.testing.assert_array_equal(smoother.step(raw, cut=False), raw)  # exactly, not within a level
    # The EMA is still a quarter of the jump behind.
    ema_smoother = Smoother("ema", 0.75)
    for _ in range(4):
        ema_smoother.step(np.full((3, 3), start, np.uint8), cut=False)
    assert abs(int(ema_smoother.step(raw, cut=False)[0, 0]) - (start + jump)) == round(abs(jump) / 4)


def test_adaptive_smooths_small_flicker_exactly_like_the_ema():
    rng = np.random.default_rng(3)
    flicker = [np.clip(120 + rng.integers(-3, 4, (8, 8)), 0, 255).astype(np.uint8) for _ in range(30)]
    adaptive_smoother, ema_smoother = Smoother("adaptive", 0.75), Smoother("ema", 0.75)
    outputs = []
    for raw in flicker:
        out = adaptive_smoother.step(raw, cut=False)
        np.testing.assert_array_equal(out, ema_smoother.step(raw, cut=False))
        outputs.append(out.astype(int))
    # ...and that is steadier than the raw masks.
    raw_jitter = np.abs(np.diff(np.array(flicker, int), axis=0)).mean()
    assert np.abs(np.diff(np.array(outputs[5:]), axis=0)).mean() < 0.8 * raw_jitter


def test_adaptive_step_by_hand():
    # alpha 0.5: w = 0.5 + 0.5 * clip((|raw - state| - 8) / 40, 0, 1)
    smoother = Smoother("adaptive", 0.5)
    steps = [
        # raw            distance        w                  state                   mask
        ([0, 100, 200], None, None, [0, 100, 200], [0, 100, 200]),  # first frame: raw
        ([4, 128, 0], [4, 28, 200], [0.5, 0.75, 1.0], [2, 121, 0], [2, 121, 0]),
        ([10, 121, 40], [8, 0, 40], [0.5, 0.5, 0.9], [6, 121, 36], [6, 121, 36]),
        ([7, 131, 36], [1, 10, 0], [0.5, 0.525, 0.5], [6.5, 126.25, 36], [6, 126, 36]),  # 6.5 rounds to even
    ]
    for raw, _distance, _weight, state, mask in steps:
        out = smoother.step(np.array([raw], np.uint8), cut=False)
        assert out.tolist() == [mask]
        np.testing.assert_allclose(smoother._state, [state], rtol=0, atol=1e-4)
        assert smoother._state.dtype == np.float32


def test_adaptive_and_ema_states_match_the_formula_in_floats():
    rng = np.random.default_rng(4)
    previous = rng.uniform(0, 255, (16, 16)).astype(np.float32)
    raw = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    state, mask = adaptive(previous, raw, 0.6)
    distance = np.abs(raw - previous.astype(np.float64))
    w = 0.6 + 0.4 * np.clip((distance - 8) / 40, 0, 1)
    np.testing.assert_allclose(state, w * raw + (1 - w) * previous, rtol=0, atol=1e-3)
    np.testing.assert_array_equal(mask, np.rint(state).astype(np.uint8))


def test_adaptive_never_drags_a_moving_hard_edge():
    # A hard-edged disc moving 8 px a frame: every pixel it crosses jumps 0 <-> 255.
    yy, xx = np.mgrid[0:40, 0:80]
    adaptive_smoother, ema_smoother = Smoother("adaptive", 0.5), Smoother("ema", 0.5)
    ema_lag = []
    for t in range(6):
        raw = np.where((xx - 10 - 8 * t) ** 2 + (yy - 20) ** 2 < 100, 255, 0).astype(np.uint8)
        np.testing.assert_array_equal(adaptive_smoother.step(raw, cut=False), raw)
        ema_lag.append(np.abs(ema_smoother.step(raw, cut=False).astype(int) - raw).max())
    assert max(ema_lag) >= 127  # the EMA leaves a half-strength ghost behind


def test_adaptive_state_stays_in_range_and_rounds_to_uint8():
    rng = np.random.default_rng(5)
    smoother = Smoother("adaptive", 0.3)
    for raw in rng.integers(0, 256, (40, 5, 5), dtype=np.uint8):
        out = smoother.step(raw, cut=False)
        assert out.dtype == np.uint8 and out.shape == (5, 5)
        assert smoother._state.min() >= 0 and smoother._state.max() <= 255


def test_smoother_is_deterministic():
    runs = []
    for _ in range(2):
        smoother = Smoother("adaptive", 0.75)
        runs.append([smoother.step(raw, cut=i == 7).tobytes() for i, raw in enumerate(masks(20, (32, 32), 6))])
    assert runs[0] == runs[1]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="temporal mode"):
        Smoother("median", 0.5)


@pytest.mark.parametrize(
    "mode, alpha, frames",
    [("off", 0.5, 0), ("ema", 1.0, 0), ("adaptive", 1.0, 0), ("ema", 0.75, 5), ("adaptive", 0.75, 5),
     ("ema", 0.5, 9), ("adaptive", 0.5, 9), ("ema", 0.1, 60)],
)
def test_warmup_frames(mode, alpha, frames):
    # (1 - alpha)^n <= 1/512: 0.25^5 = 1/1024, 0.5^9 = 1/512, 0.9^60 = 0.0018 (0.9^59 = 0.00199 > 1/512).
    assert warmup_frames(mode, alpha) == frames


@pytest.mark.parametrize("mode, alpha", [("ema", 0.75), ("adaptive", 0.75), ("ema", 0.5), ("adaptive", 0.3)])
def test_frames_before_the_warmup_change_a_mask_by_at_most_one_level(mode, alpha):
    n = warmup_frames(mode, alpha)
    rng = np.random.default_rng(7)
    for _ in range(5):
        history = list(rng.integers(0, 256, (n + 10, 16, 16), dtype=np.uint8))
        full, window = Smoother(mode, alpha), Smoother(mode, alpha)
        for raw in history[:-n - 1]:
            full.step(raw, cut=False)
        for raw in history[-n - 1 :]:
            last_full, last_window = full.step(raw, cut=False), window.step(raw, cut=False)
        assert np.abs(last_full.astype(int) - last_window).max() <= 1
