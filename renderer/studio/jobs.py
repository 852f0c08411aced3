"""The export, run by `api.render` in a background thread while the page keeps working.

One render at a time. Progress goes out as events; `cancel()` sets the event
`api.render` checks at every frame, and the render's own cleanup leaves the
export as it was (no partial file). The job renders the Project it was given:
edits made meanwhile reload the preview, not the running export.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable

from renderer import api
from renderer.events import Done, Event, Progress, Started, WarningEvent

Publish = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class RenderState:
    status: str = "idle"  # idle | running | done | cancelled | failed
    output: str = ""
    frames: int = 0
    frames_done: int = 0
    inferred: int = 0
    cached: int = 0
    fps: float = 0.0  # frames written per second so far
    eta: float | None = None  # seconds left, at that pace
    seconds: float = 0.0
    skipped: bool = False  # the export was already up to date
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "errors": list(self.errors)}


def pace(done: int, total: int, elapsed: float) -> tuple[float, float | None]:
    """(frames per second, seconds left) after `done` of `total` frames in `elapsed` seconds."""
    if done <= 0 or elapsed <= 0:
        return 0.0, None
    fps = done / elapsed
    return fps, max(0, total - done) / fps


class RenderJob:
    def __init__(self, project: api.Project, publish: Publish, on_finish: Callable[[RenderState], None] = lambda s: None):
        self.project = project
        self._publish = publish
        self._on_finish = on_finish
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._began = 0.0
        self.state = RenderState("running", str(project.loaded.export), project.frames)
        self._thread = threading.Thread(target=self._run, name="vbr-studio-render", daemon=True)

    def start(self) -> None:
        self._began = time.monotonic()
        self._publish("render", self.state.to_json())
        self._thread.start()

    @property
    def running(self) -> bool:
        """Until the render has ended (its thread may still be tidying up after that)."""
        return self.state.status == "running"

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self.state = replace(self.state, **changes)
        self._publish("render", self.state.to_json())

    def _on_event(self, event: Event) -> None:
        elapsed = time.monotonic() - self._began
        if isinstance(event, Started):
            self._update(frames=event.frames, output=event.output)
        elif isinstance(event, Progress):
            fps, eta = pace(event.frames_done, event.frames, elapsed)
            self._update(
                frames_done=event.frames_done, frames=event.frames, inferred=event.inferred_frames,
                cached=event.cached_frames, fps=round(fps, 2), eta=None if eta is None else round(eta, 1),
                seconds=round(elapsed, 2),
            )
        elif isinstance(event, WarningEvent):
            self._publish("warning", {"message": event.message})

    def _run(self) -> None:
        try:
            done: Done = api.render(self.project, self._on_event, cancel=self._cancel)
        except api.Cancelled:
            self._update(status="cancelled", eta=None)
        except api.VbrError as exc:
            self._update(status="failed", errors=tuple(exc.lines()), eta=None)
        except Exception as exc:  # a bug: the page says so rather than spinning forever
            self._update(status="failed", errors=(f"internal error: {type(exc).__name__}: {exc}",), eta=None)
        else:
            self._update(
                status="done", output=done.output, frames_done=done.frames if not done.skipped else self.state.frames,
                inferred=done.inferred_frames, cached=done.cached_frames, seconds=done.seconds, skipped=done.skipped, eta=0.0,
            )
        self._on_finish(self.state)
