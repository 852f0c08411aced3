"""Looking after the cache as a whole: its size, LRU pruning, clearing.

Nothing is deleted outside a directory marked as vbr's (tag.py), and inside
one only the namespaces vbr knows by name (`masks-v1/`, ...), so a
`--cache-dir` pointed at a folder holding other files cannot lose them.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from renderer.cache.store import TEMP_SUFFIX
from renderer.cache.tag import TAG_NAME, foreign, is_marked, is_namespace, mark
from renderer.errors import UsageError

_STALE_TEMP_SECONDS = 3600  # a writer's temp file older than this was left by a killed process


@dataclass(frozen=True)
class CacheInfo:
    location: Path
    bytes: int
    entries: int
    namespaces: dict[str, int]  # entries per namespace


class NotACache(UsageError):
    """The cache directory is not marked as vbr's and holds other things: nothing there is deleted."""

    def __init__(self, root: Path, others: list[str]):
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        super().__init__(
            f"{root} is not marked as vbr's cache (no {TAG_NAME}) and holds other files ({shown}); "
            "vbr deletes nothing there: give vbr a cache directory of its own (--cache-dir, VBR_CACHE_DIR)"
        )


def _namespaces(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and is_namespace(p.name))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _claim(root: Path) -> None:
    """Before deleting anything: root is vbr's, or an older vbr's cache (adopted: marked now), or refused."""
    if not root.is_dir() or is_marked(root):
        return
    others = foreign(root)
    if others:
        raise NotACache(root, others)
    if _namespaces(root):
        try:
            mark(root)
        except OSError:
            pass  # only a courtesy here: root holds nothing but vbr's namespaces, so deleting in it is safe


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
    _claim(root)
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


def prune_after_render(root: Path, max_bytes: int, warn: Callable[[str], None]) -> None:
    """The automatic prune: a cache directory that is not vbr's gets a warning and is left alone."""
    try:
        prune(root, max_bytes)
    except NotACache as exc:
        warn(f"cache not pruned: {exc}")


def clear(root: Path) -> int:
    """Remove every vbr namespace under root; returns how many entries went."""
    _claim(root)
    gone = info(root).entries
    for namespace in _namespaces(root):
        shutil.rmtree(namespace, ignore_errors=True)
    return gone
