"""Threads with bounded queues between pipeline stages: order, errors, bounds and stopping."""

from __future__ import annotations

import threading
import time

import pytest

from renderer.graph.prefetch import Pipeline, prefetch


def vbr_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("vbr-")]


def test_items_arrive_in_order_from_another_thread():
    seen_in: set[str] = set()

    def source():
        for i in range(100):
            seen_in.add(threading.current_thread().name)
            yield i

    assert list(prefetch(source(), 4, "test")) == list(range(100))
    assert seen_in == {"vbr-test"} and vbr_threads() == []


def test_a_producer_error_comes_out_of_the_consumer():
    def source():
        yield 1
        raise ValueError("decoder broke")

    items = prefetch(source(), 4, "test")
    assert next(items) == 1
    with pytest.raises(ValueError, match="decoder broke"):
        next(items)


def test_the_queue_bounds_how_far_the_producer_runs_ahead():
    produced: list[int] = []

    def source():
        for i in range(1000):
            produced.append(i)
            yield i

    items = prefetch(source(), 3, "test")
    assert next(items) == 0
    time.sleep(0.3)
    assert len(produced) <= 1 + 3 + 1  # the one taken, a full queue, one waiting to be put
    items.close()
    assert vbr_threads() == []


def test_stopping_a_pipeline_ends_every_thread_of_a_chain_left_mid_way():
    pipeline = Pipeline()

    def numbers():
        i = 0
        while True:
            yield i
            i += 1

    def doubled(items):
        for i in items:
            if i == 50:
                raise RuntimeError("a stage failed")
            yield 2 * i

    outer = pipeline.prefetch(doubled(pipeline.prefetch(numbers(), 4, "inner")), 4, "outer")
    with pytest.raises(RuntimeError, match="a stage failed"):
        for _ in outer:
            pass
    # The inner consumer is suspended in a generator nobody closes: only stop() ends its thread.
    assert "vbr-inner" in vbr_threads()
    began = time.monotonic()
    pipeline.stop()
    assert vbr_threads() == [] and time.monotonic() - began < 2
