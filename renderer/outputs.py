"""The one check every writer makes before writing a path the user named.

A command writes only its own output: never a file it reads (the project,
the source, a background image, a font, a custom model, a batch's rows file)
nor another command's output (a render's export or its manifest, a batch
manifest). Paths are compared resolved (symlinks followed) and, where both
exist, by device and inode, so a symlink or a hard link to an input counts
as the input.

A PNG sequence is a folder: it may replace only an empty folder or an
earlier sequence of vbr's (its manifest beside it names it and the folder
holds nothing else), and no input may be inside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

MANIFEST_SUFFIX = ".manifest.json"  # a render's manifest: `<output>.manifest.json`
BATCH_MANIFEST = "batch-manifest.json"  # a batch's manifest, in its output directory
SEQUENCE_PATTERN = "frame_%05d.png"  # a PNG sequence's frame names when export.path names its folder
SEQUENCE_AUDIO = "audio.wav"  # a PNG sequence's sound, in its folder

# What a file is to the command ("the source file") and where it is.
Named = tuple[str, Path]


def manifest_path(output: Path) -> Path:
    """Where a render's manifest goes: beside its output."""
    return output.with_name(output.name + MANIFEST_SUFFIX)


def sequence_layout(export: Path) -> tuple[Path, str]:
    """A PNG sequence's folder and frame-name pattern: export.path names the folder, or a
    pattern (`out/frame_%05d.png`) whose parent is the folder."""
    if export.suffix.lower() == ".png":
        return export.parent, export.name
    return export, SEQUENCE_PATTERN


def sequence_names(pattern: str, frames: int) -> list[str]:
    """The file names of a sequence's frames, numbered from 0."""
    return [pattern % index for index in range(frames)]


def is_vbr_sequence(folder: Path) -> bool:
    """Whether `folder` is a PNG sequence vbr wrote: its manifest names it, and it holds
    nothing but that sequence's frames and sound (none of them a link or a folder)."""
    try:
        manifest: Any = json.loads(manifest_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("output") != folder.name:
        return False
    pattern, frames = manifest.get("pattern"), manifest.get("frames")
    if not isinstance(pattern, str) or not isinstance(frames, int):
        return False
    try:
        expected = {*sequence_names(pattern, frames), SEQUENCE_AUDIO}
        return all(entry.name in expected and entry.is_file(follow_symlinks=False) for entry in os.scandir(folder))
    except (OSError, TypeError, ValueError):  # TypeError, ValueError: a pattern that is not one
        return False


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


def target_problem(
    target: Path, protected: Iterable[Named], *, with_manifest: bool = False, folder: bool = False
) -> str | None:
    """Why `target` may not be written (a phrase to follow its name), or None when it may.

    `with_manifest`: the writer also puts `<target>.manifest.json` beside it,
    which must not land on a protected file either. `folder`: the target is a
    PNG sequence's folder (see folder_problem).
    """
    protected = list(protected)
    if folder:
        refused = folder_problem(target, protected)
        if refused is not None:
            return refused
    elif target.is_dir():
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


def folder_problem(folder: Path, protected: list[Named]) -> str | None:
    """Why a PNG sequence may not be published at `folder`, or None: it is a file, it holds
    (at any depth) a protected file, or it is a folder vbr did not write that is not empty."""
    if folder.exists() and not folder.is_dir():
        return f"is a file, not a folder: a PNG sequence is written into a folder of its own ({folder.resolve()})"
    inside = folder.resolve()
    for what, path in protected:
        if path.resolve().is_relative_to(inside):
            return f"would hold {what} ({path}): a PNG sequence's folder holds its frames alone"
    if not folder.is_dir():
        return None
    try:
        entries = sorted(entry.name for entry in os.scandir(folder))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if entries and not is_vbr_sequence(folder):
        shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        return (
            f"is a folder vbr did not write (it holds {shown}): a PNG sequence replaces only an empty folder "
            "or an earlier sequence of vbr's"
        )
    return None


def reserved_name(target: Path) -> str | None:
    """Why a render may not write `target` under its name (a manifest's), or None."""
    if target.name.endswith(MANIFEST_SUFFIX) or target.name == BATCH_MANIFEST:
        return f"is named like a vbr manifest ({target.name}): that name is kept for manifests"
    return None
