"""renderer.compose.refine: guided upsampling, levels, choke and feather against their documented formulas."""

import numpy as np
import pytest

from helpers import area_matrix

from renderer.compose.refine import GUIDE_EPS, GUIDE_RADIUS, apply_levels, choke, feather, guided_upsample


def bilinear_matrix(n, n_out):
    """Pixel centres aligned, the border sample repeated."""
    m = np.zeros((n_out, n))
    for i in range(n_out):
        pos = (i + 0.5) * n / n_out - 0.5
        below = int(np.floor(pos))
        t = pos - below
        m[i, min(max(below, 0), n - 1)] += 1 - t
        m[i, min(max(below + 1, 0), n - 1)] += t
    return m


def box_mean(x, r):
    """Mean over the (2r+1)^2 window, windows cut at the border."""
    h, w = x.shape
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1].mean()
    return out


def guided_reference(mask, guide, r, eps):
    """The docstring's three steps, in float64, with a 3x3 solve per pixel (mask no larger than the output)."""
    h, w = guide.shape[:2]
    mh, mw = mask.shape
    ay, ax = area_matrix(h, mh), area_matrix(w, mw)
    image = [ay @ (guide[..., c] / 255) @ ax.T for c in range(3)]
    p = mask / 255
    mean_i = [box_mean(c, r) for c in image]
    mean_p = box_mean(p, r)
    mean_ip = [box_mean(image[c] * p, r) for c in range(3)]
    mean_ii = [[box_mean(image[c] * image[d], r) for d in range(3)] for c in range(3)]
    a = np.zeros((3, mh, mw))
    for y in range(mh):
        for x in range(mw):
            cov = np.array([mean_ip[c][y, x] - mean_i[c][y, x] * mean_p[y, x] for c in range(3)])
            s = np.array([[mean_ii[c][d][y, x] - mean_i[c][y, x] * mean_i[d][y, x] for d in range(3)] for c in range(3)])
            a[:, y, x] = np.linalg.solve(s + eps * np.eye(3), cov)
    b = mean_p - sum(a[c] * mean_i[c] for c in range(3))
    a = [box_mean(a[c], r) for c in range(3)]
    b = box_mean(b, r)
    uy, ux = bilinear_matrix(mh, h), bilinear_matrix(mw, w)
    q = sum((uy @ a[c] @ ux.T) * guide[..., c] / 255 for c in range(3)) + uy @ b @ ux.T
    return np.clip(q, 0, 1) * 255


def test_guided_upsample_follows_the_documented_formula():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 256, (9, 11)).astype(np.uint8)
    mask[:2] = 0
    mask[-2:] = 255
    guide = rng.integers(0, 256, (27, 41, 3), dtype=np.uint8)
    out = guided_upsample(mask, guide, 41, 27)
    ref = guided_reference(mask.astype(float), guide.astype(float), GUIDE_RADIUS, GUIDE_EPS)
    assert out.shape == (27, 41) and out.dtype == np.uint8
    assert np.abs(out - ref).max() <= 0.5 + 1e-3  # float32 against float64: the same rounding, bar ties


def test_guided_upsample_recovers_a_sharp_edge_that_bilinear_blurs():
    # The guide's grey level is the true matte, and the mask is that matte area-averaged to a
    # quarter of the size, as a model would see it.
    truth = np.zeros((64, 64))
    truth[:, :27] = 255
    truth[:, 27] = 96  # an edge that falls inside a mask pixel
    guide = np.repeat(truth[..., None], 3, axis=2).astype(np.uint8)
    mask = np.rint(area_matrix(64, 16) @ truth @ area_matrix(64, 16).T).astype(np.uint8)
    guided = np.abs(guided_upsample(mask, guide, 64, 64).astype(int) - truth)
    bilinear = np.abs(bilinear_matrix(16, 64) @ mask @ bilinear_matrix(16, 64).T - truth)
    assert bilinear.max() > 80 and bilinear.mean() > 4  # a 7-pixel ramp: 250, 240, ... 27
    assert guided.max() <= 16 and guided.mean() < bilinear.mean() / 8  # 244, 82 for 255, 96


def test_guided_upsample_keeps_solid_regions_exact():
    rng = np.random.default_rng(1)
    guide = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)  # busy texture everywhere
    for value in (0, 255, 77):
        mask = np.full((20, 32), value, dtype=np.uint8)
        np.testing.assert_array_equal(guided_upsample(mask, guide, 160, 90), value)
    mask = np.zeros((20, 32), dtype=np.uint8)
    mask[:, 16:] = 255
    out = guided_upsample(mask, guide, 160, 90)
    # mask pixels 2r or more from the edge: alpha exactly 0 or 255 over the output pixels they cover
    assert (out[:, : 5 * (16 - 2 * GUIDE_RADIUS - 1)] == 0).all()
    assert (out[:, 5 * (16 + 2 * GUIDE_RADIUS + 1) :] == 255).all()


def test_guided_upsample_with_a_mask_larger_than_the_output():
    rng = np.random.default_rng(2)
    mask = rng.integers(0, 256, (40, 30)).astype(np.uint8)
    guide = rng.integers(0, 256, (20, 60, 3), dtype=np.uint8)
    out = guided_upsample(mask, guide, 60, 20)
    assert out.shape == (20, 60)
    # the mask is first area-averaged down to 20 rows; then the formula applies as usual
    small = np.rint(area_matrix(40, 20) @ mask).astype(np.uint8)
    ref = guided_reference(small.astype(float), guide.astype(float), GUIDE_RADIUS, GUIDE_EPS)
    assert np.abs(out - ref).max() <= 0.5 + 1e-3


def test_guided_upsample_is_deterministic():
    rng = np.random.default_rng(3)
    mask = rng.integers(0, 256, (32, 32)).astype(np.uint8)
    guide = rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)
    assert guided_upsample(mask, guide, 128, 72).tobytes() == guided_upsample(mask.copy(), guide.copy(), 128, 72).tobytes()


def test_levels_follow_the_clip_formula_for_every_value():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = apply_levels(values, 0.2, 0.6)
    expected = np.clip((values / 255 - 0.2) / 0.4, 0, 1) * 255
    assert np.abs(out - expected).max() <= 0.5 + 1e-9
    clear = np.abs(expected % 1 - 0.5) > 1e-6  # not a rounding tie (1 value in 2 is, here)
    np.testing.assert_array_equal(out[clear], np.rint(expected[clear]))
    flat = out.ravel()
    assert flat[51] == 0 and flat[53] == 5 and flat[151] == 250 and flat[153] == 255  # 51 is 0.2, 153 is 0.6


def test_neutral_levels_return_the_same_array():
    alpha = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert apply_levels(alpha, 0.0, 1.0) is alpha


@pytest.mark.parametrize("black, white", [(0.5, 0.5), (0.6, 0.4), (-0.1, 1.0), (0.0, 1.1)])
def test_levels_reject_impossible_clip_points(black, white):
    with pytest.raises(ValueError):
        apply_levels(np.zeros((2, 2), dtype=np.uint8), black, white)


def dot(size=15):
    alpha = np.zeros((size, size), dtype=np.uint8)
    alpha[size // 2, size // 2] = 255
    return alpha


def test_growing_a_dot_by_one_and_two_pixels_makes_discs():
    one = choke(dot(), -1)
    assert (one > 0).sum() == 5  # centre and its four neighbours: centres within distance 1
    two = choke(dot(), -2)
    assert (two > 0).sum() == 13  # 1 + 4 + 4 + 4: distance 1, sqrt 2 and 2
    assert two[7, 9] == 255 and two[8, 8] == 255 and two[8, 9] == 0  # (1, 2) is sqrt 5 away


def test_shrinking_a_square_by_two_pixels():
    alpha = np.zeros((15, 15), dtype=np.uint8)
    alpha[3:12, 3:12] = 255
    out = choke(alpha, 2)
    expected = np.zeros_like(alpha)
    expected[5:10, 5:10] = 255
    np.testing.assert_array_equal(out, expected)


def test_a_fractional_choke_blends_the_two_whole_radii():
    out = choke(dot(), -1.5)
    assert out[7, 7] == 255 and out[7, 8] == 255  # inside radius 1
    assert out[8, 8] == 128 and out[7, 9] == 128  # inside radius 2 only: round(0.5 * 255)
    assert out[8, 9] == 0


def test_choke_does_not_eat_a_subject_from_the_frame_edge():
    alpha = np.full((10, 12), 255, dtype=np.uint8)
    alpha[:, 8:] = 0
    out = choke(alpha, 3)
    np.testing.assert_array_equal(out[:, :5], 255)  # the frame's edge counts as more subject
    np.testing.assert_array_equal(out[:, 5:], 0)


@pytest.mark.parametrize("radius", [1, 2, 3, 5])
def test_choke_matches_a_direct_disc_minimum_and_maximum(radius):
    rng = np.random.default_rng(radius)
    alpha = rng.integers(0, 256, (23, 29)).astype(np.uint8)
    h, w = alpha.shape
    padded = np.pad(alpha, radius, mode="edge")
    offsets = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1) if dy * dy + dx * dx <= radius * radius]
    stack = np.stack([padded[radius + dy : radius + dy + h, radius + dx : radius + dx + w] for dy, dx in offsets])
    np.testing.assert_array_equal(choke(alpha, radius), stack.min(axis=0))
    np.testing.assert_array_equal(choke(alpha, -radius), stack.max(axis=0))


def test_zero_choke_and_feather_return_the_same_array():
    alpha = dot()
    assert choke(alpha, 0) is alpha
    assert feather(alpha, 0) is alpha


def gaussian_reference(alpha, sigma):
    radius = int(np.ceil(3 * sigma))
    g = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    g /= g.sum()
    h, w = alpha.shape
    padded = np.pad(alpha.astype(float), radius, mode="edge")
    rows = sum(g[k] * padded[k : k + h] for k in range(g.size))
    return sum(g[k] * rows[:, k : k + w] for k in range(g.size))


def test_feathering_a_dot_spreads_it_by_the_gaussian():
    out = feather(dot(), 1)
    g = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    g /= g.sum()
    assert out[7, 7] == round(255 * g[3] * g[3])  # 41
    assert out[7, 8] == round(255 * g[3] * g[4])  # 25
    assert out[9, 9] == round(255 * g[5] * g[5])  # 1
    np.testing.assert_array_equal(out, out.T)
    np.testing.assert_array_equal(out, out[::-1, ::-1])


@pytest.mark.parametrize("sigma", [0.5, 1.5, 4.0])
def test_feather_up_to_four_pixels_is_the_exact_gaussian(sigma):
    alpha = np.random.default_rng(7).integers(0, 256, (40, 50)).astype(np.uint8)
    ref = gaussian_reference(alpha, sigma)
    assert np.abs(feather(alpha, sigma) - ref).max() <= 0.5 + 1e-3


def test_wide_feather_stays_within_a_level_of_the_exact_gaussian():
    y, x = np.mgrid[0:120, 0:160]
    alpha = np.clip((40 - np.hypot(y - 60, x - 70)) * 30, 0, 255).astype(np.uint8)  # a soft-edged disc
    ref = gaussian_reference(alpha, 7)
    assert np.abs(feather(alpha, 7).astype(int) - ref).max() <= 1.5


@pytest.mark.parametrize("pixels", [1.0, 6.0])
def test_feather_keeps_a_constant_matte(pixels):
    np.testing.assert_array_equal(feather(np.full((33, 47), 200, dtype=np.uint8), pixels), 200)
