"""Output frame sizes: the export's height, the source's display shape, and what the encoders take.

Pure arithmetic (no PyAV), so validation can refuse a size before anything is
decoded, inferred or written.
"""

from __future__ import annotations

from fractions import Fraction

RESOLUTIONS = {"1080p": 1080, "720p": 720, "480p": 480}

# The largest frame side each export format's encoder opens with (checked against the
# FFmpeg builds PyAV ships): x264 refuses either side over 16384 ("invalid width x
# height"); libvpx's VP9 encoder keeps sizes in 16 bits and refuses over 65536. Both
# take anything down to 2x2, and 4:2:0 needs even sides, which output_size gives.
ENCODER_MAX_SIDE = {"mp4": ("H.264 (MP4)", 16384), "webm": ("VP9 (WebM)", 65536)}


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
