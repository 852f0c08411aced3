"""Which directory is vbr's cache: the one it marked with a standard CACHEDIR.TAG.

vbr deletes only inside a directory it has marked as its own, and there only
the namespaces it knows by name (https://bford.info/cachedir/: backup tools
skip a marked directory too). vbr marks a cache directory when it creates it
or first writes to it, and also adopts one made by an older vbr, which holds
vbr's namespaces and nothing else. It never marks a directory that holds
anything else: a --cache-dir pointed at a folder of photos gets vbr's
entries, but is never marked, so never pruned or cleared.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

TAG_NAME = "CACHEDIR.TAG"
SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
_TAG = SIGNATURE + (
    b"\n# This file is a cache directory tag created by vbr (video background removal).\n"
    b"# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
NAMESPACES = ("masks", "chains", "sources")  # every Store vbr opens; each lives in `<name>-v<FORMAT>/`
_NAMESPACE = re.compile(rf"^(?:{'|'.join(NAMESPACES)})-v\d+$")
_TAG_TEMP_PREFIX = f".{TAG_NAME}."  # a tag being written (or left by a killed writer)


def is_namespace(name: str) -> bool:
    return bool(_NAMESPACE.match(name))


def is_marked(root: Path) -> bool:
    """True when root holds a CACHEDIR.TAG that starts with the standard signature."""
    try:
        with open(root / TAG_NAME, "rb") as handle:
            return handle.read(len(SIGNATURE)) == SIGNATURE
    except OSError:
        return False


def foreign(root: Path) -> list[str]:
    """Names in root that are not vbr's (sorted); empty when it holds only vbr's namespaces and tag."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return sorted(n for n in names if not (is_namespace(n) or n == TAG_NAME or n.startswith(_TAG_TEMP_PREFIX)))


def mark(root: Path) -> bool:
    """Create root if needed and mark it as vbr's cache, unless it holds other things; True when marked."""
    if is_marked(root):
        return True
    root.mkdir(parents=True, exist_ok=True)
    if foreign(root):
        return False
    from renderer.atomic import current_umask

    fd, temp = tempfile.mkstemp(dir=root, prefix=_TAG_TEMP_PREFIX)
    try:
        os.chmod(temp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(_TAG)
        os.replace(temp, root / TAG_NAME)  # concurrent markers write the same bytes
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True
