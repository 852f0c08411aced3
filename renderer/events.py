"""What a render reports as it goes. Library code emits these; the CLI shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Event:
    name = "event"

    def to_json(self) -> dict[str, Any]:
        return {"event": self.name, **asdict(self)}


@dataclass(frozen=True)
class Started(Event):
    output: str
    frames: int  # output frames the render will write
    width: int
    height: int
    fps: float
    name = "start"


@dataclass(frozen=True)
class Progress(Event):
    frames_done: int
    frames: int
    inferred_frames: int
    cached_frames: int
    reused_frames: int
    name = "progress"


@dataclass(frozen=True)
class WarningEvent(Event):
    message: str
    name = "warning"


@dataclass(frozen=True)
class Done(Event):
    output: str
    frames: int  # frames written
    inferred_frames: int  # model runs
    cached_frames: int  # masks read from the cache
    reused_frames: int  # frames that took an earlier frame's mask (dedup)
    seconds: float
    skipped: bool = False  # the output was already up to date
    graph_key: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    device: str = ""  # the device family masks are keyed for (cpu, cuda, ...)
    providers: list[str] = field(default_factory=list)  # onnxruntime providers that ran; none when nothing was inferred
    carried_frames: int = 0  # references whose mask was carried from keyframes (model.keyframes)
    name = "done"


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default sink: a library call reports nothing unless asked."""


@dataclass(frozen=True)
class RowDone(Event):
    """A batch row rendered (or found up to date): its line in the rows file and the render's Done."""

    row: int
    done: Done
    name = "done"

    def to_json(self) -> dict[str, Any]:
        return {**self.done.to_json(), "row": self.row}


@dataclass(frozen=True)
class RowFailed(Event):
    row: int
    message: str  # one line per problem, each "ROWS:LINE: ..."
    exit_code: int  # 2 the row is invalid, 1 its render failed
    output: str | None = None
    name = "error"


@dataclass(frozen=True)
class BatchDone(Event):
    rendered: int
    skipped: int
    failed: int
    cancelled: int  # not run: --fail-fast stopped the batch first
    seconds: float
    manifest: str  # the batch manifest's path
    name = "batch"
