"""Footage with a known matte, made in code, for the quality benchmark.

A subject (an opaque body, a see-through veil of alpha 0.4, and a fringe of
1-2 px hair-like strands, partly transparent) moves over background frames:
it translates, turns and grows, and its strands sway as it goes; for a while
it holds perfectly still. Each shot has its own subject and its own
background; between shots is a hard cut. Shapes are drawn from distances to
their outlines, so every edge is antialiased (the coverage of a 1 px wide box
filter across the edge). Fresh camera-like grain on every frame (the same on
subject and background) keeps the model's input changing on the still
stretch, as real footage does.

The true alpha and foreground colour (grain included) of every pixel are
kept; the source frame is round(fg * a + bg * (1 - a)), so they are the exact
truth for it. Everything is deterministic: subjects and grain come from seeded
generators, the motion from formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import cos, pi, sin
from typing import Callable

import numpy as np

UNIT_HEIGHT = 540  # subjects are laid out in units of a 540-line frame, scaled to the real height
VEIL_ALPHA = 0.4
STEPS = 14  # segments per strand


@dataclass(frozen=True)
class Ellipse:
    x: float
    y: float
    rx: float
    ry: float
    top: tuple[int, int, int]  # colour at the top of the ellipse, fading to `bottom`
    bottom: tuple[int, int, int]


@dataclass(frozen=True)
class Strand:
    root: tuple[float, float]
    angle: float  # initial direction, radians (y points down)
    length: float
    bend: float  # radians of turn over the whole length
    droop: float  # 0..1: how far it turns towards hanging straight down
    width: float  # units; at scale 1 in a 540-line frame, pixels
    opacity: float
    colour: tuple[int, int, int]
    phase: float  # of its sway


@dataclass(frozen=True)
class Subject:
    body: tuple[Ellipse, ...]  # opaque, their union
    veil: Ellipse  # alpha VEIL_ALPHA, behind the body
    strands: tuple[Strand, ...]  # over the body
    reach: float  # units from the origin that contain everything


@dataclass(frozen=True)
class Pose:
    x: float  # centre, pixels
    y: float
    angle: float  # radians
    scale: float  # output pixels per unit
    sway: float  # radians added along each strand (times its sway phase)


@dataclass(frozen=True)
class Shot:
    subject: Subject
    frames: int
    pose: Callable[[float, int, int], Pose]  # (progress 0..1, width, height) -> pose


@dataclass
class Truth:
    """What the benchmark scores against, per frame."""

    alpha: np.ndarray  # N x H x W float32, 0..1
    foreground: np.ndarray  # N x H x W x 3 uint8 (0 where alpha is 0)
    shots: tuple[int, ...]  # first frame of each shot: a hard cut before each one after 0


def _column(strands: tuple[Strand, ...], name: str) -> np.ndarray:
    """One field of every strand, as an n x 1 column."""
    return np.array([getattr(strand, name) for strand in strands], np.float64)[:, None]


def _strand_points(strands: tuple[Strand, ...], sway: float) -> np.ndarray:
    """n x (STEPS + 1) x 2 unit coordinates along each strand: bending, drooping, swaying."""
    s = np.linspace(0.0, 1.0, STEPS + 1)[None, 1:]
    angle = _column(strands, "angle")
    turn = (pi / 2 - angle + pi) % (2 * pi) - pi  # the shorter way round to hanging straight down
    angles = angle + _column(strands, "bend") * s + _column(strands, "droop") * turn * s**2
    angles += sway * np.sin(_column(strands, "phase")) * s
    step = _column(strands, "length") / STEPS
    roots = np.array([strand.root for strand in strands], np.float64)
    xs = np.concatenate([roots[:, :1], roots[:, :1] + np.cumsum(step * np.cos(angles), axis=1)], axis=1)
    ys = np.concatenate([roots[:, 1:], roots[:, 1:] + np.cumsum(step * np.sin(angles), axis=1)], axis=1)
    return np.stack([xs, ys], axis=2)


def _ellipse_distance(qx: np.ndarray, qy: np.ndarray, e: Ellipse) -> np.ndarray:
    """Signed distance (units, < 0 inside) to an ellipse; first-order accurate near its outline."""
    ux, uy = (qx - e.x) / e.rx, (qy - e.y) / e.ry
    k0 = np.sqrt(ux * ux + uy * uy)
    k1 = np.sqrt((ux / e.rx) ** 2 + (uy / e.ry) ** 2)
    return k0 * (k0 - 1) / np.maximum(k1, 1e-9)


def _ellipse_colour(qy: np.ndarray, e: Ellipse) -> np.ndarray:
    t = np.clip((qy - (e.y - e.ry)) / (2 * e.ry), 0, 1)[..., None]
    return np.asarray(e.top, np.float32) * (1 - t) + np.asarray(e.bottom, np.float32) * t


def _over(premult: np.ndarray, alpha: np.ndarray, colour: np.ndarray, cover: np.ndarray) -> None:
    """Layer `colour` with coverage `cover` over (premult, alpha), in place."""
    c = cover[..., None]
    premult *= 1 - c
    premult += colour * c
    alpha[...] = 1 - (1 - alpha) * (1 - cover)  # so an opaque layer gives exactly 1


def render_subject(subject: Subject, pose: Pose, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The subject alone: H x W float32 alpha and H x W x 3 uint8 straight colour (0 where alpha is 0)."""
    alpha = np.zeros((height, width), np.float32)
    fg = np.zeros((height, width, 3), np.uint8)
    r = subject.reach * pose.scale + 2
    x0, x1 = max(0, int(pose.x - r)), min(width, int(pose.x + r) + 1)
    y0, y1 = max(0, int(pose.y - r)), min(height, int(pose.y + r) + 1)
    if x0 >= x1 or y0 >= y1:
        return alpha, fg
    px = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(pose.x)
    py = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(pose.y)
    c, s = cos(pose.angle), sin(pose.angle)
    qx = (c * px + s * py) / pose.scale  # pixel -> subject units (inverse rotation)
    qy = (-s * px + c * py) / pose.scale
    a = np.zeros((y1 - y0, x1 - x0), np.float32)
    p = np.zeros((y1 - y0, x1 - x0, 3), np.float32)

    veil = VEIL_ALPHA * np.clip(0.5 - _ellipse_distance(qx, qy, subject.veil) * pose.scale, 0, 1)
    _over(p, a, _ellipse_colour(qy, subject.veil), veil)
    distances = np.stack([_ellipse_distance(qx, qy, e) * pose.scale for e in subject.body])
    body = np.clip(0.5 - distances.min(axis=0), 0, 1)
    nearest = np.argmin(distances, axis=0)
    colour = np.zeros_like(p)
    for i, e in enumerate(subject.body):
        part = (nearest == i) & (body > 0)
        colour[part] = _ellipse_colour(qy[part], e)
    _over(p, a, colour, body)

    if subject.strands:
        cover, colour = _strands(subject.strands, pose, x0, y0, a.shape)
        _over(p, a, colour, cover)

    alpha[y0:y1, x0:x1] = a
    shown = a > 0
    fg[y0:y1, x0:x1][shown] = np.clip(np.rint(p[shown] / a[shown][:, None]), 0, 255).astype(np.uint8)
    return alpha, fg


def _strands(
    strands: tuple[Strand, ...], pose: Pose, x0: int, y0: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """All strands as one layer over a box whose pixel (0, 0) is the frame's (x0, y0): coverage, colour.

    A strand covers a pixel by max(0, min(1, width/2 + 0.5 - distance)) times
    its opacity, the distance being to its nearest segment (each segment is
    measured only in a small window around it). Strands layer like `over`:
    coverage 1 - prod(1 - c); colour the coverage-weighted mean of theirs.
    """
    q = _strand_points(strands, pose.sway)
    c, s = cos(pose.angle), sin(pose.angle)
    xs = pose.x + pose.scale * (c * q[..., 0] - s * q[..., 1]) - x0  # n x (STEPS + 1), box pixels
    ys = pose.y + pose.scale * (s * q[..., 0] + c * q[..., 1]) - y0
    half = np.array([strand.width for strand in strands]) * pose.scale / 2
    reach = half + 1  # beyond this a pixel is not covered at all
    ax, ay = xs[:, :-1].ravel(), ys[:, :-1].ravel()  # one row per segment
    dx, dy = np.diff(xs, axis=1).ravel(), np.diff(ys, axis=1).ravel()
    owner = np.repeat(np.arange(len(strands)), STEPS)
    r = reach[owner]
    size = int(np.ceil(max(np.abs(dx).max(), np.abs(dy).max()) + 2 * r.max())) + 2
    wx = (np.floor(np.minimum(ax, ax + dx) - r).astype(int)[:, None] + np.arange(size))[:, None, :]
    wy = (np.floor(np.minimum(ay, ay + dy) - r).astype(int)[:, None] + np.arange(size))[:, :, None]
    gx, gy = wx - ax[:, None, None], wy - ay[:, None, None]
    ddx, ddy = dx[:, None, None], dy[:, None, None]
    t = np.clip((gx * ddx + gy * ddy) / np.maximum(ddx * ddx + ddy * ddy, 1e-12), 0, 1)
    distance = np.sqrt((gx - t * ddx) ** 2 + (gy - t * ddy) ** 2)
    opacity = np.array([strand.opacity for strand in strands])
    cover = opacity[owner][:, None, None] * np.clip(half[owner][:, None, None] + 0.5 - distance, 0, 1)
    height, width = shape[:2]
    keep = (cover > 0) & (wx >= 0) & (wx < width) & (wy >= 0) & (wy < height)
    pixel = np.broadcast_to(wy * width + wx, cover.shape)[keep]
    who = np.broadcast_to(owner[:, None, None], cover.shape)[keep]
    value = cover[keep]
    # Per strand and pixel, the largest coverage of its segments: sort, keep each group's last.
    key = who.astype(np.int64) * (width * height) + pixel
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    last = np.append(key[1:] != key[:-1], True)
    pixel, who, value = pixel[order][last], who[order][last], value[last]
    total = height * width
    alpha = 1 - np.exp(np.bincount(pixel, np.log1p(-np.minimum(value, 0.999)), total))
    weight = np.bincount(pixel, value, total)
    colours = np.array([strand.colour for strand in strands], np.float64)[who]
    colour = np.stack([np.bincount(pixel, value * colours[:, k], total) for k in range(3)], axis=1)
    colour /= np.maximum(weight, 1e-12)[:, None]
    return alpha.reshape(height, width).astype(np.float32), colour.reshape(height, width, 3).astype(np.float32)


def composite_source(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """round(fg * a + bg * (1 - a)): the source pixel the truth describes."""
    a = alpha[..., None]
    return np.clip(np.rint(fg * a + background * (1 - a)), 0, 255).astype(np.uint8)


def _jitter(rng: np.random.Generator, colour: tuple[int, int, int], spread: int) -> tuple[int, int, int]:
    r, g, b = (int(np.clip(v + rng.integers(-spread, spread + 1), 0, 255)) for v in colour)
    return r, g, b


def _fringe(
    rng: np.random.Generator, around: Ellipse, count: int, arc: tuple[float, float], length: tuple[float, float],
    droop: tuple[float, float], bend: float, colour: tuple[int, int, int],
) -> list[Strand]:
    """Strands rooted just inside an ellipse's outline, leaving it roughly along its normal."""
    strands = []
    for _ in range(count):
        t = rng.uniform(*arc)
        root = (around.x + 0.92 * around.rx * cos(t), around.y + 0.92 * around.ry * sin(t))
        normal = np.arctan2(sin(t) / around.ry, cos(t) / around.rx)
        strands.append(
            Strand(
                root=root,
                angle=float(normal + rng.uniform(-0.6, 0.6)),
                length=float(rng.uniform(*length)),
                bend=float(rng.uniform(-bend, bend)),
                droop=float(rng.uniform(*droop)),
                width=float(rng.uniform(0.9, 1.8)),
                opacity=float(rng.uniform(0.55, 0.95)),
                colour=_jitter(rng, colour, 25),
                phase=float(rng.uniform(0, 2 * pi)),
            )
        )
    return strands


def creature(seed: int) -> Subject:
    """A furry round creature with ears and a lavender veil beside it."""
    rng = np.random.default_rng(seed)
    body = (
        Ellipse(0, 10, 95, 115, (214, 136, 70), (150, 84, 40)),
        Ellipse(0, -120, 62, 56, (228, 156, 88), (206, 128, 66)),
        Ellipse(-38, -178, 14, 36, (236, 170, 110), (214, 140, 80)),
        Ellipse(38, -178, 14, 36, (236, 170, 110), (214, 140, 80)),
    )
    veil = Ellipse(105, 30, 75, 115, (235, 225, 255), (190, 170, 240))
    strands = _fringe(rng, body[0], 110, (-pi, pi), (18, 55), (0.0, 0.3), 1.2, (240, 190, 130))
    strands += _fringe(rng, body[1], 50, (-pi, 0.2), (15, 45), (0.0, 0.3), 1.2, (245, 200, 140))
    return Subject(body, veil, tuple(strands), reach=260)


def figure(seed: int) -> Subject:
    """A figure with long dark hanging hair and a pink see-through shawl."""
    rng = np.random.default_rng(seed)
    body = (
        Ellipse(0, 40, 80, 125, (60, 90, 205), (35, 50, 140)),
        Ellipse(0, -130, 50, 58, (200, 40, 60), (170, 30, 50)),
        Ellipse(0, -75, 24, 30, (170, 30, 50), (60, 90, 205)),
    )
    veil = Ellipse(0, 20, 165, 55, (245, 80, 150), (220, 50, 120))
    head = body[1]
    strands = _fringe(rng, head, 120, (-pi - 0.3, 0.3), (70, 160), (0.9, 1.0), 0.3, (80, 50, 30))
    strands += _fringe(rng, head, 25, (-pi * 0.85, -pi * 0.15), (20, 45), (0.0, 0.2), 1.0, (110, 75, 45))
    return Subject(body, veil, tuple(strands), reach=300)


def _eased(t: float) -> float:
    return t * t * (3 - 2 * t)


def _with_hold(t: float, start: float, end: float) -> float:
    """Progress that stops between `start` and `end` (a still stretch), easing in and out of it."""
    moving = 1 - (end - start)
    if t < start:
        return start / moving * _eased(t / start) if start else 0.0
    if t < end:
        return start / moving
    return (start + (1 - end) * _eased((t - end) / (1 - end))) / moving


def default_shots(frames: int) -> list[Shot]:
    """Two shots: the creature walks right, pauses, goes on; after the cut the figure drifts right from the left."""
    first = frames * 56 // 100

    def walk(t: float, w: int, h: int) -> Pose:
        u = _with_hold(t, 0.4, 0.65)
        unit = h / UNIT_HEIGHT
        return Pose(
            x=w * (0.3 + 0.35 * u), y=h * (0.56 + 0.04 * sin(2 * pi * u)), angle=-0.14 + 0.28 * u,
            scale=unit * (0.9 + 0.2 * u), sway=0.25 * sin(2 * pi * 1.5 * u),
        )

    def drift(t: float, w: int, h: int) -> Pose:
        unit = h / UNIT_HEIGHT
        return Pose(
            x=w * (0.34 + 0.26 * t), y=h * (0.5 + 0.03 * t), angle=0.1 - 0.2 * t, scale=unit * (1.05 - 0.12 * t),
            sway=0.3 * sin(2 * pi * 1.2 * t),
        )

    return [Shot(creature(12), first, walk), Shot(figure(34), frames - first, drift)]


GRAIN = 2.0  # standard deviation of the grain, in 8-bit levels


def _grainy(image: np.ndarray, grain: np.ndarray) -> np.ndarray:
    return np.clip(image + grain, 0, 255).astype(np.uint8)


def make_clip(
    shots: list[Shot], background: Callable[[int, int], np.ndarray], width: int, height: int, seed: int = 7
) -> tuple[list[np.ndarray], Truth]:
    """Source frames and the truth for them; background(shot, frame in shot) -> H x W x 3 uint8."""
    total = sum(shot.frames for shot in shots)
    truth = Truth(
        np.zeros((total, height, width), np.float32), np.zeros((total, height, width, 3), np.uint8),
        tuple(int(v) for v in np.cumsum([0] + [shot.frames for shot in shots[:-1]])),
    )
    rng = np.random.default_rng(seed)
    frames = []
    for number, shot in enumerate(shots):
        for i in range(shot.frames):
            t = i / max(1, shot.frames - 1)
            alpha, fg = render_subject(shot.subject, shot.pose(t, width, height), width, height)
            grain = np.rint(rng.normal(0, GRAIN, (height, width, 3))).astype(np.int16)
            fg = np.where(alpha[..., None] > 0, _grainy(fg, grain), 0).astype(np.uint8)
            truth.alpha[len(frames)], truth.foreground[len(frames)] = alpha, fg
            frames.append(composite_source(fg, alpha, _grainy(background(number, i), grain)))
    return frames, truth
