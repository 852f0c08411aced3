"""What a render reports as it goes. Library code emits these; the CLI shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Event:
    def to_json(self) -> dict[str, Any]:
        return {"event": self.name, **asdict(self)}

    name = "event"


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
    reused_frames: int
    name = "progress"


@dataclass(frozen=True)
class Done(Event):
    output: str
    frames: int
    inferred_frames: int
    reused_frames: int
    seconds: float
    name = "done"


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default sink: a library call reports nothing unless asked."""
