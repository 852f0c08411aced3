"""renderer.compose.fade: frame factors, frame scaling and sample-accurate audio ramps."""

from fractions import Fraction

import numpy as np
import pytest

from renderer.compose.fade import FadeSpec, fade_audio, fade_frame, frame_factor

F = Fraction


def spec(fade_in=0, fade_out=0, duration=2):
    return FadeSpec(F(fade_in), F(fade_out), F(duration))


# --- FadeSpec ------------------------------------------------------------------------------


def test_active_only_with_a_fade():
    assert spec(0, 0).active is False
    assert spec(F(1, 2), 0).active is True
    assert spec(0, F(1, 2)).active is True
    assert spec(1, 1).active is True


# --- frame_factor -------------------------------------------------------------------------
# 10 fps, 2 s: frames 0..19 at t = i / 10; the last frame is at D - 1/fps = 1.9 s.


def test_first_frame_of_a_fade_in_is_zero():
    assert frame_factor(0, F(10), spec(fade_in=F(1, 2))) == 0.0


def test_last_frame_of_a_fade_out_is_zero():
    assert frame_factor(19, F(10), spec(fade_out=F(1, 2))) == 0.0


@pytest.mark.parametrize("index, expected", [(0, 0.0), (1, 0.2), (2, 0.4), (3, 0.6), (4, 0.8), (5, 1.0), (6, 1.0), (19, 1.0)])
def test_fade_in_is_a_linear_ramp_over_its_length(index, expected):
    assert frame_factor(index, F(10), spec(fade_in=F(1, 2))) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("index, expected", [(19, 0.0), (18, 0.2), (17, 0.4), (16, 0.6), (15, 0.8), (14, 1.0), (13, 1.0), (0, 1.0)])
def test_fade_out_is_a_linear_ramp_ending_on_the_last_frame(index, expected):
    assert frame_factor(index, F(10), spec(fade_out=F(1, 2))) == pytest.approx(expected, abs=1e-12)


def test_middle_frames_are_untouched_with_both_fades():
    s = spec(fade_in=F(1, 2), fade_out=F(1, 2))
    assert [frame_factor(i, F(10), s) for i in range(5, 15)] == [1.0] * 10


def test_no_fade_is_one_everywhere():
    s = spec()
    assert [frame_factor(i, F(10), s) for i in range(20)] == [1.0] * 20


def test_overlapping_fades_multiply():
    # 1 s at 10 fps, in = out = 1 s: frame i gets (i / 10) * ((0.9 - i / 10) / 1)
    s = spec(fade_in=1, fade_out=1, duration=1)
    for i in range(10):
        assert frame_factor(i, F(10), s) == pytest.approx((i / 10) * (0.9 - i / 10), abs=1e-12)
    assert frame_factor(3, F(10), s) == pytest.approx(0.3 * 0.6, abs=1e-12)
    assert frame_factor(0, F(10), s) == 0.0 and frame_factor(9, F(10), s) == 0.0


def test_ntsc_rate_first_and_last_frames_are_exactly_black():
    fps = F(30000, 1001)
    total = 150
    s = FadeSpec(F(1), F(1), total / fps)
    assert frame_factor(0, fps, s) == 0.0
    assert frame_factor(total - 1, fps, s) == 0.0
    assert 0.0 < frame_factor(1, fps, s) < 0.05
    assert 0.0 < frame_factor(total - 2, fps, s) < 0.05
    assert frame_factor(total // 2, fps, s) == 1.0
    # frame 15 at t = 15 * 1001 / 30000 = 0.5005 s -> 0.5005
    assert frame_factor(15, fps, s) == pytest.approx(0.5005, abs=1e-12)


def test_factors_are_monotonic_in_each_fade():
    s = spec(fade_in=F(7, 10), fade_out=F(9, 10), duration=3)
    fps = F(25)
    values = [frame_factor(i, fps, s) for i in range(75)]
    assert all(0.0 <= v <= 1.0 for v in values)
    head, tail = values[:18], values[-23:]
    assert head == sorted(head) and tail == sorted(tail, reverse=True)


# --- fade_frame --------------------------------------------------------------------------------


def test_factor_one_returns_the_same_object():
    image = np.full((4, 4, 3), 200, dtype=np.uint8)
    assert fade_frame(image, 1.0) is image
    rgba = np.full((4, 4, 4), 200, dtype=np.uint8)
    assert fade_frame(rgba, 1.0) is rgba


def test_rgb_is_scaled_and_rounded():
    image = np.array([[[0, 10, 100], [200, 250, 254]]], dtype=np.uint8)
    before = image.copy()
    out = fade_frame(image, 0.3)
    assert out.dtype == np.uint8 and out.shape == image.shape
    # 0.3 * (0, 10, 100, 200, 250, 254) = (0, 3, 30, 60, 75, 76.2)
    np.testing.assert_array_equal(out, [[[0, 3, 30], [60, 75, 76]]])
    np.testing.assert_array_equal(image, before)  # the input is not modified


def test_rgb_rounds_to_nearest():
    image = np.array([[[99, 7, 1]]], dtype=np.uint8)
    # 0.7 * (99, 7, 1) = (69.3, 4.9, 0.7)
    np.testing.assert_array_equal(fade_frame(image, 0.7), [[[69, 5, 1]]])


def test_factor_zero_is_black_for_rgb():
    image = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    out = fade_frame(image, 0.0)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not out.any()


def test_rgba_fades_only_the_alpha():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    image[0, 0] = (10, 20, 30, 200)
    before = image.copy()
    out = fade_frame(image, 0.3)
    assert out.dtype == np.uint8 and out.shape == image.shape and out is not image
    np.testing.assert_array_equal(out[..., :3], image[..., :3])  # colours stay
    exact = image[..., 3].astype(np.float64) * 0.3
    assert np.abs(out[..., 3] - exact).max() <= 0.5 + 1e-6
    clear = np.abs(exact % 1 - 0.5) > 1e-3  # away from rounding ties
    np.testing.assert_array_equal(out[..., 3][clear], np.rint(exact[clear]))
    assert tuple(out[0, 0]) == (10, 20, 30, 60)
    np.testing.assert_array_equal(image, before)


def test_rgba_factor_zero_is_fully_transparent_with_colours_kept():
    image = np.random.default_rng(4).integers(0, 256, (3, 3, 4), dtype=np.uint8)
    out = fade_frame(image, 0.0)
    assert not out[..., 3].any()
    np.testing.assert_array_equal(out[..., :3], image[..., :3])


# --- fade_audio ---------------------------------------------------------------------------------

RATE = 1000


def signal(seconds=1.0, channels=2, seed=5):
    n = int(round(seconds * RATE))
    return np.random.default_rng(seed).uniform(-1, 1, (channels, n)).astype(np.float32)


def split(audio, sizes):
    out, start = [], 0
    for size in sizes:
        out.append(audio[:, start : start + size])
        start += size
    assert start == audio.shape[1]
    return out


def expected_gain(n, fade_in, fade_out, duration):
    s = np.arange(n) / RATE
    g_in = np.ones(n) if not fade_in else np.clip(s / fade_in, 0, 1)
    g_out = np.ones(n) if not fade_out else np.clip((duration - s) / fade_out, 0, 1)
    return g_in * g_out


def test_no_fade_passes_blocks_through_unchanged():
    audio = signal()
    blocks = split(audio, [100, 400, 500])
    out = list(fade_audio(iter(blocks), RATE, spec(0, 0, 1)))
    assert len(out) == 3
    assert all(a is b for a, b in zip(out, blocks))


def test_gain_follows_the_sample_position():
    audio = signal()
    s = spec(F(1, 10), F(1, 5), 1)
    out = np.concatenate(list(fade_audio(iter([audio]), RATE, s)), axis=1)
    gain = expected_gain(audio.shape[1], 0.1, 0.2, 1.0)
    np.testing.assert_allclose(out, audio * gain, rtol=1e-6, atol=1e-7)
    assert out.dtype == np.float32 and out.shape == audio.shape
    # known points: sample 50 (t = 0.05) is at half gain; sample 900 (t = 0.9) has (1 - 0.9) / 0.2 = 0.5
    np.testing.assert_allclose(out[:, 50], audio[:, 50] * 0.5, rtol=1e-6)
    np.testing.assert_allclose(out[:, 900], audio[:, 900] * 0.5, rtol=1e-6)
    np.testing.assert_array_equal(out[:, 100:800], audio[:, 100:800])  # the middle is untouched


@pytest.mark.parametrize(
    "sizes",
    [
        [1000],
        [1] * 1000,
        [7, 93, 1, 299, 600],
        [333, 333, 334],
        [99, 2, 899],
        [50, 50, 50, 850],
    ],
)
def test_blocks_of_any_size_give_identical_samples(sizes):
    audio = signal()
    s = spec(F(1, 10), F(1, 5), 1)
    whole = next(fade_audio(iter([audio]), RATE, s))
    pieces = list(fade_audio(iter(split(audio, sizes)), RATE, s))
    assert [p.shape[1] for p in pieces] == sizes
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)


def test_gain_is_zero_at_time_zero_with_a_fade_in():
    audio = np.ones((2, 500), dtype=np.float32)
    out = np.concatenate(list(fade_audio(iter(split(audio, [3, 497])), RATE, spec(F(1, 10), 0, F(1, 2)))), axis=1)
    assert (out[:, 0] == 0).all()
    np.testing.assert_allclose(out[:, 1], 1 / 100, rtol=1e-6)  # s = 1 ms of a 100 ms ramp
    np.testing.assert_allclose(out[:, 2], 2 / 100, rtol=1e-6)
    np.testing.assert_allclose(out[:, 3], 3 / 100, rtol=1e-6)  # first sample of the second block
    assert (out[:, 100:] == 1).all()


def test_gain_reaches_zero_exactly_at_the_end_time_with_a_fade_out():
    # 0.5 s render: samples 0..500 inclusive, so the last one sits exactly at t = D
    audio = np.ones((1, 501), dtype=np.float32)
    out = np.concatenate(list(fade_audio(iter(split(audio, [250, 249, 2])), RATE, spec(0, F(1, 10), F(1, 2)))), axis=1)
    assert out[0, 500] == 0.0
    np.testing.assert_allclose(out[0, 499], 1 / 100, rtol=1e-6)  # 1 ms before the end
    np.testing.assert_allclose(out[0, 450], 1 / 2, rtol=1e-6)
    assert (out[0, :400] == 1).all()
    assert np.all(np.diff(out[0, 400:]) < 0)  # strictly decreasing to silence


def test_samples_after_the_end_stay_silent():
    audio = np.ones((1, 700), dtype=np.float32)
    out = next(fade_audio(iter([audio]), RATE, spec(0, F(1, 10), F(1, 2))))
    assert (out[0, 500:] == 0).all()


def test_blocks_entirely_at_full_gain_are_passed_through():
    audio = signal()
    blocks = split(audio, [100, 300, 400, 200])
    out = list(fade_audio(iter(blocks), RATE, spec(F(1, 10), F(1, 5), 1)))
    # block 2 (samples 100..399) and block 3 (400..799) are wholly between the fades
    assert out[1] is blocks[1] and out[2] is blocks[2]
    assert out[0] is not blocks[0] and out[3] is not blocks[3]
    np.testing.assert_array_equal(blocks[0], audio[:, :100])  # inputs are not modified in place


def test_position_advances_by_samples_for_any_channel_count():
    # 6 channels: the position advances by samples (shape[1]), not by elements
    audio = signal(channels=6)
    s = spec(F(1, 10), F(1, 5), 1)
    pieces = list(fade_audio(iter(split(audio, [10, 990])), RATE, s))
    gain = expected_gain(1000, 0.1, 0.2, 1.0)
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), audio * gain, rtol=1e-6, atol=1e-7)
    gen = fade_audio(iter(()), RATE, s)
    assert list(gen) == []
