"""sha256 over canonical JSON: the one way vbr names a result by what defines it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any, Iterable


def canonical(value: Any) -> Any:
    """JSON-ready form with one spelling per value (Fractions as "n/d")."""
    if hasattr(value, "key") and callable(value.key):
        return {"node": value.key()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot key a {type(value).__name__}")


def digest_of(value: Any) -> str:
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: PurePath | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def files_sha256(entries: Iterable[tuple[str, str]]) -> str:
    """A folder's sha256 from its (relative name, file sha256) pairs, in any order.

    Names are part of it: a frame renamed, added or taken away changes it, as a changed byte does.
    """
    return digest_of(sorted(entries))


def folder_sha256(folder: Path) -> str:
    """files_sha256 over every file under `folder` (names relative to it, with /)."""
    return files_sha256(
        (path.relative_to(folder).as_posix(), file_sha256(path)) for path in folder.rglob("*") if path.is_file()
    )


def output_sha256(path: Path) -> str:
    """What a render's manifest records of its output: a file's sha256, or a folder's (a PNG sequence)."""
    return folder_sha256(path) if path.is_dir() else file_sha256(path)
