"""renderer.matting.cuts: scene cuts found, motion inside a shot ignored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer.matting.cuts import (
    BLOCK,
    BLOCK_TOLERANCE,
    CUT_SIZE,
    DEFAULT_CUT_THRESHOLD,
    SEARCH,
    cut_score,
    cut_signature,
    is_cut,
)
from renderer.media.decode import decode_video

BUNNY = Path(__file__).resolve().parents[2] / "projects" / "media" / "bigbuckbunny-720p.mp4"
WIDTH, HEIGHT = CUT_SIZE
BLOCKS = (WIDTH // BLOCK[0]) * (HEIGHT // BLOCK[1])


def scenery(width: int, height: int, seed: int) -> np.ndarray:
    """A textured RGB picture: sums of random waves, 8 to 30 pixels long."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    image = np.zeros((height, width, 3))
    for _ in range(6):
        fx, fy = rng.uniform(0.2, 0.8, 2) * rng.choice([-1, 1], 2)
        image += rng.uniform(10, 30, 3) * np.sin(fx * x + fy * y + rng.uniform(0, 2 * np.pi))[..., None]
    return np.clip(np.rint(128 + image), 0, 255).astype(np.uint8)


def score(a: np.ndarray, b: np.ndarray) -> float:
    return cut_score(cut_signature(a), cut_signature(b))


def test_identical_frames_score_zero():
    thumb = scenery(WIDTH, HEIGHT, 0)
    assert score(thumb, thumb.copy()) == 0.0
    assert not is_cut(cut_signature(thumb), cut_signature(thumb), 0.0)


def test_first_frame_is_never_a_cut():
    assert not is_cut(None, cut_signature(scenery(WIDTH, HEIGHT, 0)), 0.0)


def test_score_is_the_share_of_blocks_that_changed():
    # Flat grey; k whole blocks turned 60 levels darker. The blur spreads each change a
    # pixel into its neighbours, by far less than BLOCK_TOLERANCE over their area.
    before = np.full((HEIGHT, WIDTH, 3), 150, np.uint8)
    block_w, block_h = BLOCK
    for k in (1, 5, 16, 17):
        after = before.copy()
        for b in range(k):
            row, col = divmod(b * 5 % BLOCKS, WIDTH // block_w)
            after[row * block_h : (row + 1) * block_h, col * block_w : (col + 1) * block_w] = 90
        assert score(before, after) == k / BLOCKS
        # The default threshold: 17 of 48 blocks (0.354) is a cut, 16 (0.333) is not.
        assert is_cut(cut_signature(before), cut_signature(after), DEFAULT_CUT_THRESHOLD) == (k == 17)


def test_a_change_at_the_tolerance_is_not_counted():
    before = np.full((HEIGHT, WIDTH, 3), 150, np.uint8)
    assert score(before, before + np.uint8(BLOCK_TOLERANCE)) == 0.0
    assert score(before, before + np.uint8(BLOCK_TOLERANCE + 1)) == 1.0


@pytest.mark.parametrize("dx, dy", [(1, 0), (3, 0), (-3, 2), (2, -2), (0, 1)])
def test_a_pan_within_the_search_reach_is_not_a_cut(dx, dy):
    assert abs(dx) <= SEARCH[0] and abs(dy) <= SEARCH[1]
    world = scenery(WIDTH + 20, HEIGHT + 20, 1)
    before = world[10 : 10 + HEIGHT, 10 : 10 + WIDTH]
    after = world[10 + dy : 10 + dy + HEIGHT, 10 + dx : 10 + dx + WIDTH]
    assert np.abs(after.astype(int) - before).mean() > BLOCK_TOLERANCE  # unmatched, every block would count
    # Only blocks at the edge the picture moves in from can miss: a few columns there are new.
    assert score(before, after) < DEFAULT_CUT_THRESHOLD / 2


def test_a_cut_to_the_same_colours_rearranged_is_found():
    # Mirrored, or its halves swapped: a colour histogram could not tell these apart.
    thumb = scenery(WIDTH, HEIGHT, 2)
    for other in (thumb[:, ::-1], np.concatenate([thumb[:, WIDTH // 2 :], thumb[:, : WIDTH // 2]], axis=1)):
        assert score(thumb, np.ascontiguousarray(other)) > 0.6


def test_threshold_one_never_finds_a_cut():
    black = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    white = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    assert score(black, white) == 1.0
    assert is_cut(cut_signature(black), cut_signature(white), 0.99)
    assert not is_cut(cut_signature(black), cut_signature(white), 1.0)


@pytest.fixture(scope="module")
def bunny() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The sample (one 5.3 s shot): every frame's cut thumbnail, and a 2x larger one to crop close-ups from."""
    thumbs, larger = [], []
    for frame in decode_video(BUNNY):
        thumbs.append(frame.rgb(WIDTH, HEIGHT, downscale=True))
        larger.append(frame.rgb(2 * WIDTH, 2 * HEIGHT, downscale=True))
    return thumbs, larger


def test_consecutive_frames_of_real_footage_are_not_cuts(bunny):
    thumbs, _ = bunny
    signatures = [cut_signature(t) for t in thumbs]
    scores = [cut_score(a, b) for a, b in zip(signatures, signatures[1:])]
    assert len(scores) == 131
    assert max(scores) < DEFAULT_CUT_THRESHOLD / 2  # measured: 0.0625 (3 of 48 blocks)
    assert not any(is_cut(a, b, DEFAULT_CUT_THRESHOLD) for a, b in zip(signatures, signatures[1:]))


def test_splices_to_other_shots_of_real_footage_are_cuts(bunny):
    thumbs, larger = bunny

    def close_up(index: int, quadrant: int) -> np.ndarray:
        row, col = divmod(quadrant, 2)
        return larger[index][row * HEIGHT : (row + 1) * HEIGHT, col * WIDTH : (col + 1) * WIDTH]

    splices = []
    for index in (0, 25, 50, 100, 131):
        splices += [(thumbs[index], close_up(index, q)) for q in range(4)]  # wide shot -> close-up
        splices += [(close_up(index, 0), close_up(index, q)) for q in (1, 2, 3)]  # close-up -> another one
        splices.append((thumbs[index], np.ascontiguousarray(thumbs[(index + 75) % 132][:, ::-1])))  # reverse angle
    scores = [score(a, b) for a, b in splices]
    assert min(scores) > 2 * DEFAULT_CUT_THRESHOLD  # measured: 0.896
    assert all(is_cut(cut_signature(a), cut_signature(b), DEFAULT_CUT_THRESHOLD) for a, b in splices)


def test_cut_detection_is_exact_integer_arithmetic():
    a, b = scenery(WIDTH, HEIGHT, 3), scenery(WIDTH, HEIGHT, 4)
    signature = cut_signature(a)
    assert signature.dtype == np.int16
    assert signature.shape == (HEIGHT + 2 * SEARCH[1], WIDTH + 2 * SEARCH[0], 3)
    assert signature[SEARCH[1] + 5, SEARCH[0] + 7, 1] == a[4:7, 6:9, 1].astype(int).sum()  # a 3x3 box sum
    assert score(a, b) == score(a.copy(), b.copy())
