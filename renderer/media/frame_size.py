"""Output frame sizes: the export's height, the source's display shape, and what the encoders take.

Pure arithmetic (no PyAV), so validation can refuse a size before anything is
decoded, inferred or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

RESOLUTIONS = {"1080p": 1080, "720p": 720, "480p": 480}

# The largest frame side each export format's encoder opens with (checked against the
# FFmpeg builds PyAV ships): x264 refuses either side over 16384 ("invalid width x
# height"); libvpx's VP9 encoder keeps sizes in 16 bits and refuses over 65536. Both
# take anything down to 2x2, and 4:2:0 needs even sides, which output_size gives.
# ProRes keeps each side in 16 bits (65535 encodes and reads back, 65536 is refused).
# PNG stores 31 bits, but FFmpeg checks every picture's size (8 (w + 128) (h + 128)
# under 2^31): the widest 2-pixel-high frame its PNG encoder writes and decoder reads
# back is 2064704 (a square stops near 16250 sides, for every format alike).
ENCODER_MAX_SIDE = {
    "mp4": ("H.264 (MP4)", 16384),
    "webm": ("VP9 (WebM)", 65536),
    "mov": ("ProRes (MOV)", 65535),
    "png": ("PNG", 2064704),
}


def output_size(resolution: str, height: int, aspect: Fraction) -> tuple[int, int]:
    """Height from the preset (or the source's), width by the source's *display* aspect; both even.

    `aspect` is displayed width over height, the sample aspect ratio included,
    so an anamorphic source keeps its shape in square output pixels.
    """
    out_h = max(2, RESOLUTIONS.get(resolution, height) // 2 * 2)
    return max(2, round(out_h * aspect / 2) * 2), out_h


def size_problem(width: int, height: int, fmt: str, max_side: int) -> str | None:
    """Why width x height frames cannot be exported as `fmt` (the encoder's limit, or
    VBR_MAX_FRAME_SIZE when that is lower); None when they can."""
    codec, encoder_max = ENCODER_MAX_SIDE[fmt]
    if max(width, height) <= min(encoder_max, max_side):
        return None
    if encoder_max <= max_side:
        return f"larger than {codec} takes ({encoder_max} pixels a side)"
    return f"over the limit of {max_side} pixels a side (VBR_MAX_FRAME_SIZE raises it)"


ASPECTS = {"16:9": Fraction(16, 9), "1:1": Fraction(1), "4:5": Fraction(4, 5), "9:16": Fraction(9, 16)}


@dataclass(frozen=True)
class Framing:
    """An output of another shape than the source: a window sliding over the scaled picture.

    The whole picture is scaled to `full` so that the window is exactly the
    output (`width` x `height`); the window moves along `axis` (0: x, 1: y).
    """

    width: int
    height: int
    full: tuple[int, int]
    axis: int


def _even(x: Fraction | float) -> int:
    return max(2, round(x / 2) * 2)


def framing(resolution: str, height: int, source_aspect: Fraction, aspect: str) -> Framing | None:
    """The window for `export.aspect`, or None when the output keeps the source's shape.

    `original` keeps the window's own source pixels (9:16 of 1280x720: 404x720);
    a preset sets the output's shorter side (1080p at 9:16: 1080x1920).
    """
    if aspect == "original" or ASPECTS[aspect] == source_aspect:
        return None
    target = ASPECTS[aspect]
    narrower = target < source_aspect
    if resolution == "original":
        if narrower:
            out_h = _even(Fraction(height))
            out_w = _even(out_h * target)
        else:
            out_w = _even(height * source_aspect)
            out_h = _even(out_w / target)
    else:
        short = RESOLUTIONS[resolution]
        out_w, out_h = (short, _even(short / target)) if target <= 1 else (_even(short * target), short)
    if narrower:
        return Framing(out_w, out_h, (max(out_w, round(out_h * source_aspect)), out_h), 0)
    return Framing(out_w, out_h, (out_w, max(out_h, round(out_w / source_aspect))), 1)
