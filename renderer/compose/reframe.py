"""Where a reframed output's window sits in each frame: pure functions of the matte.

The window slides along one axis of the picture (x when the output is narrower
than the source, y when it is flatter). For `subject` it follows the matte's
centre of mass in three steps:

1. Each frame's centre of mass along the axis, from the model-resolution matte
   (its coverage too: a frame with almost no subject gives no centre).
2. A local linear fit over the frames within LOOKAHEAD seconds on either side
   (Gaussian weights, standard deviation LOOKAHEAD / 2), within the same shot:
   noise averages out, and a subject moving at a steady speed is fitted without
   lag, since the fit is centred on the frame (it needs LOOKAHEAD of the future).
3. A dead zone: the window's centre moves only as far as needed to keep the
   fitted centre within DEAD_ZONE of it, so a subject that stays put holds the
   window perfectly still, and a moving one is followed DEAD_ZONE behind.

At a scene cut the fit and the dead zone start again (the window jumps with the
picture rather than gliding across the cut). Where no subject is seen the
window holds; at the start of a shot with no subject it waits in the middle.
The result is clamped inside the frame and rounded to whole output pixels.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterator

import numpy as np

LOOKAHEAD = 0.5  # seconds of past and future the fit sees
DEAD_ZONE = 0.015  # of the picture's length along the axis
MIN_COVERAGE = 0.002  # share of the frame the matte must cover to count as a subject


def centre_of_mass(mask: np.ndarray, axis: int) -> tuple[float, float]:
    """(centre along the axis in 0..1 of the picture, coverage 0..1) of a uint8 matte.

    `axis` 0 is x (columns), 1 is y (rows). A pixel's centre is at (i + 0.5) / n.
    """
    weights = mask.astype(np.float64)
    total = float(weights.sum())
    coverage = total / (255.0 * mask.size)
    if total <= 0:
        return 0.5, 0.0
    profile = weights.sum(axis=0 if axis == 0 else 1)
    n = profile.shape[0]
    centre = float((profile * (np.arange(n) + 0.5)).sum() / total / n)
    return centre, coverage


def local_linear_fit(times: np.ndarray, values: np.ndarray, weights: np.ndarray, at: float) -> float | None:
    """The weighted least-squares line through (times, values), evaluated at `at`; None without data.

    One point (or all at one time) gives their weighted mean.
    """
    total = float(weights.sum())
    if total <= 0:
        return None
    dt = times - at
    mean_t = float((weights * dt).sum() / total)
    mean_v = float((weights * values).sum() / total)
    spread = float((weights * (dt - mean_t) ** 2).sum())
    if spread <= 1e-12:
        return mean_v
    slope = float((weights * (dt - mean_t) * (values - mean_v)).sum()) / spread
    return mean_v - slope * mean_t


@dataclass(frozen=True)
class Window:
    """A window of `size` pixels sliding along a picture of `length` pixels (the axis's)."""

    length: int
    size: int

    @property
    def travel(self) -> int:
        return self.length - self.size

    def offset(self, centre: float) -> int:
        """The window's first pixel for a centre at `centre` (0..1 of the picture), kept inside it."""
        return int(min(self.travel, max(0, round(centre * self.length - self.size / 2))))


@dataclass
class _Point:
    time: float
    centre: float
    weight: float  # 1 with a subject, 0 without
    shot: int


class SubjectPath:
    """Window offsets for a stream of frames, each decided once LOOKAHEAD of its future is known.

    Feed frames in order with `add`; `ready` yields the offsets that can be
    decided so far, `finish` the rest at the end of the stream.
    """

    def __init__(self, window: Window, lookahead: float = LOOKAHEAD, dead_zone: float = DEAD_ZONE):
        self.window = window
        self.lookahead = lookahead
        self.sigma = lookahead / 2
        self.dead_zone = dead_zone
        self._points: deque[_Point] = deque()  # from the oldest a pending point's fit still needs
        self._pending = 0  # index in _points of the first undecided point
        self._shot = 0
        self._held: float | None = None  # the window's centre (before clamping), None at a shot's start

    def add(self, time: float, centre: float, coverage: float, cut: bool) -> None:
        if cut and self._points:
            self._shot += 1
        weight = 1.0 if coverage >= MIN_COVERAGE else 0.0
        self._points.append(_Point(time, centre, weight, self._shot))

    def ready(self) -> Iterator[int]:
        while self._pending < len(self._points):
            point = self._points[self._pending]
            last = self._points[-1]
            if last.shot == point.shot and last.time < point.time + self.lookahead:
                return  # its future is not all here yet
            yield self._decide()

    def finish(self) -> Iterator[int]:
        while self._pending < len(self._points):
            yield self._decide()

    def _decide(self) -> int:
        point = self._points[self._pending]
        near = [p for p in self._points if p.shot == point.shot and abs(p.time - point.time) <= self.lookahead]
        times = np.array([p.time for p in near])
        gauss = np.exp(-0.5 * ((times - point.time) / self.sigma) ** 2)
        fitted = local_linear_fit(times, np.array([p.centre for p in near]), gauss * np.array([p.weight for p in near]), point.time)
        starts_shot = self._pending == 0 or self._points[self._pending - 1].shot != point.shot
        if starts_shot:
            self._held = None
        if fitted is None:
            centre = 0.5 if self._held is None else self._held
        elif self._held is None:
            centre = fitted
        else:
            centre = min(max(self._held, fitted - self.dead_zone), fitted + self.dead_zone)
        self._held = centre
        self._pending += 1
        while self._points and self._points[0].time < self._points[self._pending - 1].time - self.lookahead and self._pending > 1:
            self._points.popleft()
            self._pending -= 1
        return self.window.offset(centre)
