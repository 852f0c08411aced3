"""Timecodes: seconds or "[HH:]MM:SS[.mmm]", parsed to exact Fractions.

Fractions keep frame arithmetic exact: 0.1 s stays 1/10 s, so trim points and
frame counts never drift by a float rounding error.
"""

from __future__ import annotations

import re
from fractions import Fraction

# "[HH:]MM:SS[.mmm]", or plain seconds written as a string ("4", "2.5").
TIMECODE_PATTERN = r"^(?:(?:(\d+):)?([0-5]?\d):([0-5]\d)|(\d+))(?:\.(\d{1,3}))?$"
_TIMECODE = re.compile(TIMECODE_PATTERN)


def parse_timecode(value: float | int | str) -> Fraction:
    """Seconds as an exact Fraction; raises ValueError on anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a timecode: {value!r}")
    if isinstance(value, int):
        seconds = Fraction(value)
    elif isinstance(value, float):
        # str() gives the shortest decimal that round-trips, so 0.1 -> 1/10.
        seconds = Fraction(str(value))
    elif isinstance(value, str):
        match = _TIMECODE.match(value.strip())
        if not match:
            raise ValueError(f"not a timecode: {value!r} (use seconds or [HH:]MM:SS[.mmm])")
        hours, minutes, secs, plain, millis = match.groups()
        if plain is not None:
            seconds = Fraction(int(plain))
        else:
            seconds = Fraction(int(hours or 0) * 3600 + int(minutes) * 60 + int(secs))
        if millis:
            seconds += Fraction(int(millis), 10 ** len(millis))
    else:
        raise ValueError(f"not a timecode: {value!r}")
    if seconds < 0:
        raise ValueError(f"timecode is negative: {value!r}")
    return seconds


def format_seconds(seconds: Fraction | float) -> str:
    """Human form for messages: 4.04 s -> '00:04.040'."""
    total_ms = round(float(seconds) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    head = f"{hours:02d}:" if hours else ""
    return f"{head}{minutes:02d}:{secs:02d}.{ms:03d}"
