"""Text overlays: laid out and rasterised once with skia, then blended per frame.

Fonts come from files only — the bundled Noto Sans or a file the project names
— through a font manager that never consults the system's fonts, so a project
gives the same glyphs on every machine. A missing glyph draws as the font's
own 'missing' box; there is no silent fallback to some other font.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from math import ceil, floor

import numpy as np

DEFAULT_FONT = "NotoSans-Regular.ttf"

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextSpec:
    text: str
    font: str | None  # a font file; None = the bundled default
    size: float
    color: RGBA
    position: str | tuple[float, float]  # a named position, or the block's top-left as fractions
    margin: float
    align: str  # left | center | right
    line_spacing: float
    start: Fraction  # output timeline, seconds
    end: Fraction | None
    box: tuple[RGBA, float] | None = None  # colour, padding
    outline: tuple[RGBA, float] | None = None  # colour, width
    shadow: tuple[RGBA, float, float] | None = None  # colour, offset, blur

    def shows_at(self, t: Fraction) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True)
class Layer:
    """A rasterised overlay: premultiplied RGBA pixels and where they go on the frame."""

    x: int
    y: int
    pixels: np.ndarray  # h x w x 4 uint8, premultiplied


def hex_to_rgba(value: str) -> RGBA:
    value = value.lstrip("#")
    alpha = int(value[6:8], 16) if len(value) == 8 else 255
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha)


def default_align(position: str | tuple[float, float]) -> str:
    if isinstance(position, str):
        if position in ("top", "center", "bottom"):
            return "center"
        if position.endswith("right"):
            return "right"
    return "left"


@lru_cache(maxsize=8)
def _typeface(font: str | None):
    import skia

    manager = skia.FontMgr.New_Custom_Empty()  # files only: never the system's fonts
    if font is None:
        data = resources.files("renderer.compose.fonts").joinpath(DEFAULT_FONT).read_bytes()
        typeface = manager.makeFromData(skia.Data.MakeWithCopy(data), 0)
    else:
        typeface = manager.makeFromFile(font, 0)
    if typeface is None:
        from renderer.errors import MediaError

        raise MediaError(f"{font}: not a font skia can read (use a .ttf or .otf file)")
    return typeface


def _font(spec: TextSpec):
    import skia

    font = skia.Font(_typeface(spec.font), spec.size)
    font.setEdging(skia.Font.Edging.kAntiAlias)
    font.setHinting(skia.FontHinting.kNone)
    font.setSubpixel(True)
    return font


def _color(rgba: RGBA):
    import skia

    r, g, b, a = rgba
    return skia.Color(r, g, b, a)


def render_layer(spec: TextSpec, frame_width: int, frame_height: int) -> Layer:
    """Lay out the block (lines, alignment, box, outline, shadow) and rasterise it."""
    import skia

    font = _font(spec)
    metrics = font.getMetrics()
    ascent, descent = -metrics.fAscent, metrics.fDescent
    lines = spec.text.split("\n")
    widths = [font.measureText(line) for line in lines]
    line_height = spec.size * spec.line_spacing
    text_w = max(widths)
    text_h = ascent + descent + line_height * (len(lines) - 1)

    pad = spec.box[1] if spec.box else 0.0
    stroke = spec.outline[1] / 2 if spec.outline else 0.0
    block_w, block_h = text_w + 2 * pad, text_h + 2 * pad
    # Room around the block for the outline and the shadow's offset and blur.
    spill = stroke + (abs(spec.shadow[1]) + 3 * spec.shadow[2] if spec.shadow else 0.0)
    bleed = ceil(spill) + 1

    left, top = _place(spec, block_w, block_h, frame_width, frame_height)
    x0, y0 = floor(left) - bleed, floor(top) - bleed
    width, height = ceil(block_w) + 2 * bleed + 1, ceil(block_h) + 2 * bleed + 1
    ox, oy = left - x0, top - y0  # the block's origin inside the layer

    surface = skia.Surface.MakeRaster(skia.ImageInfo.Make(width, height, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType))
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorTRANSPARENT)
    if spec.box:
        canvas.drawRect(skia.Rect.MakeXYWH(ox, oy, block_w, block_h), skia.Paint(AntiAlias=True, Color=_color(spec.box[0])))

    def draw_lines(paint, dx: float = 0.0, dy: float = 0.0) -> None:
        for i, (line, w) in enumerate(zip(lines, widths)):
            shift = {"left": 0.0, "center": (text_w - w) / 2, "right": text_w - w}[spec.align]
            canvas.drawString(line, ox + pad + shift + dx, oy + pad + ascent + i * line_height + dy, font, paint)

    if spec.shadow:
        color, offset, blur = spec.shadow
        paint = skia.Paint(AntiAlias=True, Color=_color(color))
        if blur > 0:
            paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur))
        draw_lines(paint, offset, offset)
    if spec.outline:
        color, width_px = spec.outline
        draw_lines(skia.Paint(AntiAlias=True, Color=_color(color), Style=skia.Paint.kStroke_Style, StrokeWidth=width_px, StrokeJoin=skia.Paint.kRound_Join))
    draw_lines(skia.Paint(AntiAlias=True, Color=_color(spec.color)))
    # toarray() would unpremultiply by default; blending below expects premultiplied pixels.
    return Layer(x0, y0, surface.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType))


def _place(spec: TextSpec, w: float, h: float, frame_w: int, frame_h: int) -> tuple[float, float]:
    """Top-left of the block for a named position (with margin) or explicit fractions."""
    if not isinstance(spec.position, str):
        fx, fy = spec.position
        return fx * frame_w, fy * frame_h
    vertical, _, horizontal = spec.position.partition("-")
    if spec.position in ("left", "right"):
        vertical, horizontal = "center", spec.position
    elif spec.position in ("top", "bottom", "center"):
        horizontal = "center"
    m = spec.margin
    x = {"left": m, "center": (frame_w - w) / 2, "right": frame_w - m - w}[horizontal]
    y = {"top": m, "center": (frame_h - h) / 2, "bottom": frame_h - m - h}[vertical]
    return x, y


def draw_layer(frame: np.ndarray, layer: Layer) -> np.ndarray:
    """Blend a layer over an RGB frame, or over a straight-alpha RGBA frame ('over' operator)."""
    h, w = frame.shape[:2]
    lh, lw = layer.pixels.shape[:2]
    x0, y0 = max(0, layer.x), max(0, layer.y)
    x1, y1 = min(w, layer.x + lw), min(h, layer.y + lh)
    if x0 >= x1 or y0 >= y1:
        return frame
    src = layer.pixels[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x].astype(np.float32) * np.float32(1 / 255)
    out = frame.copy()
    dst = out[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
    sa = src[..., 3:4]
    if frame.shape[2] == 3:
        blended = src[..., :3] + dst * (1 - sa)
    else:
        da = dst[..., 3:4]
        oa = sa + da * (1 - sa)
        premul = src[..., :3] + dst[..., :3] * da * (1 - sa)
        rgb = np.divide(premul, oa, out=dst[..., :3].copy(), where=oa > 0)  # alpha 0: keep the colours
        blended = np.concatenate([rgb, oa], axis=2)
    out[y0:y1, x0:x1] = np.rint(np.clip(blended, 0, 1) * 255).astype(np.uint8)
    return out
