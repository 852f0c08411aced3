"""Immutable, checksummed cache entries, published atomically.

An entry is a file `<root>/<namespace>-v<FORMAT>/ab/cdef...` holding a small
header (magic, sha256 of the payload, payload length) and the payload. A read
that finds a short, garbled or mismatching entry deletes it and reports a
miss, so a damaged cache costs a recomputation, never a wrong result. Writes
go to a temporary file in the same directory and are renamed into place, so
concurrent writers of one key replace one good copy with another.

Reads touch the entry's mtime: pruning removes the least recently used first.
The first write marks the cache directory as vbr's (see tag.py).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from pathlib import Path
from typing import Callable

from renderer.cache.tag import NAMESPACES, mark

FORMAT = 1
_MAGIC = b"VBRC"
_HEADER = struct.Struct(">4s32sQ")  # magic, sha256(payload), payload length
TEMP_SUFFIX = ".vbr-tmp"


class Store:
    """One namespace of the cache. After an I/O failure it warns once and turns itself off."""

    def __init__(self, root: Path, namespace: str, warn: Callable[[str], None] | None = None):
        if namespace not in NAMESPACES:
            raise ValueError(f"cache namespace {namespace!r} is not in tag.NAMESPACES: maintenance would not know it")
        self.root = root
        self.dir = root / f"{namespace}-v{FORMAT}"
        self.marked = False  # the root checked (and marked when it is vbr's to mark) by this store
        self.warn = warn or (lambda message: None)
        self.enabled = True
        self.discarded = 0  # corrupt entries found and removed

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / key[2:]

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            self._disable(f"cannot read the cache ({exc.strerror or exc}); continuing without it")
            return None
        payload = _unpack(blob)
        if payload is None:
            self.discarded += 1
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only cache still serves hits
        return payload

    def put(self, key: str, payload: bytes) -> None:
        if not self.enabled:
            return
        path = self.path(key)
        try:
            if not self.marked:
                mark(self.root)
                self.marked = True
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=TEMP_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_HEADER.pack(_MAGIC, hashlib.sha256(payload).digest(), len(payload)))
                    handle.write(payload)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self._disable(f"cannot write to the cache at {self.dir} ({exc.strerror or exc}); continuing without caching")

    def _disable(self, message: str) -> None:
        if self.enabled:
            self.enabled = False
            self.warn(message)


def _unpack(blob: bytes) -> bytes | None:
    if len(blob) < _HEADER.size:
        return None
    magic, digest, length = _HEADER.unpack_from(blob)
    payload = blob[_HEADER.size :]
    if magic != _MAGIC or length != len(payload) or hashlib.sha256(payload).digest() != digest:
        return None
    return payload
