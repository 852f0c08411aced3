"""renderer.compose.background: colours, image fitting, flattening, backdrops."""

import numpy as np
import pytest

from renderer.compose.background import BackgroundSpec, Fit, fit_geometry, fit_image, flatten, hex_to_rgb, make_backdrop
from renderer.compose.resize import gaussian_blur

RED = (220, 30, 30)
BLUE = (30, 30, 220)
GREEN = (30, 200, 30)


@pytest.mark.parametrize(
    "text, rgb",
    [
        ("#000000", (0, 0, 0)),
        ("#ffffff", (255, 255, 255)),
        ("#FFFFFF", (255, 255, 255)),
        ("#1e90ff", (30, 144, 255)),
        ("1e90ff", (30, 144, 255)),
        ("#ff8000", (255, 128, 0)),
        ("#0a0B0c", (10, 11, 12)),
    ],
)
def test_hex_to_rgb(text, rgb):
    assert hex_to_rgb(text) == rgb


def halves(width: int, height: int) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:, : width // 2] = RED
    image[:, width // 2 :] = BLUE
    return image


def test_cover_same_aspect_is_a_plain_resize():
    image = halves(40, 20)
    out = fit_image(image, 20, 10, "cover")
    assert out.shape == (10, 20, 3)
    assert np.all(out[:, :9] == RED) and np.all(out[:, 11:] == BLUE)


def test_cover_wider_image_fills_and_crops_the_centre():
    # 80 x 40 into 30 x 30: scaled to 60 x 30, then columns 15..44 kept.
    image = halves(80, 40)
    out = fit_image(image, 30, 30, "cover")
    assert out.shape == (30, 30, 3)
    assert out.dtype == np.uint8
    # Every pixel is covered (the image has no black in it).
    assert np.all(out.max(axis=2) >= 30)
    # Centre crop: the red/blue boundary sits in the middle, both halves equally wide.
    assert np.all(out[:, :14] == RED)
    assert np.all(out[:, 16:] == BLUE)


def test_cover_keeps_only_the_middle_band():
    image = np.empty((20, 60, 3), dtype=np.uint8)
    image[:, :20] = RED
    image[:, 20:40] = GREEN
    image[:, 40:] = BLUE
    out = fit_image(image, 20, 20, "cover")
    assert np.all(out == GREEN)


def test_cover_taller_image_crops_top_and_bottom():
    image = np.empty((90, 30, 3), dtype=np.uint8)
    image[:30] = RED
    image[30:60] = GREEN
    image[60:] = BLUE
    out = fit_image(image, 30, 30, "cover")
    assert np.all(out == GREEN)


def test_cover_upscales_a_small_image_to_fill():
    image = halves(8, 4)
    out = fit_image(image, 64, 48, "cover")
    assert out.shape == (48, 64, 3)
    assert np.all(out.max(axis=2) >= 30)
    assert np.all(out[:, :20] == RED) and np.all(out[:, -20:] == BLUE)


def test_contain_wider_image_gets_bars_top_and_bottom():
    # 40 x 20 into 20 x 20: scaled to 20 x 10, centred vertically (rows 5..14).
    image = halves(40, 20)
    out = fit_image(image, 20, 20, "contain")
    assert out.shape == (20, 20, 3)
    assert np.all(out[:5] == 0) and np.all(out[15:] == 0)
    content = out[5:15]
    assert np.all(content.max(axis=2) >= 30)
    assert np.all(content[:, :9] == RED) and np.all(content[:, 11:] == BLUE)


def test_contain_taller_image_gets_bars_left_and_right():
    image = np.full((40, 20, 3), GREEN, dtype=np.uint8)
    out = fit_image(image, 40, 20, "contain")  # scaled to 10 x 20, columns 15..24
    assert np.all(out[:, :15] == 0) and np.all(out[:, 25:] == 0)
    assert np.all(out[:, 15:25] == GREEN)


def test_contain_odd_padding_splits_with_the_extra_row_at_the_bottom():
    image = np.full((10, 20, 3), GREEN, dtype=np.uint8)
    out = fit_image(image, 20, 21, "contain")
    assert np.all(out[:5] == 0) and np.all(out[15:] == 0)
    assert np.all(out[5:15] == GREEN)


def test_contain_same_aspect_has_no_bars():
    image = np.full((30, 60, 3), BLUE, dtype=np.uint8)
    out = fit_image(image, 20, 10, "contain")
    assert np.all(out == BLUE)


def test_flatten_rgba_over_black():
    image = np.zeros((1, 4, 4), dtype=np.uint8)
    image[0, :, :3] = (200, 100, 255)
    image[0, :, 3] = (255, 0, 128, 1)
    out = flatten(image)
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [200, 100, 255]
    assert out[0, 1].tolist() == [0, 0, 0]
    assert out[0, 2].tolist() == [round(200 * 128 / 255), round(100 * 128 / 255), 128]
    assert out[0, 3].tolist() == [1, 0, 1]


def test_flatten_rgb_is_unchanged():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert flatten(image) is image


def test_transparent_backdrop_is_none():
    backdrop = make_backdrop(BackgroundSpec("transparent"), 16, 9)
    assert backdrop(np.zeros((9, 16, 3), np.uint8)) is None


def test_color_backdrop_is_a_plate_of_that_colour():
    backdrop = make_backdrop(BackgroundSpec("color", color=(30, 144, 255)), 16, 9)
    frame = np.full((9, 16, 3), 77, dtype=np.uint8)
    plate = backdrop(frame)
    assert plate.shape == (9, 16, 3) and plate.dtype == np.uint8
    assert np.all(plate == np.array([30, 144, 255], dtype=np.uint8))
    assert backdrop(frame * 0) is plate or np.array_equal(backdrop(frame * 0), plate)  # frame-independent


def test_blur_backdrop_is_the_blurred_frame():
    backdrop = make_backdrop(BackgroundSpec("blur", radius=6.0), 32, 24)
    frame = np.zeros((24, 32, 3), dtype=np.uint8)
    frame[:, 16:] = 255
    out = backdrop(frame)
    np.testing.assert_array_equal(out, gaussian_blur(frame, 6.0))
    assert out.shape == frame.shape
    assert 0 < out[12, 16, 0] < 255  # really blurred, not the frame itself
    other = np.full_like(frame, 90)
    assert np.all(backdrop(other) == 90)  # follows the frame it is given


def test_image_backdrop_is_the_fitted_flattened_plate():
    rgba = np.zeros((20, 40, 4), dtype=np.uint8)
    rgba[..., :3] = halves(40, 20)
    rgba[..., 3] = 255
    rgba[:, :4, 3] = 0  # a transparent strip on the left becomes black
    for fit in ("cover", "contain"):
        backdrop = make_backdrop(BackgroundSpec("image", fit=fit), 20, 20, rgba)
        plate = backdrop(np.zeros((20, 20, 3), np.uint8))
        assert plate.shape == (20, 20, 3)
        np.testing.assert_array_equal(plate, fit_image(flatten(rgba), 20, 20, fit))
    contain = make_backdrop(BackgroundSpec("image", fit="contain"), 20, 20, rgba)(None)
    assert np.all(contain[:5] == 0) and np.all(contain[5:15, 0] == 0) and np.all(contain[5:15, 15] == BLUE)


@pytest.mark.parametrize(
    "picture, frame, fit, geometry",
    [
        ((1280, 720), (1280, 720), "cover", Fit(1280, 720, (1280, 720), (0, 0), (0, 0), (1280, 720))),
        ((80, 40), (30, 30), "cover", Fit(30, 30, (60, 30), (15, 0), (0, 0), (30, 30))),
        ((64, 96), (160, 96), "cover", Fit(160, 96, (160, 240), (0, 72), (0, 0), (160, 96))),
        ((64, 96), (160, 96), "contain", Fit(160, 96, (64, 96), (0, 0), (48, 0), (64, 96))),
        ((20, 10), (20, 21), "contain", Fit(20, 21, (20, 10), (0, 0), (0, 5), (20, 10))),
    ],
)
def test_fit_geometry_scales_and_centres(picture, frame, fit, geometry):
    assert fit_geometry(*picture, *frame, fit) == geometry


def test_fit_places_a_scaled_picture_and_passes_a_full_frame_through():
    contain = fit_geometry(64, 96, 160, 96, "contain")
    picture = np.full((96, 64, 3), 200, np.uint8)
    placed = contain.place(picture)
    assert placed.shape == (96, 160, 3) and not placed[:, :48].any() and not placed[:, 112:].any()
    assert np.all(placed[:, 48:112] == 200)
    same = fit_geometry(160, 96, 160, 96, "cover")
    frame = np.zeros((96, 160, 3), np.uint8)
    assert same.place(frame) is frame  # the usual case costs no copy


def test_video_backdrop_takes_the_next_picture_each_call():
    pictures = iter([np.full((9, 16, 3), v, np.uint8) for v in (10, 20)])
    backdrop = make_backdrop(BackgroundSpec("video", fit="cover"), 16, 9, pictures=pictures)
    frame = np.zeros((9, 16, 3), np.uint8)
    assert backdrop(frame)[0, 0, 0] == 10 and backdrop(frame)[0, 0, 0] == 20


def test_unknown_kind_raises():
    with pytest.raises(ValueError):
        make_backdrop(BackgroundSpec("gradient"), 4, 4)
