"""Running part of the pipeline ahead, in its own thread, through a bounded queue.

PyAV and onnxruntime release the GIL while they work, so decoding, inference
and encoding overlap on separate cores. The queue bounds memory (a few frames
in flight, whatever the clip's length); an exception in the producer comes out
of the consumer's next(); when the consumer stops early (an error downstream,
Ctrl-C) the producer is told to stop and joined, and the upstream iterator is
closed in its own thread, so files and sessions are released there.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

T = TypeVar("T")

_POLL = 0.1  # seconds: how often a blocked producer or consumer looks up


class _End:
    pass


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(source: Iterator[T], size: int, name: str) -> Iterator[T]:
    """Yield `source`'s items, produced up to `size` ahead by a thread (started on the first next())."""
    items: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_End())
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(_Failure(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=f"vbr-{name}", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = items.get(timeout=_POLL)
            except queue.Empty:
                continue
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
