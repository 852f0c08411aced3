"""Content hashes of input files, computed once per file version and remembered.

Keys must follow the bytes, not the name: a source replaced under the same
path gets a new hash. Hashing a long video costs seconds, so the hash is
remembered under (path, size, mtime, inode); any change to those re-hashes.
"""

from __future__ import annotations

import os
from pathlib import Path

from renderer.cache.store import Store
from renderer.digest import digest_of, file_sha256


def content_hash(path: Path, store: Store | None) -> str:
    stat = os.stat(path)
    remembered = digest_of(["file-version", str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino])
    if store is not None:
        known = store.get(remembered)
        if known is not None and len(known) == 64:
            return known.decode("ascii")
    sha = file_sha256(path)
    if store is not None:
        store.put(remembered, sha.encode("ascii"))
    return sha
