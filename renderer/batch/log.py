"""What every batch executor shares: the rows' outcomes, their events and the batch manifest.

An executor (worker processes here, a Ray cluster in ray.py) only decides where
rows render. Which rows are already up to date, what is reported for each row,
which rows count as cancelled and what the batch manifest says are decided
here once, so a batch reads the same whichever executor ran it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from renderer.atomic import write_json_atomic
from renderer.batch.plan import BatchPlan, Job
from renderer.events import BatchDone, Done, EventSink, RowDone, RowFailed, WarningEvent

MANIFEST_FORMAT = 1

# Renders the rows left to render, reporting each outcome to the log as it arrives.
Executor = Callable[[list[Job], "BatchLog"], None]


def run_plan(
    plan: BatchPlan,
    execute: Executor,
    *,
    emit: EventSink,
    force: bool = False,
    fail_fast: bool = False,
    cache_root: Path | None = None,
    max_cache_bytes: int | None = None,
) -> BatchDone:
    """Report the plan's bad rows, skip the up-to-date ones, `execute` the rest.

    Whatever happens (a failed row with `fail_fast`, Ctrl-C), the batch manifest
    is written with every row of the rows file. `cache_root`: this process's
    cache, pruned to `max_cache_bytes` when a row inferred masks into it.
    """
    from renderer.graph.execute import skip_if_current

    began = time.monotonic()
    log = BatchLog(plan, emit)
    for failure in plan.failures:
        log.failed(failure)
    try:
        if not (fail_fast and plan.failures):
            todo = []
            for job in plan.jobs:
                current = None if force else skip_if_current(job.graph)
                if current is not None:
                    log.done(job, current)
                else:
                    todo.append(job)
            execute(todo, log)
    finally:
        log.cancel_rest()
        log.write_manifest()
    if cache_root is not None and max_cache_bytes is not None and log.inferred:
        from renderer.cache.maintenance import prune_after_render

        prune_after_render(cache_root, max_cache_bytes, lambda message: emit(WarningEvent(message)))
    summary = log.summary(round(time.monotonic() - began, 3))
    emit(summary)
    return summary


class BatchLog:
    """Every row's outcome as it arrives: events out, counts and manifest records kept."""

    def __init__(self, plan: BatchPlan, emit: EventSink):
        self.plan, self.emit = plan, emit
        self.records: dict[int, dict[str, Any]] = {}
        self.counts = {"rendered": 0, "skipped": 0, "failed": 0, "cancelled": 0}
        self.inferred = 0
        self.warned: set[str] = set()

    def done(self, job: Job, done: Done) -> None:
        status = "skipped" if done.skipped else "rendered"
        self.counts[status] += 1
        self.inferred += done.inferred_frames
        self._record(job.row, status, done.output, done.manifest.get("output_sha256"), done.seconds, None)
        self.emit(RowDone(job.row, done))

    def failed(self, failure: RowFailed) -> None:
        self.counts["failed"] += 1
        self._record(failure.row, "failed", failure.output, None, None, failure.message)
        self.emit(failure)

    def finished(self, job: Job, outcome: Done | RowFailed, warnings: list[str]) -> None:
        for message in warnings:
            if message not in self.warned:
                self.warned.add(message)
                self.emit(WarningEvent(message))
        if isinstance(outcome, Done):
            self.done(job, outcome)
        else:
            self.failed(outcome)

    def has(self, job: Job) -> bool:
        """Whether the row's outcome is in."""
        return job.row in self.records

    def cancel_rest(self) -> None:
        """Every row without an outcome never ran, or was stopped: listed as cancelled."""
        unrun = [(job.row, str(job.output)) for job in self.plan.jobs if job.row not in self.records]
        for row, output in [*unrun, *((line, None) for line in self.plan.unchecked)]:
            self.counts["cancelled"] += 1
            self._record(row, "cancelled", output, None, None, None)

    def _record(self, row: int, status: str, output: str | None, sha256: str | None, seconds: float | None, error: str | None) -> None:
        shown = os.path.relpath(output, self.plan.out_dir) if output else None
        self.records[row] = {"line": row, "status": status, "output": shown, "sha256": sha256, "seconds": seconds, "error": error}

    def write_manifest(self) -> None:
        plan = self.plan
        plan.out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            plan.manifest_path,
            {
                "format": MANIFEST_FORMAT,
                "template": str(plan.template.resolve()),
                "rows_file": str(plan.rows_file.resolve()),
                "rows": [self.records[line] for line in sorted(self.records)],
                **self.counts,
            },
        )

    def summary(self, seconds: float) -> BatchDone:
        c = self.counts
        return BatchDone(c["rendered"], c["skipped"], c["failed"], c["cancelled"], seconds, str(self.plan.manifest_path))
