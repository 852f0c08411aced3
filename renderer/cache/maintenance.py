"""Looking after the cache as a whole: its size, LRU pruning, clearing.

Only vbr's own namespaces (`<name>-v<N>/` folders) are ever touched, so a
`--cache-dir` pointed at a folder holding other files cannot lose them.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from renderer.cache.store import TEMP_SUFFIX

_NAMESPACE = re.compile(r"^[a-z]+-v\d+$")
_STALE_TEMP_SECONDS = 3600  # a writer's temp file older than this was left by a killed process


@dataclass(frozen=True)
class CacheInfo:
    location: Path
    bytes: int
    entries: int
    namespaces: dict[str, int]  # entries per namespace


def _namespaces(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and _NAMESPACE.match(p.name))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _entries(namespace: Path) -> Iterator[os.DirEntry]:
    for shard in os.scandir(namespace):
        if shard.is_dir():
            yield from (e for e in os.scandir(shard.path) if e.is_file())


def info(root: Path) -> CacheInfo:
    total = count = 0
    per: dict[str, int] = {}
    for namespace in _namespaces(root):
        n = 0
        for entry in _entries(namespace):
            if entry.name.endswith(TEMP_SUFFIX):
                continue
            total += entry.stat().st_size
            n += 1
        per[namespace.name] = n
        count += n
    return CacheInfo(root, total, count, per)


def prune(root: Path, max_bytes: int) -> tuple[int, int]:
    """Delete least-recently-used entries until the cache fits; returns (entries, bytes) removed."""
    now = time.time()
    entries: list[tuple[float, int, str]] = []
    for namespace in _namespaces(root):
        for entry in _entries(namespace):
            stat = entry.stat()
            if entry.name.endswith(TEMP_SUFFIX):
                if now - stat.st_mtime > _STALE_TEMP_SECONDS:
                    Path(entry.path).unlink(missing_ok=True)
                continue
            entries.append((stat.st_mtime, stat.st_size, entry.path))
    total = sum(size for _, size, _ in entries)
    removed = freed = 0
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        Path(path).unlink(missing_ok=True)
        total -= size
        removed += 1
        freed += size
    return removed, freed


def clear(root: Path) -> int:
    """Remove every vbr namespace under root; returns how many entries went."""
    gone = info(root).entries
    for namespace in _namespaces(root):
        shutil.rmtree(namespace, ignore_errors=True)
    return gone
