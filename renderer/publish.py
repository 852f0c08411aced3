"""Outputs published whole: written beside the target under a partial name, then renamed onto it.

A partial output names the process writing it: a file `.NAME.PID-XXXX.vbr-partial.EXT`,
a folder (a PNG sequence) `.NAME.PID-XXXX.vbr-partial`. One whose process is gone was
left by a killed render, and the next render to the same target sweeps it.

A finished folder takes the target's place in one step where the system can swap two
paths atomically (Linux: renameat2 with RENAME_EXCHANGE), so a reader of the target
sees the earlier sequence or the new one, never a mix; the earlier one, now under the
partial name, is deleted after. Elsewhere the earlier folder is renamed aside, the new
one renamed in, and the earlier one deleted.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path

from renderer.atomic import current_umask
from renderer.outputs import is_vbr_sequence

PARTIAL_MARKER = ".vbr-partial"


def partial_prefix(target: Path) -> str:
    """The start of this process's partial names for `target`: `.NAME.PID-`."""
    return f".{target.name}.{os.getpid()}-"


def staging_folder(target: Path) -> Path:
    """A new empty folder beside `target`, partial-named, with the mode a folder gets here."""
    name = tempfile.mkdtemp(prefix=partial_prefix(target), suffix=PARTIAL_MARKER, dir=target.parent)
    os.chmod(name, 0o777 & ~current_umask())  # mkdtemp makes 0700
    return Path(name)


def publish_folder(staged: Path, target: Path) -> None:
    """Put the finished folder `staged` at `target`, replacing an empty folder or an earlier vbr sequence there.

    Raises OSError with the target as it was; `staged` is then still the caller's to remove.
    A folder holding anything else is never replaced: vbr deletes only what it wrote.
    """
    if target.is_dir() and not target.is_symlink() and any(target.iterdir()) and not is_vbr_sequence(target):
        raise FileExistsError(errno.EEXIST, "it holds files vbr did not write", str(target))
    try:
        os.rename(staged, target)  # no target, or an empty folder: replaced in one step
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if _exchange(staged, target):
        _remove(staged)  # the earlier sequence, under the partial name now
        return
    aside = staging_folder(target)
    os.rename(target, aside)  # onto an empty folder: allowed
    try:
        os.rename(staged, target)
    except OSError:
        os.rename(aside, target)
        raise
    _remove(aside)


def publish_files(target: Path, files: dict[str, bytes]) -> None:
    """A folder made of `files` (name -> bytes) published at `target` as publish_folder does."""
    staged = staging_folder(target)
    try:
        for name, data in files.items():
            (staged / name).write_bytes(data)
        publish_folder(staged, target)
    finally:
        if staged.exists():
            _remove(staged)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # what is left keeps its partial name: the next render sweeps it


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False where the system (C library, kernel, filesystem) cannot."""
    if sys.platform != "linux":
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc before 2.28)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def remove_stale_partials(target: Path) -> None:
    """Delete partial outputs (files or folders) for this target left by renders that were killed (SIGKILL, power loss).

    A partial output names the process that writes it; one whose process is gone
    is garbage. A live render's partial output is never touched.
    """
    prefix = f".{target.name}."
    try:
        candidates = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and PARTIAL_MARKER in p.name]
    except OSError:
        return
    for path in candidates:
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                _remove(path)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
