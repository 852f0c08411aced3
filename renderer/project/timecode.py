"""Timecodes: seconds or "[HH:]MM:SS[.fff]", parsed to exact Fractions.

Fractions keep frame arithmetic exact: 0.1 s stays 1/10 s, so trim points and
frame counts never drift by a float rounding error. Any decimal number of
seconds is a time, however many decimals it has or however it is written
("0.2000", "1.5e1"): which frame it lands on is decided later, in one place
per use (see the README's "Times and frames").
"""

from __future__ import annotations

import re
from fractions import Fraction

# "[HH:]MM:SS[.fff]", or plain seconds written as a string ("4", "2.5", ".5", "1.5e1").
# ASCII digits only; an exponent has at most three digits (1e999 s is no time anyway,
# and a larger one would make an exact fraction of absurd size).
TIMECODE_PATTERN = (
    r"^(?:(?:([0-9]+):)?([0-5]?[0-9]):([0-5][0-9])(?:\.([0-9]+))?"
    r"|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?)$"
)
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
            raise ValueError(f"not a timecode: {value!r} (use seconds or [HH:]MM:SS[.fff])")
        hours, minutes, secs, fraction, plain, exponent = match.groups()
        if plain is not None:
            seconds = Fraction(plain + (exponent or ""))  # a decimal string converts exactly
        else:
            seconds = Fraction(int(hours or 0) * 3600 + int(minutes) * 60 + int(secs))
            if fraction:
                seconds += Fraction(int(fraction), 10 ** len(fraction))
    else:
        raise ValueError(f"not a timecode: {value!r}")
    if seconds < 0:
        raise ValueError(f"timecode is negative: {value!r}")
    return seconds


def format_seconds(seconds: Fraction | float) -> str:
    """Human form for messages: 4.04 s -> '00:04.040'. Exact: any size of number fits."""
    total_ms = round(_exact(seconds) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    head = f"{hours:02d}:" if hours else ""
    return f"{head}{minutes:02d}:{secs:02d}.{ms:03d}"


def _exact(seconds: Fraction | float | int) -> Fraction:
    return seconds if isinstance(seconds, Fraction) else Fraction(str(seconds))


def seconds_apart(a: Fraction | float, b: Fraction | float) -> tuple[str, str]:
    """Two different times as plain seconds, with as few decimals as tell them apart.

    For messages comparing two times ("1.1 s is longer than 1 s"), where rounding
    both the same way would show two equal numbers.
    """
    exact = _exact(a), _exact(b)
    # One digit more than the first that differs, so 0.25 shows as 0.25, not 0.2 beside 0.3.
    for digits in range(1, 13):
        coarse = [_decimal(x, digits - 1) for x in exact]
        shown = (_decimal(exact[0], digits), _decimal(exact[1], digits))
        if coarse[0] != coarse[1] and shown[0] != shown[1]:
            return shown
    return shown


def _decimal(value: Fraction, digits: int) -> str:
    scaled = round(value * 10**digits)
    whole, part = divmod(abs(scaled), 10**digits)
    text = f"{whole}.{part:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return f"-{text}" if scaled < 0 else text
