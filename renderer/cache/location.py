"""Where the cache lives: --cache-dir, else $VBR_CACHE_DIR, else the platform's user cache."""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_MAX_BYTES = 5 * 1000**3  # 5 GB

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def cache_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("VBR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("vbr", appauthor=False))


def parse_size(text: str) -> int:
    """'5GB', '500 MB', '1.5GiB', '1000000' -> bytes (decimal units; binary with 'iB')."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 500MB, 5GB, 2GiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def max_bytes(override: str | None = None) -> int:
    """The size cap: --cache-max-size, else $VBR_CACHE_MAX_SIZE, else 5 GB."""
    text = override or os.environ.get("VBR_CACHE_MAX_SIZE")
    return parse_size(text) if text else DEFAULT_MAX_BYTES


def format_size(n: int) -> str:
    for unit, size in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
