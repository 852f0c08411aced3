"""`vbr batch --ray`: a planned batch's rows as tasks on a Ray cluster.

The plan is the local batch's: every row resolved, validated, probed and
compiled on this machine (the driver) before anything runs. So are the
outcomes, events, skips and the batch manifest (log.py). Only where rows
render differs:

- each row is a Ray task asking for `cpus_per_row` CPUs (and a GPU with
  --device cuda); onnxruntime runs that many threads;
- the files a row reads travel through Ray's object store, put once per
  content hash and copied once per node (ray_task.py), so no filesystem needs
  to be shared;
- a matte group's first row runs first and hands the masks it used to the
  group's other rows (shared_masks.py): the cluster infers each frame once;
- finished outputs come back as bytes (a PNG sequence as its files) and are
  written here (delivery.py), a sequence swapped in whole;
- a worker or node that dies mid-row makes Ray run the row again, at most
  RETRIES times; a row that fails for a reason of its own is not retried.
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from renderer.batch.delivery import deliver
from renderer.batch.log import BatchLog, run_plan
from renderer.batch.plan import BatchPlan, Job
from renderer.batch.run import RenderSettings
from renderer.batch.shipping import Input, graph_inputs
from renderer.errors import UsageError, VbrError, first_line
from renderer.events import BatchDone, Done, EventSink, RowFailed, ignore

RETRIES = 2  # further tries of a row whose worker or node died; a row's own errors are never retried
WAIT_SECONDS = 0.5  # how long the driver blocks on Ray at a time: Ctrl-C is handled in between
STOP_SECONDS = 3.0  # after cancelling, how long rows that had just finished get to come back
CONNECT_SECONDS = 10.0  # for the cluster's address to answer at all
# Ray Client starts a server process for each connection, and that process dies at its start
# now and then (a gRPC fork race in Ray's proxier, ray-project/ray#63202: about 7 % of
# connections; 2 of 5 test runs here hit it). Ray then fails the connection at once with
# ConnectionAbortedError; a new try starts a new server.
CLIENT_TRIES = 3
CLEAN_SECONDS = 10.0  # how long the batch waits for each node to delete its scratch copies
MISSING = "vbr batch --ray needs the ray extra: pip install 'vbr[ray]'"


class ClusterError(VbrError, RuntimeError):
    """Ray could not be started, or the cluster could not be reached."""


def require_ray() -> None:
    """A UsageError (exit 2) when Ray is not installed: checked before any row is read."""
    if importlib.util.find_spec("ray") is None:
        raise UsageError(MISSING)


def run_batch_on_ray(
    plan: BatchPlan,
    *,
    address: str | None = None,
    cpus_per_row: int = 1,
    emit: EventSink = ignore,
    cache_dir: Path | None = None,
    max_cache_bytes: int | None = None,
    force: bool = False,
    fail_fast: bool = False,
    threads: int | None = None,
) -> BatchDone:
    """Render the plan's rows on Ray; writes outputs, manifests and the batch manifest here.

    `address`: None or "local" starts a Ray instance on this machine; "auto",
    "HOST:6379" or "ray://HOST:10001" joins a cluster (Ray's address rules). A
    process already connected to Ray (`ray.init` before this) uses its connection.
    `cache_dir`: an explicit cache directory, which nodes that see it use too.
    """
    require_ray()
    if cpus_per_row < 1:
        raise UsageError("vbr batch: --ray-cpus-per-row must be at least 1")
    settings = RenderSettings(None, force, plan.project_sha256, threads or cpus_per_row, str(plan.rows_file))

    def execute(todo: list[Job], log: BatchLog) -> None:
        if not todo:
            return  # every row up to date or failed: no need for Ray at all
        with connection(address) as ray, _sigterm_kept():
            _Run(ray, log, settings, cpus_per_row, cache_dir, max_cache_bytes, fail_fast).run(todo)

    return run_plan(plan, execute, emit=emit, force=force, fail_fast=fail_fast)


@contextmanager
def connection(address: str | None) -> Iterator[Any]:
    """The `ray` module, connected; disconnected (a local instance stopped) afterwards."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    local = address in (None, "local")
    if not local:
        _check_reachable(str(address))
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    options.update({"address": "local", "include_dashboard": False} if local else {"address": address})
    on_main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGTERM) if on_main else None
    try:
        _init(ray, options, CLIENT_TRIES if str(address).startswith("ray://") else 1)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
        what = "start Ray on this machine" if local else f"reach the Ray cluster at {address}"
        raise ClusterError(f"vbr batch --ray: cannot {what} ({first_line(exc)})") from None
    finally:
        if on_main and handler is not None:
            signal.signal(signal.SIGTERM, handler)  # ray.init sets its own: vbr's stops renders cleanly
    restore = _cluster_messages_to_stderr()
    try:
        yield ray
    finally:
        restore()
        ray.shutdown()


def _init(ray: Any, options: dict[str, Any], tries: int) -> None:
    """ray.init, tried again (up to `tries` in all) when a Ray Client server dies starting (CLIENT_TRIES)."""
    for attempt in range(1, tries + 1):
        try:
            ray.init(**options)
            return
        except ConnectionAbortedError:  # Ray Client has disconnected: a new try starts clean
            if attempt == tries:
                raise


@contextmanager
def _sigterm_kept() -> Iterator[None]:
    """SIGTERM ends the batch as SIGTERM (the CLI's 143), not as Ctrl-C.

    Ray turns whatever a signal handler raises during its waits into a plain
    KeyboardInterrupt; so the handler here only notes the signal, and the handler
    it stood in for runs once Ray has let go, raising what it raises.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        yield  # no handler of the caller's: SIGTERM ends the process as it always does
        return
    frames: list[Any] = []

    def note(signum: int, frame: Any) -> None:
        frames.append(frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, note)
    try:
        yield
    except KeyboardInterrupt:
        if frames:
            previous(signal.SIGTERM, frames[0])
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_reachable(address: str) -> None:
    """A ClusterError now for a HOST:PORT nobody listens on: Ray would retry it for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: Ray resolves them itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise ClusterError(f"vbr batch --ray: cannot reach the Ray cluster at {address} ({exc.strerror or exc})") from None


def _cluster_messages_to_stderr() -> Any:
    """Ray's driver prints cluster messages ("(raylet) A worker died ...") on stdout, which is
    vbr's for --json events; send them to stderr. Returns what undoes it."""
    try:
        from ray._private import worker
    except ImportError:
        return lambda: None
    original = getattr(worker, "print_to_stdstream", None)
    if original is None:
        return lambda: None

    def to_stderr(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original({**data, "is_err": True}, *args, **kwargs)

    worker.print_to_stdstream = to_stderr
    return lambda: setattr(worker, "print_to_stdstream", original)


class _Run:
    """One batch on the cluster: submits rows, collects them, stops them."""

    def __init__(
        self,
        ray: Any,
        log: BatchLog,
        settings: RenderSettings,
        cpus_per_row: int,
        cache_dir: Path | None,
        max_cache_bytes: int | None,
        fail_fast: bool,
    ):
        from renderer.batch.ray_task import render_row

        self.ray, self.log, self.settings = ray, log, settings
        self.cpus_per_row, self.cache_dir, self.max_cache_bytes, self.fail_fast = cpus_per_row, cache_dir, max_cache_bytes, fail_fast
        self.batch_id = uuid.uuid4().hex[:16]
        self.task = ray.remote(render_row)
        self.pending: dict[Any, tuple[Job, Any]] = {}  # result ref -> (row, ref of the masks it returns)
        self.followers: dict[str, list[Job]] = {}
        self.leaders: dict[str, Job] = {}

    def run(self, jobs: list[Job]) -> None:
        from renderer.batch.ray_task import remove_probe, write_probe

        for job in jobs:
            if job.group in self.leaders:
                self.followers[job.group].append(job)
            else:
                self.leaders[job.group], self.followers[job.group] = job, []
        self.shipments = _Shipments(self.ray, jobs)
        if self.cache_dir is not None:
            write_probe(self.cache_dir, self.batch_id)
        try:
            for leader in self.leaders.values():
                self._submit(leader, None)
            while self.pending:
                if self._collect_ready() and self.fail_fast:
                    self._stop()
                    return  # the rest are cancelled
        except BaseException:
            self._stop()
            raise
        finally:
            if self.cache_dir is not None:
                remove_probe(self.cache_dir, self.batch_id)
            self._clean_nodes()

    def _submit(self, job: Job, masks: Any) -> None:
        """Send a row to the cluster; a group's first row records the masks its followers need."""
        from renderer.batch.ray_task import RowTask
        from renderer.graph.nodes import Matte

        try:
            inputs = self.shipments.for_job(job)
        except OSError as exc:
            message = f"{self.settings.rows_file}:{job.row}: cannot read an input on the driver ({exc.strerror or exc})"
            self._finished(job, RowFailed(job.row, message, 1, str(job.output)), [], None)
            return
        leader = self.leaders[job.group] is job
        task = RowTask(
            job, self.settings, inputs, self.batch_id, None if self.cache_dir is None else str(self.cache_dir),
            self.max_cache_bytes, record=leader and bool(self.followers[job.group]),
        )
        gpu = 1 if job.graph.find(Matte).device == "cuda" else 0
        result, returned = self.task.options(
            num_cpus=self.cpus_per_row, num_gpus=gpu, num_returns=2, max_retries=RETRIES, retry_exceptions=False
        ).remote(task, masks)
        self.pending[result] = (job, returned)

    def _collect_ready(self) -> bool:
        """Record every row that has finished; True when one of them failed."""
        ray = self.ray
        ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=WAIT_SECONDS)
        if ready:
            ready, _ = ray.wait(list(self.pending), num_returns=len(self.pending), timeout=0)
        failed = False
        for ref in ready:
            job, masks = self.pending.pop(ref)
            outcome, warnings, crashed = self._outcome(job, ref)
            self._finished(job, outcome, warnings, None if crashed else masks)
            failed = failed or isinstance(outcome, RowFailed)
        return failed

    def _finished(self, job: Job, outcome: Done | RowFailed, warnings: list[str], masks: Any) -> None:
        self.shipments.release(job)
        self.log.finished(job, outcome, warnings)
        if self.leaders.get(job.group) is job and not (self.fail_fast and isinstance(outcome, RowFailed)):
            for follower in self.followers.pop(job.group, []):
                self._submit(follower, masks)

    def _outcome(self, job: Job, ref: Any) -> tuple[Done | RowFailed, list[str], bool]:
        """The row's outcome, its output written here; `True` last when Ray itself gave up on it."""
        try:
            outcome, data, warnings = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            message = f"{self.settings.rows_file}:{job.row}: {_ray_failure(exc)}"
            return RowFailed(job.row, message, 1, str(job.output)), [], True
        if isinstance(outcome, Done):
            outcome = deliver(job, outcome, data, self.settings.rows_file)
        return outcome, warnings, False

    def _stop(self) -> None:
        """Cancel every row still queued or running (their workers are killed); rows that had
        already finished are still written and recorded."""
        ray = self.ray
        refs = list(self.pending)
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass  # finished meanwhile, or already gone
        if not refs:
            return
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=STOP_SECONDS)
        for ref in ready:
            job, _ = self.pending.pop(ref)
            try:
                outcome, data, warnings = ray.get(ref, timeout=STOP_SECONDS)
            except Exception:
                continue  # cancelled: listed as such
            if isinstance(outcome, Done):
                self.log.finished(job, deliver(job, outcome, data, self.settings.rows_file), warnings)

    def _clean_nodes(self) -> None:
        """Each live node deletes its scratch copies of this batch's inputs (best effort)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from renderer.batch.ray_task import remove_scratch

        ray = self.ray
        try:
            clean = ray.remote(remove_scratch)
            refs = [
                clean.options(
                    num_cpus=0, max_retries=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                ).remote(self.batch_id)
                for node in ray.nodes()
                if node.get("Alive")
            ]
            ray.wait(refs, num_returns=len(refs), timeout=CLEAN_SECONDS)
        except Exception:
            pass  # a node's /tmp keeps a few copies: never a reason to fail a finished batch


class _Shipments:
    """Each input file put into the object store once, on first use; let go when no row needs it."""

    def __init__(self, ray: Any, jobs: list[Job]):
        self.ray = ray
        self.inputs = {job.row: graph_inputs(job.graph) for job in jobs}
        self.uses = Counter(item.sha256 for items in self.inputs.values() for item in items)
        self.refs: dict[str, Any] = {}

    def for_job(self, job: Job) -> tuple[tuple[Input, Any], ...]:
        shipped = []
        for item in self.inputs[job.row]:
            if item.sha256 not in self.refs:
                self.refs[item.sha256] = self.ray.put(item.path.read_bytes())
            shipped.append((item, self.refs[item.sha256]))
        return tuple(shipped)

    def release(self, job: Job) -> None:
        for item in self.inputs.pop(job.row, []):
            self.uses[item.sha256] -= 1
            if self.uses[item.sha256] <= 0:
                self.refs.pop(item.sha256, None)


def _ray_failure(exc: BaseException) -> str:
    """Why Ray gave up on a row, in one line."""
    name = type(exc).__name__
    if name in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError", "ObjectLostError"):
        return f"its Ray worker or node died on each of its {RETRIES + 1} tries ({name})"
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"failed on its Ray node: {type(cause).__name__}: {first_line(cause)}"
    return f"Ray could not run it ({name}: {first_line(exc)})"
