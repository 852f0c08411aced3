"""Events from any thread (a render, the file watcher) to every open page.

Each page holds one Server-Sent Events stream; each stream reads its own
asyncio queue. `publish` is safe to call from any thread: it hands the event to
the queue's loop. Listeners are plain callbacks run in the publishing thread
(tests use one to act at an exact moment of a render).
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

Listener = Callable[[str, dict[str, Any]], None]
QUEUE_LIMIT = 256  # a page that stops reading loses events, never the server's memory


class Broker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, dict[str, Any]]]]] = set()
        self._listeners: list[Listener] = []

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            queues = list(self._queues)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(kind, data)
        for loop, queue in queues:
            try:
                loop.call_soon_threadsafe(_offer, queue, (kind, data))
            except RuntimeError:  # that loop has closed: its page is gone
                pass

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(kind, data)` on each event, in the publishing thread; returns the undo."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[tuple[str, dict[str, Any]]]]:
        entry = (asyncio.get_running_loop(), asyncio.Queue(QUEUE_LIMIT))
        with self._lock:
            self._queues.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._queues.discard(entry)


def _offer(queue: asyncio.Queue[tuple[str, dict[str, Any]]], item: tuple[str, dict[str, Any]]) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        pass


def sse(kind: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event: `event:` names it, `data:` is JSON on one line."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
