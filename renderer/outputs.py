"""The one check every writer makes before writing a path the user named.

A command writes only its own output: never a file it reads (the project,
the source, a background image, a font, a custom model, a batch's rows file)
nor another command's output (a render's export or its manifest, a batch
manifest). Paths are compared resolved (symlinks followed) and, where both
exist, by device and inode, so a symlink or a hard link to an input counts
as the input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

MANIFEST_SUFFIX = ".manifest.json"  # a render's manifest: `<output>.manifest.json`
BATCH_MANIFEST = "batch-manifest.json"  # a batch's manifest, in its output directory

# What a file is to the command ("the source file") and where it is.
Named = tuple[str, Path]


def manifest_path(output: Path) -> Path:
    """Where a render's manifest goes: beside its output."""
    return output.with_name(output.name + MANIFEST_SUFFIX)


def identities(path: Path) -> set[object]:
    """What a file is known by: its resolved path and, when it exists, its device and inode."""
    keys: set[object] = {path.resolve()}
    try:
        stat = os.stat(path)
    except OSError:  # it does not exist (yet)
        return keys
    keys.add((stat.st_dev, stat.st_ino))
    return keys


def overwritten(target: Path, protected: Iterable[Named]) -> str | None:
    """What writing `target` would overwrite among `protected` (the same file under any name: a
    resolved path, or a symbolic or hard link to it), or None."""
    mine = identities(target)
    return next((what for what, path in protected if not mine.isdisjoint(identities(path))), None)


def target_problem(target: Path, protected: Iterable[Named], *, with_manifest: bool = False) -> str | None:
    """Why `target` may not be written (a phrase to follow its name), or None when it may.

    `with_manifest`: the writer also puts `<target>.manifest.json` beside it,
    which must not land on a protected file either.
    """
    protected = list(protected)
    if target.is_dir():
        return f"is a directory: {target.resolve()}"
    what = overwritten(target, protected)
    if what is not None:
        return f"is {what}: it would be overwritten"
    if with_manifest:
        manifest = manifest_path(target)
        what = overwritten(manifest, protected)
        if what is not None:
            return f"would put its manifest {manifest.name} over {what}"
    return None


def reserved_name(target: Path) -> str | None:
    """Why a render may not write `target` under its name (a manifest's), or None."""
    if target.name.endswith(MANIFEST_SUFFIX) or target.name == BATCH_MANIFEST:
        return f"is named like a vbr manifest ({target.name}): that name is kept for manifests"
    return None
