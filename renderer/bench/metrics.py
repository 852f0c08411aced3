"""Matte scores against a known truth, pure numpy: alphas are floats in 0..1.

The usual matting measures: IoU of the thresholded matte, the mean absolute
difference (MAD), the same difference over the edge band only (where mattes
differ in practice), dtSSD for flicker (how far the matte's change from the
previous frame is from the truth's change; also over the frames where the
truth holds still, where any change is flicker), and the colour error of a
composite in the edge band.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BAND_RADIUS = 10  # pixels: the soft truth widened by this (a disc) is the edge band


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of alpha > 0.5 and truth > 0.5 (1 when both are empty)."""
    a, t = alpha > 0.5, truth > 0.5
    union = np.count_nonzero(a | t)
    return 1.0 if union == 0 else np.count_nonzero(a & t) / union


def mad(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute difference over the whole frame."""
    return float(np.mean(np.abs(alpha - truth)))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` (Euclidean) of a True pixel: a disc dilation as row runs."""
    height, width = mask.shape
    rows = [mask]  # rows[k]: dilated horizontally by k pixels each way
    for _ in range(radius):
        grown = rows[-1].copy()
        grown[:, 1:] |= rows[-1][:, :-1]
        grown[:, :-1] |= rows[-1][:, 1:]
        rows.append(grown)
    out = np.zeros_like(mask)
    for dy in range(-radius, radius + 1):
        reach = rows[int(np.floor(np.sqrt(radius * radius - dy * dy)))]
        if dy >= 0:
            out[dy:] |= reach[: height - dy]
        else:
            out[:dy] |= reach[-dy:]
    return out


def edge_band(truth: np.ndarray, radius: int = BAND_RADIUS) -> np.ndarray:
    """The soft part of the truth (0 < truth < 1), widened by `radius` pixels."""
    return dilate((truth > 0) & (truth < 1), radius)


def band_mean(error: np.ndarray, band: np.ndarray) -> float:
    """Mean of an H x W (or H x W x C) error over the band's pixels; nan for an empty band."""
    if not band.any():
        return float("nan")
    return float(np.mean(error[band]))


def temporal_error(alpha: np.ndarray, previous: np.ndarray, truth: np.ndarray, truth_previous: np.ndarray) -> float:
    """One frame's dtSSD term: sqrt(mean(((a_t - a_t-1) - (g_t - g_t-1))^2))."""
    change = (alpha - previous) - (truth - truth_previous)
    return float(np.sqrt(np.mean(change * change)))


def composite_reference(foreground: np.ndarray, truth: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """The true subject over a solid colour, unquantised: fg * a + colour * (1 - a)."""
    a = truth[..., None]
    return foreground * a + np.asarray(colour, np.float32) * (1 - a)


@dataclass
class Scores:
    """Per-frame scores of one run, collected in frame order; shot starts break dtSSD."""

    shots: tuple[int, ...]
    iou: list[float] = field(default_factory=list)
    mad: list[float] = field(default_factory=list)
    band: list[float] = field(default_factory=list)
    dtssd: list[float] = field(default_factory=list)
    dtssd_still: list[float] = field(default_factory=list)  # the frames whose truth is the previous one's
    foreground: list[float] = field(default_factory=list)
    composite: list[float] = field(default_factory=list)
    _previous: tuple[int, np.ndarray, np.ndarray] | None = None

    def add_matte(self, index: int, alpha: np.ndarray, truth: np.ndarray, band: np.ndarray) -> None:
        self.iou.append(iou(alpha, truth))
        self.mad.append(mad(alpha, truth))
        self.band.append(band_mean(np.abs(alpha - truth), band))
        if self._previous is not None and self._previous[0] == index - 1 and index not in self.shots:
            self.dtssd.append(temporal_error(alpha, self._previous[1], truth, self._previous[2]))
            if np.array_equal(truth, self._previous[2]):  # a still subject: any change is flicker
                self.dtssd_still.append(self.dtssd[-1])
        self._previous = (index, alpha, truth)

    def add_foreground(self, rgb: np.ndarray, foreground: np.ndarray, truth: np.ndarray, band: np.ndarray) -> None:
        """Straight colours where the subject is: |rgb - fg| in levels, weighted by the true alpha, over the band."""
        weight = truth[band]
        total = float(weight.sum())
        if total > 0:
            error = np.abs(rgb[band].astype(np.float32) - foreground[band]).mean(axis=1)
            self.foreground.append(float(error @ weight) / total)

    def add_composite(
        self, image: np.ndarray, foreground: np.ndarray, truth: np.ndarray, band: np.ndarray,
        colour: tuple[int, int, int],
    ) -> None:
        """Mean absolute error in 8-bit levels, over the band's pixels and channels, against the true composite."""
        if band.any():
            reference = composite_reference(foreground[band].astype(np.float32), truth[band], colour)
            self.composite.append(float(np.mean(np.abs(image[band].astype(np.float32) - reference))))

    def summary(self) -> dict[str, float | None]:
        """Means over frames, in the benchmark's units: MAD, edge band x1e3; dtSSD x1e2; colours in levels."""

        def mean(values: list[float], scale: float) -> float | None:
            kept = [v for v in values if not np.isnan(v)]
            return round(float(np.mean(kept)) * scale, 4) if kept else None

        return {
            "iou": mean(self.iou, 1),
            "mad_e3": mean(self.mad, 1e3),
            "edge_band_e3": mean(self.band, 1e3),
            "dtssd_e2": mean(self.dtssd, 1e2),
            "dtssd_still_e2": mean(self.dtssd_still, 1e2),
            "foreground_band_levels": mean(self.foreground, 1),
            "composite_band_levels": mean(self.composite, 1),
        }
