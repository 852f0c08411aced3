"""renderer.compose.sheet: checkerboards, flattening transparency and contact-sheet layout."""

from fractions import Fraction
from math import ceil, sqrt

import numpy as np
import pytest

from renderer.compose.sheet import (
    GAP,
    LABEL,
    SHEET_BG,
    THUMB_WIDTH,
    checkerboard,
    contact_sheet,
    flatten_on_checkerboard,
)

LIGHT, DARK = 204, 153


# --- checkerboard ------------------------------------------------------------------------------


def test_checkerboard_values_shape_and_dtype():
    board = checkerboard(20, 30)
    assert board.shape == (20, 30, 3) and board.dtype == np.uint8
    assert set(np.unique(board).tolist()) == {LIGHT, DARK}
    assert (board[..., 0] == board[..., 1]).all() and (board[..., 1] == board[..., 2]).all()  # grey


def test_checkerboard_default_cells_are_8_pixels_starting_light():
    board = checkerboard(32, 32)[..., 0]
    assert (board[0:8, 0:8] == LIGHT).all()
    assert (board[0:8, 8:16] == DARK).all()
    assert (board[8:16, 0:8] == DARK).all()
    assert (board[8:16, 8:16] == LIGHT).all()
    assert (board[24:32, 24:32] == LIGHT).all()
    assert (board[16:24, 24:32] == DARK).all()
    # every pixel follows the parity of its cell
    ys, xs = np.indices((32, 32))
    np.testing.assert_array_equal(board, np.where((ys // 8 + xs // 8) % 2 == 0, LIGHT, DARK))


@pytest.mark.parametrize("cell", [1, 3, 5, 16])
def test_checkerboard_custom_cell_size(cell):
    board = checkerboard(37, 41, cell)[..., 0]
    ys, xs = np.indices((37, 41))
    np.testing.assert_array_equal(board, np.where((ys // cell + xs // cell) % 2 == 0, LIGHT, DARK))
    assert board[0, 0] == LIGHT
    assert board[0, cell] == DARK and board[cell, 0] == DARK and board[cell, cell] == LIGHT


def test_checkerboard_partial_cells_at_the_edges():
    board = checkerboard(10, 13)[..., 0]  # 8 + 2 rows, 8 + 5 columns
    assert (board[8:, 8:] == LIGHT).all()
    assert (board[8:, :8] == DARK).all()


# --- flatten_on_checkerboard ------------------------------------------------------------------------


def test_rgb_images_are_returned_as_they_are():
    image = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    assert flatten_on_checkerboard(image) is image


def test_opaque_pixels_are_unchanged():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
    image[..., 3] = 255
    out = flatten_on_checkerboard(image)
    assert out.shape == (20, 24, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, image[..., :3])


def test_transparent_pixels_show_the_board():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
    image[..., 3] = 0  # colours are there but invisible
    np.testing.assert_array_equal(flatten_on_checkerboard(image), checkerboard(20, 24))


def test_partial_alpha_is_the_rounded_mix():
    image = np.zeros((9, 9, 4), dtype=np.uint8)
    image[0, 0] = (255, 0, 100, 128)  # over light (204)
    image[0, 8] = (255, 0, 100, 128)  # over dark (153)
    image[8, 8] = (10, 20, 30, 1)  # over light
    out = flatten_on_checkerboard(image).astype(int)
    # (c * a + board * (255 - a)) / 255, rounded
    assert tuple(out[0, 0]) == (round((255 * 128 + 204 * 127) / 255), round(204 * 127 / 255), round((100 * 128 + 204 * 127) / 255))
    assert tuple(out[0, 0]) == (230, 102, 152)
    assert tuple(out[0, 8]) == (204, 76, 126)
    assert tuple(out[8, 8]) == (203, 203, 203)  # (10 + 204 * 254) / 255 = 203.22...


def test_mixed_alpha_image_matches_the_formula_everywhere():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    out = flatten_on_checkerboard(image).astype(np.float64)
    board = checkerboard(16, 16).astype(np.float64)
    a = image[..., 3:4].astype(np.float64)
    exact = (image[..., :3] * a + board * (255 - a)) / 255
    assert np.abs(out - exact).max() <= 0.5 + 1e-9


# --- contact_sheet --------------------------------------------------------------------------------

COLOURS = [(250, 10, 10), (10, 250, 10), (10, 10, 250), (250, 250, 10), (10, 250, 250),
           (250, 10, 250), (120, 60, 0), (0, 60, 120), (60, 0, 120), (200, 200, 200)]


def solid_frames(n, h=48, w=64):
    return [(Fraction(i, 2), np.full((h, w, 3), COLOURS[i % len(COLOURS)], dtype=np.uint8)) for i in range(n)]


def label(t):
    return f"{float(t):.1f}s"


@pytest.mark.parametrize(
    "n, columns, rows",
    [(1, 1, 1), (2, 2, 1), (3, 2, 2), (4, 2, 2), (5, 3, 2), (6, 3, 2), (7, 3, 3), (9, 3, 3), (10, 4, 3)],
)
def test_sheet_size_for_n_frames(n, columns, rows):
    assert columns == ceil(sqrt(n))
    sheet = contact_sheet(solid_frames(n), label)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[2] == 3
    # 64 x 48 frames stay 64 x 48 (narrower than THUMB_WIDTH)
    cell_w, cell_h = 64 + GAP, 48 + LABEL + GAP
    assert sheet.shape[:2] == (rows * cell_h + GAP, columns * cell_w + GAP)


@pytest.mark.parametrize("n", [1, 3, 5, 10])
def test_thumbnails_sit_at_the_documented_offsets(n):
    frames = solid_frames(n)
    sheet = contact_sheet(frames, label)
    columns = ceil(sqrt(n))
    cell_w, cell_h = 64 + GAP, 48 + LABEL + GAP
    covered = np.zeros(sheet.shape[:2], bool)
    for i, (_, image) in enumerate(frames):
        x = GAP + (i % columns) * cell_w
        y = GAP + (i // columns) * cell_h
        np.testing.assert_array_equal(sheet[y : y + 48, x : x + 64], image)  # labels do not spill over
        covered[y : y + 48, x : x + 64] = True
        # the gap just above and left of each thumbnail is sheet background
        assert tuple(sheet[y - 1, x]) == SHEET_BG and tuple(sheet[y, x - 1]) == SHEET_BG
        # the label band under it has (light) text in it
        band = sheet[y + 48 : y + 48 + LABEL, x : x + cell_w - GAP]
        assert (band.max(axis=2) > 150).any()
    # the outer margin and unused cells are background
    assert (sheet[:GAP] == SHEET_BG).all() and (sheet[:, :GAP] == SHEET_BG).all()
    assert (sheet[-GAP:] == SHEET_BG).all() and (sheet[:, -GAP:] == SHEET_BG).all()
    # everything outside the thumbnails is grey (background and labels): no colour spilled out of a cell
    rest = sheet[~covered].astype(int)
    assert (rest[:, 0] == rest[:, 1]).all() and (rest[:, 1] == rest[:, 2]).all()


def test_empty_cells_of_the_last_row_are_background():
    sheet = contact_sheet(solid_frames(5), label)  # 3 columns, 2 rows: the sixth cell is empty
    cell_w, cell_h = 64 + GAP, 48 + LABEL + GAP
    x, y = GAP + 2 * cell_w, GAP + cell_h
    assert (sheet[y : y + cell_h, x : x + cell_w] == SHEET_BG).all()


def test_labels_come_from_the_callable_with_each_time_in_order():
    seen = []

    def record(t):
        seen.append(t)
        return "x"

    frames = solid_frames(4)
    contact_sheet(frames, record)
    assert seen == [t for t, _ in frames]


def test_label_text_differs_with_the_label():
    a = contact_sheet(solid_frames(2), lambda t: "0:00")
    b = contact_sheet(solid_frames(2), lambda t: "9:59:59")
    assert a.shape == b.shape
    assert (a != b).any()
    cell_h = 48 + LABEL + GAP
    # only the label bands differ
    diff_rows = np.nonzero((a != b).any(axis=(1, 2)))[0]
    assert diff_rows.min() >= GAP + 48 and diff_rows.max() < cell_h + GAP


def test_wide_frames_are_scaled_to_the_thumbnail_width():
    frames = [(Fraction(0), np.full((360, 640, 3), (200, 40, 90), dtype=np.uint8)),
              (Fraction(1), np.full((360, 640, 3), (10, 180, 30), dtype=np.uint8))]
    sheet = contact_sheet(frames, label)
    tw, th = THUMB_WIDTH, 180
    assert sheet.shape == (th + LABEL + 2 * GAP, 2 * (tw + GAP) + GAP, 3)
    assert (sheet[GAP : GAP + th, GAP : GAP + tw] == (200, 40, 90)).all()
    x = GAP + tw + GAP
    assert (sheet[GAP : GAP + th, x : x + tw] == (10, 180, 30)).all()
    assert tuple(sheet[GAP + th // 2, x - 1]) == SHEET_BG


def test_thumbnail_height_keeps_the_aspect_ratio():
    frames = [(Fraction(0), np.full((1000, 500, 3), 90, dtype=np.uint8))]  # portrait, 1:2
    sheet = contact_sheet(frames, label)
    assert sheet.shape == (640 + LABEL + 2 * GAP, 320 + 2 * GAP, 3)
    assert (sheet[GAP : GAP + 640, GAP : GAP + 320] == 90).all()


def test_transparent_frames_show_a_checkerboard():
    image = np.zeros((48, 64, 4), dtype=np.uint8)
    image[:, 32:] = (250, 10, 10, 255)  # right half opaque red, left half transparent
    sheet = contact_sheet([(Fraction(0), image)], label)
    thumb = sheet[GAP : GAP + 48, GAP : GAP + 64]
    np.testing.assert_array_equal(thumb[:, :32], checkerboard(48, 64)[:, :32])
    assert (thumb[:, 32:] == (250, 10, 10)).all()
