"""renderer.matting.motion: a keyframe's mask carried to a later frame by the picture's motion."""

from __future__ import annotations

import numpy as np

from renderer.matting.motion import BLOCK, block_motion, carry_between, carry_mask, luma


def _scene(shift: tuple[int, int], size: int = 160) -> np.ndarray:
    """A textured background with a bright textured 40 px square moved by `shift` (dy, dx); fixed seeds."""
    rgb = np.random.default_rng(7).integers(0, 120, (size, size, 3), dtype=np.uint8)
    y, x = 40 + shift[0], 40 + shift[1]
    rgb[y : y + 40, x : x + 40] = np.random.default_rng(8).integers(150, 256, (40, 40, 3), dtype=np.uint8)
    return rgb


def _square_mask(shift: tuple[int, int], scale: int = 2) -> np.ndarray:
    mask = np.zeros((160 * scale, 160 * scale), np.uint8)
    y, x = (40 + shift[0]) * scale, (40 + shift[1]) * scale
    mask[y : y + 40 * scale, x : x + 40 * scale] = 255
    return mask


def test_a_square_moved_by_a_known_shift_carries_its_mask_there():
    key, later = luma(_scene((0, 0))), luma(_scene((3, 5)))
    motion = block_motion(key, later)
    # Blocks wholly inside the square's new place found it 3 down, 5 right: they come from (-3, -5) in the key.
    inside = motion[(48 // BLOCK) : (80 // BLOCK), (48 // BLOCK) : (80 // BLOCK)]
    assert (inside == (-3, -5)).all()
    carried = carry_mask(_square_mask((0, 0)), motion)  # the mask at twice the luma's size
    truth = _square_mask((3, 5))
    assert carried.shape == truth.shape
    # The square's body is where it moved to, the place it left is clear (edges within a block may blend).
    assert (carried[96:150, 100:158] == 255).all()  # new position, away from its edges
    assert carried[80:86, 90:150].mean() < 64 and carried[90:150, 80:90].mean() < 64  # the strips it left (half a block)
    assert np.abs(carried.astype(int) - truth).mean() < np.abs(_square_mask((0, 0)).astype(int) - truth).mean() / 3


def test_no_motion_leaves_the_mask_unchanged():
    frame = luma(_scene((0, 0)))
    motion = block_motion(frame, frame)
    assert not motion.any()
    mask = np.random.default_rng(1).integers(0, 256, (320, 320), dtype=np.uint8)
    assert np.array_equal(carry_mask(mask, motion), mask)


def test_a_flat_picture_does_not_move_the_mask():
    """Every shift matches a flat block equally well: the smallest (none) is taken."""
    flat = np.full((80, 80), 90, np.int16)
    assert not block_motion(flat, flat + 0).any()


def test_carrying_is_deterministic():
    key, later = luma(_scene((0, 0))), luma(_scene((-2, 4)))
    mask = _square_mask((0, 0))
    first = carry_mask(mask, block_motion(key, later))
    again = carry_mask(mask.copy(), block_motion(key.copy(), later.copy()))
    assert first.dtype == np.uint8 and np.array_equal(first, again)


def test_odd_sizes_are_covered():
    """A luma image that is not a whole number of blocks, a mask of another aspect: every pixel gets a value."""
    key = luma(_scene((0, 0))[:75, :101])
    later = luma(_scene((2, 2))[:75, :101])
    motion = block_motion(key, later)
    assert motion.shape == (75 // BLOCK, 101 // BLOCK, 2)
    mask = np.full((150, 202), 200, np.uint8)
    assert np.array_equal(carry_mask(mask, motion), mask)  # a uniform mask stays uniform, whatever moved


def test_between_two_keyframes_each_is_moved_and_the_nearer_counts_more():
    """The square at (0, 0) in the keyframe before, (4, 8) in the one after, (2, 4) in the frame between:
    both masks land on the frame's square; a weight of 0 or 1 is one keyframe's carried mask alone."""
    before, after, here = luma(_scene((0, 0))), luma(_scene((4, 8))), luma(_scene((2, 4)))
    from_before, from_after = block_motion(before, here), block_motion(after, here)
    first, second = _square_mask((0, 0)), _square_mask((4, 8))
    assert np.array_equal(carry_between(first, from_before, second, from_after, 0.0), carry_mask(first, from_before))
    assert np.array_equal(carry_between(first, from_before, second, from_after, 1.0), carry_mask(second, from_after))
    mixed = carry_between(first, from_before, second, from_after, 0.5)
    assert (mixed[100:150, 104:154] == 255).all()  # the square's body where it is now
    assert np.abs(mixed.astype(int) - _square_mask((2, 4))).mean() < 4
    # Two keyframes that disagree (the later one lost the square): the mix is the weighted mean.
    empty = np.zeros_like(second)
    quarter = carry_between(first, from_before, empty, from_after, 0.25)
    assert abs(int(quarter[120, 130]) - 191) <= 1
