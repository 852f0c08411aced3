"""Showing render events: a progress bar, NDJSON lines, or nothing."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from renderer.errors import VbrError
from renderer.events import Done, Event, Progress, Started


class JsonLines:
    """One JSON object per line on stdout; the last is the done (or error) event."""

    def __call__(self, event: Event) -> None:
        write_json(event.to_json())

    def close(self) -> None:
        pass


def write_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, separators=(",", ":")) + "\n")
    sys.stdout.flush()


@contextmanager
def json_failures(enabled: bool) -> Iterator[None]:
    """With --json, a failed command's last line is an error event; the error itself still propagates."""
    try:
        yield
    except VbrError as exc:
        if enabled:
            write_json({"event": "error", "message": "\n".join(exc.lines()), "exit_code": exc.exit_code})
        raise
    except KeyboardInterrupt as exc:
        if enabled:
            from renderer.cli import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

            stopped = isinstance(exc, Terminated)
            write_json({
                "event": "error",
                "message": "terminated" if stopped else "interrupted",
                "exit_code": EXIT_TERMINATED if stopped else EXIT_INTERRUPTED,
            })
        raise


class Bar:
    """A tqdm bar on stderr (frames, fps, ETA) when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started) and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=event.frames, unit="frame", desc="render", file=sys.stderr, dynamic_ncols=True)
        elif isinstance(event, Progress) and self.bar is not None:
            self.bar.n = event.frames_done
            self.bar.set_postfix(
                inferred=event.inferred_frames, cached=event.cached_frames, reused=event.reused_frames, refresh=False
            )
            self.bar.refresh()
        elif isinstance(event, Done):
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def summary(done: Done) -> str:
    if done.skipped:
        return f"up to date: {shown_output(done)} (graph {done.graph_key[:12]}); --force renders it again"
    ran = f" on {', '.join(done.providers)}" if done.providers else ""
    carried = f", {done.carried_frames} carried from keyframes" if done.carried_frames else ""
    return (
        f"wrote {shown_output(done)}: {done.frames} frames, {done.inferred_frames} inferred{ran}, "
        f"{done.cached_frames} from cache{carried}, {done.reused_frames} reused by dedup, {done.seconds:.1f} s"
    )


def shown_output(done: Done) -> str:
    """The output's path; for a PNG sequence its folder, with its first and last frame and its sound."""
    from pathlib import Path

    from renderer.outputs import SEQUENCE_AUDIO

    pattern, frames = done.manifest.get("pattern"), done.manifest.get("frames")
    if not pattern or not frames:
        return done.output
    sound = f", {SEQUENCE_AUDIO}" if (Path(done.output) / SEQUENCE_AUDIO).is_file() else ""
    return f"{done.output}/ ({pattern % 0} to {pattern % (frames - 1)}{sound})"


@contextmanager
def download_bar(name: str) -> Iterator[Callable[[int, int | None], None]]:
    """A byte-progress callback for model downloads: a tqdm bar on a terminal, else nothing."""
    bar: list[Any] = []

    def update(done: int, total: int | None) -> None:
        if not sys.stderr.isatty():
            return
        if not bar:
            from tqdm import tqdm

            bar.append(tqdm(total=total, unit="B", unit_scale=True, desc=f"pull {name}", file=sys.stderr, dynamic_ncols=True))
        bar[0].n = done
        bar[0].refresh()

    try:
        yield update
    finally:
        if bar:
            bar[0].close()
