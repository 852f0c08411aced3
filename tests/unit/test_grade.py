"""renderer.compose.grade: the five documented grading formulas on known pixels."""

from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from renderer.compose.grade import GradeSpec, apply_grade

LUMA = (0.2126, 0.7152, 0.0722)


def px(*rgb):
    """One pixel as a 1 x 1 x 3 uint8 image."""
    return np.array([[rgb]], dtype=np.uint8)


def grade_px(spec, *rgb):
    return tuple(int(v) for v in apply_grade(px(*rgb), spec)[0, 0])


def reference_unclipped(rgb, spec):
    """The documented formulas in float64, in order, scaled to 0..255 but not clipped or rounded."""
    x = rgb.astype(np.float64) / 255
    x = x * (1 + spec.brightness)
    x = (x - 0.5) * (1 + spec.contrast) + 0.5
    y = (x @ np.array(LUMA))[..., None]
    x = y + (x - y) * (1 + spec.saturation)
    x = x * np.array([1 + 0.2 * spec.temperature, 1 - 0.2 * spec.tint, 1 - 0.2 * spec.temperature])
    return x * 255


def reference(rgb, spec):
    """The documented result before rounding: clipped once, at the end."""
    return np.clip(reference_unclipped(rgb, spec), 0, 255)


def all_levels():
    """Every 8-bit value in each channel, channels differing: a 256 x 6 x 3 image."""
    v = np.arange(256)
    cols = [
        np.stack([v, v, v], axis=1),
        np.stack([v, 255 - v, (v * 7) % 256], axis=1),
        np.stack([(v * 3) % 256, v, 255 - v], axis=1),
        np.stack([255 - v, (v * 5) % 256, v], axis=1),
        np.stack([v, np.full(256, 30), np.full(256, 220)], axis=1),
        np.stack([np.full(256, 240), np.full(256, 10), v], axis=1),
    ]
    return np.stack(cols, axis=1).astype(np.uint8)


def assert_matches_reference(image, spec):
    """Exact wherever the documented value is not within 1e-3 of a rounding tie; never off by more than 1."""
    out = apply_grade(image, spec).astype(np.int64)
    ref = reference(image, spec)
    assert np.abs(out - ref).max() <= 0.5 + 1e-3
    clear = np.abs((ref % 1) - 0.5) > 1e-3
    assert clear.mean() > 0.9  # the check below must actually cover most pixels
    np.testing.assert_array_equal(out[clear], np.rint(ref[clear]).astype(np.int64))


# --- GradeSpec -------------------------------------------------------------------


def test_default_spec_is_neutral():
    assert GradeSpec().neutral is True
    assert GradeSpec(0.0, 0.0, 0.0, 0.0, 0.0).neutral is True


@pytest.mark.parametrize("field", ["brightness", "contrast", "saturation", "temperature", "tint"])
@pytest.mark.parametrize("value", [0.01, -0.01, 1.0, -1.0])
def test_any_single_control_makes_it_not_neutral(field, value):
    assert GradeSpec(**{field: value}).neutral is False


def test_spec_is_frozen_and_hashable():
    spec = GradeSpec(brightness=0.1)
    with pytest.raises(FrozenInstanceError):
        spec.brightness = 0.2  # type: ignore[misc]
    assert hash(spec) == hash(GradeSpec(brightness=0.1))
    assert spec == GradeSpec(brightness=0.1) != GradeSpec(brightness=0.2)


# --- output form --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1, 3), (5, 7, 3), (64, 3, 3)])
def test_output_is_uint8_of_the_same_shape_and_input_untouched(shape):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    before = image.copy()
    out = apply_grade(image, GradeSpec(brightness=0.3, contrast=-0.2, saturation=0.5, temperature=0.4, tint=-0.6))
    assert out.dtype == np.uint8
    assert out.shape == shape
    assert out is not image
    np.testing.assert_array_equal(image, before)


def test_neutral_spec_gives_back_every_value_exactly():
    image = all_levels()
    np.testing.assert_array_equal(apply_grade(image, GradeSpec()), image)


# --- brightness: x * (1 + b) ----------------------------------------------------------


@pytest.mark.parametrize(
    "b, rgb, expected",
    [
        (0.2, (100, 150, 200), (120, 180, 240)),
        (0.5, (10, 100, 170), (15, 150, 255)),  # 170 * 1.5 = 255 exactly
        (-0.5, (10, 100, 200), (5, 50, 100)),
        (1.0, (0, 60, 127), (0, 120, 254)),
        (1.0, (128, 200, 255), (255, 255, 255)),  # clipped at 1
        (-1.0, (255, 128, 1), (0, 0, 0)),  # -1 is black
        (0.1, (0, 0, 0), (0, 0, 0)),  # black is a fixed point of a gain
    ],
)
def test_brightness_is_a_gain(b, rgb, expected):
    assert grade_px(GradeSpec(brightness=b), *rgb) == expected


# --- contrast: (x - 0.5) * (1 + c) + 0.5 ----------------------------------------------


@pytest.mark.parametrize(
    "c, rgb, expected",
    [
        # (x - 127.5) * 1.5 + 127.5 on 0..255: 0 -> -63.75, 64 -> 32.25, 128 -> 128.25, 191 -> 222.75
        (0.5, (0, 64, 128), (0, 32, 128)),
        (0.5, (191, 255, 100), (223, 255, 86)),  # 100 -> 86.25
        # (x - 127.5) * 0.5 + 127.5: 0 -> 63.75, 255 -> 191.25, 100 -> 113.75
        (-0.5, (0, 255, 100), (64, 191, 114)),
        (0.4, (0, 100, 200), (0, 89, 229)),  # (x - 127.5) * 1.4 + 127.5: -51, 89, 229
    ],
)
def test_contrast_pivots_on_mid_grey(c, rgb, expected):
    assert grade_px(GradeSpec(contrast=c), *rgb) == expected


def test_contrast_minus_one_is_flat_mid_grey():
    out = apply_grade(all_levels(), GradeSpec(contrast=-1.0))
    assert np.unique(out).tolist() == [128]  # 0.5 * 255 = 127.5, rounded half to even


@pytest.mark.parametrize("c", [-0.7, -0.3, 0.3, 0.45])
def test_contrast_is_symmetric_about_mid_grey(c):
    # (x - 0.5)(1 + c) + 0.5 and its mirror 255 - x add up to exactly 255 (away from clipping and ties)
    v = np.arange(256)
    image = np.stack([v, v, v], axis=1)[None].astype(np.uint8)
    out = apply_grade(image, GradeSpec(contrast=c))[0, :, 0].astype(int)
    ref = (v - 127.5) * (1 + c) + 127.5
    ok = (ref > 0.5) & (ref < 254.5) & (np.abs(ref % 1 - 0.5) > 1e-3)
    assert ok.sum() > 100
    assert ((out + out[::-1])[ok & ok[::-1]] == 255).all()


# --- saturation: Y + (x - Y) * (1 + s), Y = BT.709 luma --------------------------------


def test_saturation_minus_one_gives_equal_channels_at_the_luma():
    image = all_levels()
    out = apply_grade(image, GradeSpec(saturation=-1.0))
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    luma = image.astype(np.float64) @ np.array(LUMA)
    assert np.abs(out[..., 0] - luma).max() <= 0.5 + 1e-3


@pytest.mark.parametrize(
    "s, rgb, expected",
    [
        # Y = 0.2126*200 + 0.7152*100 + 0.0722*50 = 117.65
        (-1.0, (200, 100, 50), (118, 118, 118)),
        (1.0, (200, 100, 50), (255, 82, 0)),  # 2x - Y: 282.35, 82.35, -17.65
        (-0.5, (200, 100, 50), (159, 109, 84)),  # (x + Y) / 2: 158.825, 108.825, 83.825
        # Y of pure green = 0.7152 * 255 = 182.376: the weights are BT.709's, not BT.601's
        (-1.0, (0, 255, 0), (182, 182, 182)),
        (-1.0, (255, 0, 0), (54, 54, 54)),  # 54.213
        (-1.0, (0, 0, 255), (18, 18, 18)),  # 18.411
        (0.7, (90, 90, 90), (90, 90, 90)),  # grey has nothing to saturate
    ],
)
def test_saturation_moves_away_from_bt709_luma(s, rgb, expected):
    assert grade_px(GradeSpec(saturation=s), *rgb) == expected


# --- temperature: R * (1 + 0.2 t), B * (1 - 0.2 t); tint: G * (1 - 0.2 n) ---------------


@pytest.mark.parametrize(
    "t, rgb, expected",
    [
        (0.5, (100, 150, 200), (110, 150, 180)),
        (1.0, (100, 150, 200), (120, 150, 160)),
        (-1.0, (100, 150, 200), (80, 150, 240)),
        (1.0, (250, 7, 250), (255, 7, 200)),  # R clipped, G untouched
        (-0.25, (200, 33, 100), (190, 33, 105)),
    ],
)
def test_temperature_scales_red_up_and_blue_down(t, rgb, expected):
    assert grade_px(GradeSpec(temperature=t), *rgb) == expected


@pytest.mark.parametrize(
    "n, rgb, expected",
    [
        (0.5, (100, 150, 200), (100, 135, 200)),
        (1.0, (100, 150, 200), (100, 120, 200)),
        (-1.0, (100, 150, 200), (100, 180, 200)),
        (-1.0, (3, 230, 4), (3, 255, 4)),  # G clipped, R and B untouched
    ],
)
def test_tint_scales_green_only(n, rgb, expected):
    assert grade_px(GradeSpec(tint=n), *rgb) == expected


# --- each control over every level, against the float64 formula ----------------------


@pytest.mark.parametrize(
    "spec",
    [
        GradeSpec(brightness=0.37),
        GradeSpec(brightness=-0.61),
        GradeSpec(contrast=0.45),
        GradeSpec(contrast=-0.83),
        GradeSpec(saturation=0.9),
        GradeSpec(saturation=-0.35),
        GradeSpec(temperature=0.77),
        GradeSpec(temperature=-0.4),
        GradeSpec(tint=0.66),
        GradeSpec(tint=-0.9),
        GradeSpec(brightness=0.3, contrast=0.2, saturation=-0.4, temperature=0.6, tint=-0.3),
        GradeSpec(brightness=-0.2, contrast=-0.5, saturation=0.8, temperature=-0.7, tint=0.9),
    ],
)
def test_every_level_follows_the_documented_formula(spec):
    assert_matches_reference(all_levels(), spec)


# --- order of operations and clipping -------------------------------------------------


def test_brightness_is_applied_before_contrast_and_not_clipped_in_between():
    # 200 -> 200/255 * 2 = 1.5686 (over 1, kept) -> (1.5686 - 0.5) * 0.2 + 0.5 = 0.71373 -> 182
    assert grade_px(GradeSpec(brightness=1.0, contrast=-0.8), 200, 200, 200) == (182, 182, 182)
    # had it been clipped to 1 after brightness: (1 - 0.5) * 0.2 + 0.5 -> 153
    # had contrast come first: ((200/255 - 0.5) * 0.2 + 0.5) * 2 -> 0.5569 * 2 -> 255
    # brightness then contrast on a dark value: 51 -> 0.4 -> (0.4-0.5)*1.5+0.5 = 0.35 -> 89.25
    assert grade_px(GradeSpec(brightness=1.0, contrast=0.5), 51, 51, 51) == (89, 89, 89)


def test_contrast_result_below_zero_is_not_clipped_before_saturation():
    # contrast 1: 2x - 127.5 -> (272.5, 72.5, -27.5); Y of that = 107.80; saturation -1 -> 108 grey.
    # Clipping after contrast would give (255, 72.5, 0): Y = 106.07 -> 106.
    assert grade_px(GradeSpec(contrast=1.0, saturation=-1.0), 200, 100, 50) == (108, 108, 108)


def test_temperature_comes_after_saturation():
    # saturation -1 first: grey at Y = 117.65; then R * 1.2 = 141.18, B * 0.8 = 94.12
    assert grade_px(GradeSpec(saturation=-1.0, temperature=1.0), 200, 100, 50) == (141, 118, 94)
    # the other way round it would end grey (R = G = B)


def test_tint_comes_after_saturation():
    # grey at Y = 117.65, then G * 0.8 = 94.12
    assert grade_px(GradeSpec(saturation=-1.0, tint=1.0), 200, 100, 50) == (118, 94, 118)


def test_temperature_comes_after_contrast():
    # contrast 1 then temperature 1 on R = 91: 2*91 - 127.5 = 54.5 -> * 1.2 = 65.4 -> 65
    # (temperature first would give 2 * 109.2 - 127.5 = 90.9 -> 91)
    assert grade_px(GradeSpec(contrast=1.0, temperature=1.0), 91, 91, 91)[0] == 65


def test_results_are_clipped_to_the_8_bit_range():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    hot_spec = GradeSpec(brightness=1.0, contrast=1.0, saturation=1.0, temperature=1.0, tint=-1.0)
    cold_spec = GradeSpec(brightness=-0.9, contrast=1.0, saturation=1.0, temperature=-1.0, tint=1.0)
    hot, cold = apply_grade(image, hot_spec), apply_grade(image, cold_spec)
    raw_hot = reference_unclipped(image, hot_spec)
    raw_cold = reference_unclipped(image, cold_spec)
    assert (raw_hot > 255).any() and (raw_cold < 0).any()  # both ends are really overshot
    # overshoots saturate; no wrap-around (300 -> 44) or sign trouble (-10 -> 246)
    assert (hot[raw_hot >= 255] == 255).all()
    assert (cold[raw_cold <= 0] == 0).all()
    assert (hot[raw_hot <= 0] == 0).all()


def test_rounding_is_to_nearest_not_truncation():
    # 1.3 * (99, 10, 3) = (128.7, 13.0, 3.9): truncation would give (128, 12 or 13, 3)
    assert grade_px(GradeSpec(brightness=0.3), 99, 10, 3) == (129, 13, 4)
    # 0.7 * (99, 50, 1) = (69.3, 35.0, 0.7)
    assert grade_px(GradeSpec(brightness=-0.3), 99, 50, 1) == (69, 35, 1)
