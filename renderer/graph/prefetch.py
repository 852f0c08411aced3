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
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

_POLL = 0.1  # seconds: how often a blocked producer or consumer looks up


class _End:
    pass


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class PipelineStopped(Exception):
    """A consumer's producer was told to stop: the run is ending, nothing more comes."""


class Pipeline:
    """The threads one run starts. `stop()` ends them all, whatever state their iterators are in.

    An exception leaves generators suspended (kept alive by its traceback);
    stopping every thread here, rather than when the garbage collector closes
    those generators, means no thread outlives the render that started it.
    """

    def __init__(self) -> None:
        self._threads: list[tuple[threading.Event, threading.Thread]] = []

    def prefetch(self, source: Iterator[T], size: int, name: str) -> Iterator[T]:
        return _prefetch(source, size, name, self._threads.append)

    def stop(self) -> None:
        for stop, _ in self._threads:
            stop.set()
        for _, thread in self._threads:
            thread.join()
        self._threads.clear()


def prefetch(source: Iterator[T], size: int, name: str) -> Iterator[T]:
    """Yield `source`'s items, produced up to `size` ahead by a thread (started on the first next())."""
    return _prefetch(source, size, name, None)


def _prefetch(
    source: Iterator[T], size: int, name: str, register: Callable[[tuple[threading.Event, threading.Thread]], None] | None
) -> Iterator[T]:
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
                try:
                    close()
                except Exception:  # noqa: BLE001 - shutting down: what stopped us is already reported
                    pass

    thread = threading.Thread(target=produce, name=f"vbr-{name}", daemon=True)
    if register is not None:
        register((stop, thread))
    thread.start()
    try:
        while True:
            try:
                item = items.get(timeout=_POLL)
            except queue.Empty:
                if stop.is_set():
                    raise PipelineStopped(name) from None
                continue
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
