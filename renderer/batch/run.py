"""Rendering a planned batch, in this process or in N worker processes sharing the mask cache.

With workers, the first job of each matte group (same source, model, dedup)
runs before the others of its group, so the others find its masks in the
cache instead of inferring the same frames side by side. Up-to-date rows,
events and the batch manifest are log.py's, shared with the Ray executor
(ray.py), which renders each row with `render_job` too.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from renderer.batch.log import BatchLog, run_plan
from renderer.batch.plan import BatchPlan, Job
from renderer.errors import VbrError
from renderer.events import BatchDone, Done, EventSink, RowFailed, WarningEvent, ignore


@dataclass(frozen=True)
class RenderSettings:
    """What every row's render shares; sent to workers as is."""

    cache_root: Path | None
    force: bool
    project_sha256: str
    threads: int | None  # onnxruntime threads per render; None = all cores
    rows_file: str


def run_batch(
    plan: BatchPlan,
    *,
    workers: int = 1,
    emit: EventSink = ignore,
    cache_root: Path | None = None,
    max_cache_bytes: int | None = None,
    force: bool = False,
    fail_fast: bool = False,
    threads: int | None = None,
) -> BatchDone:
    settings = RenderSettings(cache_root, force, plan.project_sha256, threads, str(plan.rows_file))

    def execute(todo: list[Job], log: BatchLog) -> None:
        if workers <= 1 or len(todo) <= 1:
            _run_here(todo, settings, log, fail_fast)
        else:
            _run_in_workers(todo, settings, log, fail_fast, workers)

    return run_plan(
        plan, execute, emit=emit, force=force, fail_fast=fail_fast, cache_root=cache_root, max_cache_bytes=max_cache_bytes
    )


def _run_here(jobs: list[Job], settings: RenderSettings, log: BatchLog, fail_fast: bool) -> None:
    for job in jobs:
        outcome, warnings = render_job(job, settings)
        log.finished(job, outcome, warnings)
        if fail_fast and isinstance(outcome, RowFailed):
            return  # the rest are cancelled


def _run_in_workers(jobs: list[Job], settings: RenderSettings, log: BatchLog, fail_fast: bool, workers: int) -> None:
    import multiprocessing

    from renderer.matting.session import usable_cores

    leaders: dict[str, Job] = {}
    followers: dict[str, list[Job]] = {}
    for job in jobs:
        if job.group in leaders:
            followers[job.group].append(job)
        else:
            leaders[job.group], followers[job.group] = job, []
    # A worker's share of the cores; a group's first job has them to itself when groups are few.
    share = settings.threads or max(1, usable_cores() // workers)
    leader_share = settings.threads or max(1, usable_cores() // min(workers, len(leaders)))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_signals)
    running: dict[Future, Job] = {}

    def submit(job: Job, threads: int) -> None:
        running[pool.submit(render_job, job, replace(settings, threads=threads))] = job

    try:
        for leader in leaders.values():
            submit(leader, leader_share)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            ready: list[Job] = []
            failed = False
            for future in finished:  # every one that finished is recorded, also when one failed
                job = running.pop(future)
                outcome, warnings = future.result()
                log.finished(job, outcome, warnings)
                failed = failed or isinstance(outcome, RowFailed)
                if leaders.get(job.group) is job:
                    ready.extend(followers.pop(job.group))
            if fail_fast and failed:
                _stop(pool, running.values())
                for future, job in running.items():  # finished while the others were being stopped
                    if future.done() and not future.cancelled() and future.exception() is None:
                        log.finished(job, *future.result())
                return  # the rest are cancelled
            for follower in ready:
                submit(follower, share)
    except BaseException:
        _stop(pool, running.values())
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor, jobs: Iterable[Job]) -> None:
    """Interrupt the workers' renders and wait for them to go.

    Each render removes its partial output (a file, or a PNG sequence's folder)
    as it unwinds; one stopped before it could (the signal landing as the file
    was being created) leaves it to the sweep here, once its process is gone.
    """
    import multiprocessing

    from renderer.publish import remove_stale_partials

    def end_workers() -> None:
        # Until none is left: the pool can start a worker while it is being stopped.
        while children := multiprocessing.active_children():
            for child in children:
                child.terminate()
            for child in children:  # the batch ends after its workers
                child.join()

    pool.shutdown(wait=False, cancel_futures=True)
    end_workers()
    pool.shutdown(wait=True)
    end_workers()
    for job in jobs:
        remove_stale_partials(job.output)


_busy = False  # in a worker: a render is under way
_stopped = False  # in a worker: SIGTERM came during a render


def _worker_signals() -> None:
    """Ctrl-C reaches the parent, which decides; SIGTERM from it interrupts a render cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_terminate)


def _on_terminate(signum: int, frame: Any) -> None:
    global _stopped
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if _busy:
        _stopped = True
        raise KeyboardInterrupt  # unwinds the render, which removes its temporary output
    os._exit(128 + signum)


def render_job(job: Job, settings: RenderSettings, cache: Any = None) -> tuple[Done | RowFailed, list[str]]:
    """One row's render; errors become a RowFailed so one row never stops the others.

    `cache`: an open MaskCache to use instead of the one at `settings.cache_root`
    (a Ray node's, which records the masks a group's first row used).
    """
    global _busy
    from renderer.graph.execute import render

    warnings: list[str] = []

    def keep_warnings(event: Any) -> None:
        if isinstance(event, WarningEvent):
            warnings.append(event.message)

    _busy = True
    try:
        done = render(
            job.graph,
            emit=keep_warnings,
            cache_root=settings.cache_root,
            force=settings.force,
            project_sha256=settings.project_sha256,
            threads=settings.threads,
            cache=cache,
        )
        return done, warnings
    except VbrError as exc:
        message = "\n".join(f"{settings.rows_file}:{job.row}: {line}" for line in exc.lines())
        return RowFailed(job.row, message, exc.exit_code, str(job.output)), warnings
    except Exception as exc:
        message = f"{settings.rows_file}:{job.row}: internal error: {type(exc).__name__}: {exc}"
        return RowFailed(job.row, message, 1, str(job.output)), warnings
    finally:
        _busy = False
        if _stopped:  # its render has unwound; a stopped worker must not take the next queued row
            os._exit(128 + signal.SIGTERM)
