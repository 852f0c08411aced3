"""renderer.compose.text: colours, alignment, placement, rasterising and blending of overlays."""

from dataclasses import replace
from fractions import Fraction
from math import ceil

import numpy as np
import pytest

from renderer.compose.text import Layer, TextSpec, _font, _place, default_align, draw_layer, hex_to_rgba, render_layer

F = Fraction
RED = (255, 0, 0, 255)
WHITE = (255, 255, 255, 255)


def make_spec(**changes):
    base = TextSpec(
        text="Hello", font=None, size=30.0, color=WHITE, position="top-left", margin=0.0, align="left",
        line_spacing=1.2, start=F(0), end=None,
    )
    return replace(base, **changes)


# --- hex_to_rgba / default_align ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("#ff8000", (255, 128, 0, 255)),
        ("#FF8000", (255, 128, 0, 255)),
        ("ff8000", (255, 128, 0, 255)),
        ("#11223344", (17, 34, 51, 68)),
        ("#00000099", (0, 0, 0, 153)),
        ("#ffffff00", (255, 255, 255, 0)),
        ("#000000", (0, 0, 0, 255)),
        ("#1e90ff", (30, 144, 255, 255)),
    ],
)
def test_hex_to_rgba(value, expected):
    assert hex_to_rgba(value) == expected


@pytest.mark.parametrize(
    "position, expected",
    [
        ("top-left", "left"), ("left", "left"), ("bottom-left", "left"),
        ("top", "center"), ("center", "center"), ("bottom", "center"),
        ("top-right", "right"), ("right", "right"), ("bottom-right", "right"),
        ((0.1, 0.85), "left"), ((0.9, 0.5), "left"),
    ],
)
def test_default_align_follows_the_position(position, expected):
    assert default_align(position) == expected


# --- _place ----------------------------------------------------------------------------------------
# a 100 x 40 block on a 640 x 360 frame with a 20 px margin


@pytest.mark.parametrize(
    "position, expected",
    [
        ("top-left", (20, 20)),
        ("top", (270, 20)),
        ("top-right", (520, 20)),
        ("left", (20, 160)),
        ("center", (270, 160)),
        ("right", (520, 160)),
        ("bottom-left", (20, 300)),
        ("bottom", (270, 300)),
        ("bottom-right", (520, 300)),
    ],
)
def test_named_positions_with_a_margin(position, expected):
    x, y = _place(make_spec(position=position, margin=20.0), 100.0, 40.0, 640, 360)
    assert (x, y) == pytest.approx(expected)


def test_bottom_right_puts_the_block_edges_margin_in():
    w, h = 123.4, 56.7
    x, y = _place(make_spec(position="bottom-right", margin=32.0), w, h, 1920, 1080)
    assert x + w == pytest.approx(1920 - 32)
    assert y + h == pytest.approx(1080 - 32)


def test_center_centres_and_ignores_the_margin():
    w, h = 123.4, 56.7
    for margin in (0.0, 50.0):
        x, y = _place(make_spec(position="center", margin=margin), w, h, 1280, 720)
        assert x + w / 2 == pytest.approx(640)
        assert y + h / 2 == pytest.approx(360)


def test_zero_margin_puts_blocks_against_the_edges():
    assert _place(make_spec(position="top-left", margin=0.0), 10.0, 10.0, 100, 80) == (0, 0)
    assert _place(make_spec(position="bottom-right", margin=0.0), 10.0, 10.0, 100, 80) == (90, 70)


@pytest.mark.parametrize(
    "position, expected",
    [((0.0, 0.0), (0, 0)), ((0.25, 0.5), (160, 180)), ((0.1, 0.85), (64, 306)), ((1.0, 1.0), (640, 360))],
)
def test_explicit_fractions_are_the_top_left_corner(position, expected):
    # the margin does not apply, nor does the block's size
    x, y = _place(make_spec(position=position, margin=40.0), 100.0, 40.0, 640, 360)
    assert (x, y) == pytest.approx(expected)


# --- TextSpec.shows_at ---------------------------------------------------------------------------


def test_shows_from_start_inclusive_to_end_exclusive():
    spec = make_spec(start=F(1), end=F(3))
    assert not spec.shows_at(F(999, 1000))
    assert spec.shows_at(F(1))
    assert spec.shows_at(F(2))
    assert spec.shows_at(F(2999, 1000))
    assert not spec.shows_at(F(3))
    assert not spec.shows_at(F(100))


def test_no_end_shows_forever():
    spec = make_spec(start=F(1, 2), end=None)
    assert not spec.shows_at(F(0))
    assert spec.shows_at(F(1, 2))
    assert spec.shows_at(F(10**9))


def test_start_zero_shows_on_the_first_frame():
    assert make_spec(start=F(0), end=F(1, 30)).shows_at(F(0))
    assert not make_spec(start=F(0), end=F(1, 30)).shows_at(F(1, 30))


# --- render_layer -----------------------------------------------------------------------------------


def text_size(spec):
    font = _font(spec)
    metrics = font.getMetrics()
    lines = spec.text.split("\n")
    width = max(font.measureText(line) for line in lines)
    height = -metrics.fAscent + metrics.fDescent + spec.size * spec.line_spacing * (len(lines) - 1)
    return width, height


def test_layer_is_rgba_uint8_and_has_some_ink():
    layer = render_layer(make_spec(position=(0.1, 0.1)), 400, 200)
    assert isinstance(layer, Layer)
    assert layer.pixels.dtype == np.uint8 and layer.pixels.ndim == 3 and layer.pixels.shape[2] == 4
    alpha = layer.pixels[..., 3]
    assert (alpha == 255).any() and (alpha == 0).any()
    # transparent border row/column all round (the layer has a bleed)
    assert not alpha[0].any() and not alpha[-1].any() and not alpha[:, 0].any() and not alpha[:, -1].any()


def test_layer_with_a_box_is_at_least_text_plus_padding():
    pad = 12.0
    spec = make_spec(text="Hello, world\nsecond line", position=(0.1, 0.1), box=(RED, pad))
    w, h = text_size(spec)
    layer = render_layer(spec, 800, 400)
    lh, lw = layer.pixels.shape[:2]
    assert lw >= w + 2 * pad
    assert lh >= h + 2 * pad
    # and no larger than needed: block, rounded up, plus a 1 px bleed each side and 1
    assert lw == ceil(w + 2 * pad) + 3
    assert lh == ceil(h + 2 * pad) + 3


def test_box_colour_fills_the_corners_of_the_block():
    pad = 10.0
    spec = make_spec(text="Hi there", position=(0.25, 0.25), box=(RED, pad))  # top-left at (100, 50)
    w, h = text_size(spec)
    layer = render_layer(spec, 400, 200)
    assert (layer.x, layer.y) == (99, 49)  # floor(left) - bleed, bleed = 1 with no outline or shadow
    p = layer.pixels
    # the block spans layer x in [1, 1 + w + 2 pad], y in [1, 1 + h + 2 pad]: last whole pixels are
    right, bottom = int(w + 2 * pad), int(h + 2 * pad)
    for y, x in [(1, 1), (1, right), (bottom, 1), (bottom, right), (1 + int(pad) // 2, 1), (1, 1 + int(pad) // 2)]:
        assert tuple(p[y, x]) == RED, (y, x)
    # just outside the block: nothing
    for y, x in [(0, 0), (0, 5), (5, 0), (bottom + 2, right + 2)]:
        assert tuple(p[y, x]) == (0, 0, 0, 0), (y, x)
    # the white text is drawn inside the box, over it
    inner = p[1 + int(pad) : bottom - int(pad), 1 + int(pad) : right - int(pad)]
    assert (inner[..., 1] == 255).any()  # white (red has G = 0)
    assert (inner[..., 3] == 255).all()  # opaque box behind everything


def test_layer_position_is_floor_of_the_placement_minus_bleed():
    spec = make_spec(position=(0.101, 0.2033))  # left 40.4, top 40.66 on 400 x 200
    layer = render_layer(spec, 400, 200)
    assert (layer.x, layer.y) == (39, 39)


def test_more_lines_make_a_taller_layer():
    one = render_layer(make_spec(text="Line", position=(0.0, 0.0)), 400, 400).pixels.shape[0]
    three = render_layer(make_spec(text="Line\nLine\nLine", position=(0.0, 0.0)), 400, 400).pixels.shape[0]
    assert abs((three - one) - 2 * 30 * 1.2) <= 1


def ink_columns(layer, rows):
    cols = np.nonzero(layer.pixels[rows, :, 3].any(axis=0))[0]
    return cols.min(), cols.max()


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_lines_are_aligned_within_the_block(align):
    spec = make_spec(text="WWWWWW\nii", size=40.0, line_spacing=1.5, position=(0.1, 0.1), align=align)
    layer = render_layer(spec, 400, 300)
    half = layer.pixels.shape[0] // 2
    a0, a1 = ink_columns(layer, slice(0, half))
    b0, b1 = ink_columns(layer, slice(half, None))
    assert b1 - b0 < (a1 - a0) / 3  # the second line really is much shorter
    if align == "left":
        assert abs(b0 - a0) <= 4
    elif align == "right":
        assert abs(b1 - a1) <= 4
    else:
        assert abs((b0 + b1) - (a0 + a1)) / 2 <= 1.5


def box_extent(spec, width, height):
    """Frame columns/rows fully covered by an opaque red box, drawn on black."""
    out = draw_layer(np.zeros((height, width, 3), dtype=np.uint8), render_layer(spec, width, height))
    ink = out.any(axis=2)
    ys, xs = np.nonzero(ink)
    return xs.min(), xs.max(), ys.min(), ys.max(), out


def test_top_left_box_starts_margin_in():
    spec = make_spec(text="Hg\nWorld", position="top-left", margin=20.0, box=(RED, 8.0))
    x0, _, y0, _, out = box_extent(spec, 400, 300)
    assert (x0, y0) == (20, 20)
    assert tuple(out[20, 20]) == (255, 0, 0) and tuple(out[19, 19]) == (0, 0, 0)


def test_bottom_right_box_ends_margin_in():
    spec = make_spec(text="Hg\nWorld", position="bottom-right", align="right", margin=20.0, box=(RED, 8.0))
    _, x1, _, y1, out = box_extent(spec, 400, 300)
    assert (x1, y1) == (379, 279)  # the last covered pixel; the edge is at 380, 280
    assert tuple(out[279, 379]) == (255, 0, 0)
    assert not out[280:].any() and not out[:, 380:].any()


def test_centred_box_is_centred():
    spec = make_spec(text="Hg\nWorld", position="center", align="center", margin=20.0, box=(RED, 8.0))
    x0, x1, y0, y1, _ = box_extent(spec, 400, 300)
    assert abs((x0 + x1 + 1) / 2 - 200) <= 1
    assert abs((y0 + y1 + 1) / 2 - 150) <= 1


# --- draw_layer: hand-made premultiplied layers --------------------------------------------------


def layer_of(pixels, x=0, y=0):
    return Layer(x, y, np.asarray(pixels, dtype=np.uint8))


def test_opaque_layer_pixel_replaces_an_rgb_frame_pixel():
    frame = np.full((4, 4, 3), 77, dtype=np.uint8)
    out = draw_layer(frame, layer_of([[[10, 200, 30, 255]]], 1, 2))
    assert tuple(out[2, 1]) == (10, 200, 30)
    mask = np.ones((4, 4), bool)
    mask[2, 1] = False
    assert (out[mask] == 77).all()
    assert (frame == 77).all()  # the input is not modified
    assert out.dtype == np.uint8 and out.shape == frame.shape


def test_transparent_layer_leaves_every_rgb_value_exactly():
    v = np.arange(256, dtype=np.uint8)
    frame = np.stack([v, 255 - v, v // 2], axis=1)[None]  # 1 x 256 x 3
    out = draw_layer(frame, layer_of(np.zeros((1, 256, 4))))
    np.testing.assert_array_equal(out, frame)


def test_premultiplied_layer_over_rgb_uses_the_over_operator():
    frame = np.array([[[0, 0, 255], [100, 200, 50]]], dtype=np.uint8)
    layer = layer_of([[[128, 0, 0, 128], [64, 64, 64, 128]]])
    out = draw_layer(frame, layer)
    # src + dst * (1 - sa): (128, 0, 255 * 127/255) and (64 + 100 * 127/255, 64 + 200 * 127/255, 64 + 50 * 127/255)
    np.testing.assert_array_equal(out, [[[128, 0, 127], [114, 164, 89]]])


def test_opaque_layer_pixel_replaces_an_rgba_frame_pixel():
    frame = np.array([[[1, 2, 3, 200], [9, 9, 9, 0]]], dtype=np.uint8)
    out = draw_layer(frame, layer_of([[[10, 200, 30, 255], [40, 50, 60, 255]]]))
    np.testing.assert_array_equal(out, [[[10, 200, 30, 255], [40, 50, 60, 255]]])


def test_fully_transparent_rgba_frame_becomes_opaque_under_opaque_text():
    frame = np.zeros((3, 3, 4), dtype=np.uint8)
    pixels = np.zeros((3, 3, 4), dtype=np.uint8)
    pixels[1, 1] = WHITE
    out = draw_layer(frame, layer_of(pixels))
    assert tuple(out[1, 1]) == (255, 255, 255, 255)
    assert out[..., 3].sum() == 255  # only that pixel


def test_transparent_layer_leaves_visible_rgba_pixels_exactly():
    # every alpha from 1 to 255 with several colours each
    a = np.arange(1, 256)
    rows = [np.stack([c, 255 - c, (c * 7) % 256, a], axis=1) for c in (a, 255 - a, np.full(255, 3))]
    frame = np.stack(rows).astype(np.uint8)  # 3 x 255 x 4
    out = draw_layer(frame, layer_of(np.zeros(frame.shape)))
    np.testing.assert_array_equal(out, frame)


def test_partial_layer_over_partial_rgba_is_straight_alpha_over():
    frame = np.array([[[0, 0, 255, 128], [200, 100, 0, 255]]], dtype=np.uint8)
    layer = layer_of([[[128, 0, 0, 128], [0, 0, 64, 64]]])
    out = draw_layer(frame, layer)
    src = layer.pixels.astype(np.float64) / 255
    dst = frame.astype(np.float64) / 255
    sa, da = src[..., 3:], dst[..., 3:]
    oa = sa + da * (1 - sa)
    rgb = (src[..., :3] + dst[..., :3] * da * (1 - sa)) / oa
    expected = np.rint(np.concatenate([rgb, oa], axis=2) * 255)
    np.testing.assert_array_equal(out, expected)
    # worked by hand: oa = 0.502 + 0.502 * 0.498 = 0.752 -> 192; R = 0.502 / 0.752 -> 170; B = 0.25 / 0.752 -> 85
    assert tuple(out[0, 0]) == (170, 0, 85, 192)
    # over an opaque pixel: stays opaque, colour is src + dst * (1 - sa)
    assert tuple(out[0, 1]) == (150, 75, 64, 255)


# --- draw_layer: clipping -------------------------------------------------------------------------


def coordinate_layer(h, w, x, y):
    """An opaque layer whose pixel (r, c) is (c, r, 99): where each pixel landed is readable."""
    rr, cc = np.indices((h, w))
    pixels = np.stack([cc, rr, np.full((h, w), 99), np.full((h, w), 255)], axis=2)
    return layer_of(pixels, x, y)


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("x, y", [(-3, -4), (5, 6), (-2, 5), (6, -1), (-5, -5), (2, 3)])
def test_layers_partly_outside_draw_only_the_visible_part(channels, x, y):
    h, w = 8, 9
    frame = np.full((h, w, channels), 7, dtype=np.uint8)
    layer = coordinate_layer(6, 7, x, y)
    out = draw_layer(frame, layer)
    assert out.shape == frame.shape
    covered = np.zeros((h, w), bool)
    for fy in range(h):
        for fx in range(w):
            ly, lx = fy - y, fx - x
            if 0 <= ly < 6 and 0 <= lx < 7:
                covered[fy, fx] = True
                assert tuple(out[fy, fx, :3]) == (lx, ly, 99)
                if channels == 4:
                    assert out[fy, fx, 3] == 255
    assert covered.any()
    assert (out[~covered] == 7).all()


def test_layer_bigger_than_the_frame_on_every_side():
    frame = np.zeros((4, 5, 3), dtype=np.uint8)
    out = draw_layer(frame, coordinate_layer(20, 20, -6, -3))
    rr, cc = np.indices((4, 5))
    np.testing.assert_array_equal(out[..., 0], cc + 6)
    np.testing.assert_array_equal(out[..., 1], rr + 3)


@pytest.mark.parametrize("x, y", [(9, 0), (0, 8), (-7, 0), (0, -6), (50, 50), (-100, -100)])
def test_layer_entirely_outside_returns_the_frame(x, y):
    frame = np.full((8, 9, 3), 7, dtype=np.uint8)
    out = draw_layer(frame, coordinate_layer(6, 7, x, y))
    assert out is frame
    assert (frame == 7).all()


def test_rendered_layer_near_the_corner_clips_without_error():
    spec = make_spec(text="Clipped text", size=40.0, position=(0.8, 0.9), box=(RED, 6.0))
    layer = render_layer(spec, 200, 100)
    assert layer.x + layer.pixels.shape[1] > 200 and layer.y + layer.pixels.shape[0] > 100
    frame = np.zeros((100, 200, 3), dtype=np.uint8)
    out = draw_layer(frame, layer)
    assert out.shape == (100, 200, 3)
    # the visible part is the layer's top-left part, exactly as blended
    vis = layer.pixels[: 100 - layer.y, : 200 - layer.x]
    expected = np.rint(np.clip(vis[..., :3] / 255, 0, 1) * 255)  # over black: src only
    np.testing.assert_array_equal(out[layer.y :, layer.x :], expected)
    assert (out[layer.y + 2 :, layer.x + 2 :, 0] == 255).any()
    assert not out[: layer.y].any() and not out[:, : layer.x].any()


def test_layers_are_premultiplied_so_translucent_colours_blend():
    """'#ff000080' box over black must come out at half strength, not full."""
    spec = TextSpec(
        text="Hi", font=None, size=32, color=(255, 255, 255, 64), position=(0.25, 0.25), margin=0,
        align="left", line_spacing=1.2, start=Fraction(0), end=None, box=((255, 0, 0, 128), 10.0),
    )
    layer = render_layer(spec, 400, 200)
    inside_box = layer.pixels[layer.pixels.shape[0] // 2, 4]
    assert inside_box[3] >= 127 and inside_box[0] <= inside_box[3]  # premultiplied: colour <= alpha
    out = draw_layer(np.zeros((200, 400, 3), np.uint8), layer)
    assert 120 <= out[layer.y + layer.pixels.shape[0] // 2, layer.x + 4][0] <= 136


def test_transparent_pixels_keep_their_colours_under_a_transparent_layer_pixel():
    spec = TextSpec(
        text="Hi", font=None, size=32, color=(255, 255, 255, 255), position=(0.25, 0.25), margin=0,
        align="left", line_spacing=1.2, start=Fraction(0), end=None,
    )
    layer = render_layer(spec, 400, 200)
    frame = np.zeros((200, 400, 4), np.uint8)
    frame[..., :3] = (10, 20, 30)
    out = draw_layer(frame, layer)
    untouched = out[..., 3] == 0
    assert untouched.any()
    assert (out[untouched][:, :3] == (10, 20, 30)).all()
