"""How large a source vbr accepts: generous defaults, configurable by environment.

A limit exists so that a mistaken file (a 16K still sequence, a day-long
screen recording) is refused at validation, not hours into a render.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

from renderer.errors import UsageError

DEFAULT_MAX_SIDE = 8192  # pixels, either dimension: 8K (DCI) fits
DEFAULT_MAX_SECONDS = Fraction(3 * 3600)  # of rendered time


@dataclass(frozen=True)
class Limits:
    max_side: int  # pixels, of the source's frames as stored and of the output's frames
    max_seconds: Fraction


def limits() -> Limits:
    """$VBR_MAX_FRAME_SIZE (pixels per side) and $VBR_MAX_DURATION (seconds or [HH:]MM:SS), else the defaults."""
    from renderer.project.timecode import parse_timecode

    side_text = os.environ.get("VBR_MAX_FRAME_SIZE")
    duration_text = os.environ.get("VBR_MAX_DURATION")
    try:
        side = int(side_text) if side_text else DEFAULT_MAX_SIDE
        seconds = parse_timecode(duration_text) if duration_text else DEFAULT_MAX_SECONDS
    except ValueError:
        raise UsageError(
            f"vbr: VBR_MAX_FRAME_SIZE={side_text!r} / VBR_MAX_DURATION={duration_text!r}: "
            "expected pixels (e.g. 8192) and seconds or [HH:]MM:SS (e.g. 3:00:00)"
        ) from None
    if side < 16 or seconds <= 0:
        raise UsageError("vbr: VBR_MAX_FRAME_SIZE must be at least 16 and VBR_MAX_DURATION above 0")
    return Limits(side, seconds)
