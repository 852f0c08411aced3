"""Scene-cut detection on small thumbnails, so temporal smoothing restarts at a cut.

A frame is compared with the one before it, block by block, allowing each block
to have moved: motion inside a shot (a subject walking, the camera panning) finds
its block again a few pixels away, while after a cut most blocks match nothing
nearby, even when both shots have the same overall colours (where a colour
histogram sees no difference at all).

Score (0..1): the thumbnails (CUT_SIZE) are softened by a 3x3 box blur so that
sub-pixel motion does not read as change, and cut into an 8 x 6 grid of blocks.
For each block of the current frame, its residual is the smallest, over every
shift of the previous frame by up to SEARCH pixels, of the mean absolute
difference per channel (8-bit levels) over the block. The score is the share of
blocks whose residual is over BLOCK_TOLERANCE levels: the share of the picture
that has no close match nearby in the previous frame. `is_cut` says a frame is a
cut when the score is over `threshold`; 1 therefore never finds a cut.
Integer arithmetic throughout: the same thumbnails give the same answer everywhere.
"""

from __future__ import annotations

import numpy as np

# Thumbnail width, height: 1/20 of a 1280x720 frame; fine enough to tell shots apart.
CUT_SIZE = (64, 36)
# Block width, height in thumbnail pixels: an 8 x 6 grid of 48 blocks.
BLOCK = (8, 6)
# Largest shift searched, in thumbnail pixels (x, y): about 60 and 40 pixels of a 720p
# frame, motion from one frame to the next faster than a quick pan.
SEARCH = (3, 2)
# Mean absolute difference (levels) above which a block found no match. Measured on the
# sample footage: 99 % of blocks within a shot (fast pans, tilts, zooms included) stay
# at or below ~10, while ~97 % of blocks across a cut between different shots are above.
BLOCK_TOLERANCE = 10
# Share of blocks that must have no match for a cut. Measured on the sample (one 5.3 s
# shot): between its consecutive frames at most 0.06, with every other frame dropped
# 0.15, under synthetic fast pans, tilts and zooms 0.08; across splices to other shots
# (close-ups of it, a mirrored frame, unrelated photos) at least 0.75. A splice of two
# moments of the same shot, seconds apart (a jump cut: the same background, the subject
# moved), scores 0.08 to 0.40: like fast motion, and mostly not a cut here, which does
# little harm, as the adaptive filter follows the pixels that changed anyway.
DEFAULT_CUT_THRESHOLD = 0.35

_BLUR = 9  # pixels summed by the 3x3 box: signatures hold sums, not means


def cut_signature(thumb: np.ndarray) -> np.ndarray:
    """CUT_SIZE RGB uint8 thumbnail -> what `is_cut` compares.

    Its 3x3 box sums (int16, at most 9 * 255), edge-padded by SEARCH on every side
    so the previous frame's shifted copies need no padding per comparison.
    """
    reach_x, reach_y = SEARCH
    padded = np.pad(thumb.astype(np.int16), ((reach_y + 1, reach_y + 1), (reach_x + 1, reach_x + 1), (0, 0)), mode="edge")
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    return rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]


def cut_score(previous: np.ndarray, current: np.ndarray) -> float:
    """Share (0..1) of the current signature's blocks with no close match in the previous one."""
    reach_x, reach_y = SEARCH
    block_w, block_h = BLOCK
    inner = current[reach_y:-reach_y, reach_x:-reach_x]
    height, width, channels = inner.shape
    # Every shift of the previous frame at once, as a view over its rows of W * C values:
    # shifts_y x shifts_x x H x (W * C). (Written into a fresh array: numpy is slow to
    # allocate a result shaped like such an overlapping view.)
    rows = previous.reshape(previous.shape[0], -1)
    shifted = np.lib.stride_tricks.sliding_window_view(rows, (height, width * channels))[:, ::channels]
    diff = np.subtract(shifted, inner.reshape(height, -1), out=np.empty(shifted.shape, np.int16))
    np.abs(diff, out=diff)  # at most 9 * 255: int16 holds it
    grid = diff.shape[:2] + (height // block_h, block_h, width // block_w, block_w * channels)
    blocks = diff.reshape(grid).sum(axis=3, dtype=np.int32).sum(axis=4)
    best = blocks.min(axis=(0, 1))
    limit = BLOCK_TOLERANCE * _BLUR * channels * block_w * block_h  # residual sums, in the same units
    return float(np.count_nonzero(best > limit)) / best.size


def is_cut(previous: np.ndarray | None, current: np.ndarray, threshold: float) -> bool:
    """Whether `current` (a signature) starts a new shot after `previous` (None: no frame before)."""
    return previous is not None and cut_score(previous, current) > threshold
