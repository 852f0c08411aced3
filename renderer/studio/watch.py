"""The project's files, watched: a save reloads the session within a fraction of a second.

Directories are watched, not files, so an editor that saves by writing a new
file and renaming it over the old one is seen too; only changes to the files
the project reads (the project file, its inputs, the rows file) count. When a
reload changes that set (a new background image, say) watching restarts on the
new one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable, Iterable

DEBOUNCE_MS = 150  # editors write a file in several steps: one reload for them all
STEP_MS = 30


def directories(files: Iterable[Path]) -> list[Path]:
    """The existing directories holding `files`, each once, in a stable order."""
    return sorted({path.parent for path in files if path.parent.is_dir()})


def concerns(changes: Iterable[tuple[object, str]], watched: frozenset[Path]) -> bool:
    """Whether a batch of (change, path) touches a watched file."""
    return any(Path(path) in watched for _, path in changes)


async def watch(
    watched: Callable[[], frozenset[Path]],
    on_change: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Call `on_change` after each save of a watched file, until `stop` is set.

    `watched()` gives the current set of files; it is read again after every
    reload, and the watcher restarts when it has changed.
    """
    from watchfiles import awatch

    while not stop.is_set():
        files = watched()
        folders = directories(files)
        if not folders:
            await _sleep_or_stop(stop, 0.5)
            continue
        async for changes in awatch(
            *folders,
            watch_filter=lambda change, path: Path(path) in files,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=stop,
            recursive=False,
        ):
            if concerns(changes, files):
                await on_change()
            if watched() != files:
                break


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
