"""One batch row as a Ray task, on a node that may share nothing with the driver but the cluster.

The task gets the row's compiled graph and, for every file the graph reads,
an object reference named by the file's content hash. It copies each file it
lacks into the node's scratch directory (once per node: tasks on the same node
find the copy), points the graph at the copies, renders it with `render_job`,
the function the local batch's workers run, and returns the output's bytes
(a PNG sequence's files, by name) with its manifest. The driver writes them
(delivery.py).

Masks go into the node's own mask cache, or into the driver's --cache-dir when
this node sees the same directory (a shared filesystem). A group's first row
returns the masks it used; the group's other rows put them into their cache
first (shared_masks.py).

Nothing here imports Ray at module level: the driver pickles `render_row` by
reference, and a node imports this module only to run it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from renderer.batch.delivery import Output, read_output
from renderer.batch.plan import Job
from renderer.batch.run import RenderSettings, render_job
from renderer.batch.shared_masks import RecordingMaskCache, SharedMasks, seed
from renderer.batch.shipping import Input, relocate
from renderer.digest import digest_of
from renderer.events import Done, RowFailed, WarningEvent

SCRATCH_PREFIX = "vbr-ray-"  # a node's scratch directory for one batch: <tmp>/vbr-ray-<batch id>


@dataclass(frozen=True)
class RowTask:
    """Everything a node needs for one row; pickled by Ray."""

    job: Job  # the row's graph, with the driver's paths
    settings: RenderSettings  # cache_root is decided on the node
    inputs: tuple[tuple[Input, Any], ...]  # each file with the ObjectRef of its bytes (left unresolved by Ray)
    batch_id: str
    cache_dir: str | None  # the driver's own --cache-dir: used where this node sees the same directory
    max_cache_bytes: int | None
    record: bool  # a group's first row: return the masks it used


# (outcome, the output when rendered, warnings), and the masks used when recorded
RowResult = tuple[tuple[Done | RowFailed, Output | None, list[str]], SharedMasks | None]


def render_row(task: RowTask, shared: SharedMasks | None) -> RowResult:
    """Render one row on this node; `shared`: masks from the group's first row, if it ran first."""
    from renderer.graph.execute import open_cache

    job, settings = task.job, task.settings
    rows = settings.rows_file
    warnings: list[str] = []

    def warn(event: Any) -> None:
        if isinstance(event, WarningEvent):
            warnings.append(event.message)

    mismatch = version_mismatch(job)
    if mismatch:
        message = f"{rows}:{job.row}: node {socket.gethostname()} has {mismatch}: install the driver's versions on every node"
        return (RowFailed(job.row, message, 1, str(job.output)), None, warnings), None
    scratch = scratch_dir(task.batch_id)
    try:
        copies = _stage(scratch / "inputs", task.inputs)
    except OSError as exc:
        message = f"{rows}:{job.row}: cannot copy the row's inputs on node {socket.gethostname()} ({exc.strerror or exc})"
        return (RowFailed(job.row, message, 1, str(job.output)), None, warnings), None
    root = node_cache_root(task.cache_dir, task.batch_id)
    cache = open_cache(root, warn)
    if shared is not None:
        seed(cache, shared)
    if task.record:
        cache = RecordingMaskCache(cache)
    out_dir = scratch / "out" / f"{job.row}-{os.getpid()}"
    output = out_dir / job.output.name
    local = Job(job.row, relocate(job.graph, copies, output), job.group)
    try:
        outcome, found = render_job(local, replace(settings, cache_root=root), cache)
        warnings.extend(found)
        data = None
        if isinstance(outcome, Done):
            data = read_output(output)
            if task.max_cache_bytes is not None and outcome.inferred_frames:
                from renderer.cache.maintenance import prune_after_render

                prune_after_render(root, task.max_cache_bytes, lambda message: warnings.append(message))
        else:
            names = {str(copies[item.sha256]): str(item.path) for item, _ in task.inputs}
            outcome = _as_driver_sees_it(outcome, job, {**names, str(output): str(job.output)})
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    used = cache.used if isinstance(cache, RecordingMaskCache) else None
    return (outcome, data, warnings), used


def version_mismatch(job: Job) -> str | None:
    """What this node runs that differs from what the driver compiled for (outputs would differ)."""
    from renderer.graph.compile import tool_versions

    here, there = dict(tool_versions()), dict(job.graph.tools)
    differ = [f"{name} {here.get(name)} (the driver: {version})" for name, version in there.items() if here.get(name) != version]
    return ", ".join(differ) or None


def scratch_dir(batch_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{batch_id}"


def remove_scratch(batch_id: str) -> None:
    """The batch's copies and leftovers on this node (run once per node when the batch ends)."""
    shutil.rmtree(scratch_dir(batch_id), ignore_errors=True)


def _stage(folder: Path, inputs: tuple[tuple[Input, Any], ...]) -> dict[str, Path]:
    """Each input as a local file named by its hash; fetched from the object store only when missing."""
    import ray

    from renderer.atomic import write_bytes_atomic

    folder.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path] = {}
    for item, ref in inputs:
        path = folder / item.name
        if not path.is_file():
            data = ray.get(ref)
            if hashlib.sha256(data).hexdigest() != item.sha256:
                raise OSError(f"{item.path} arrived damaged (sha256 mismatch)")
            write_bytes_atomic(path, data)
        copies[item.sha256] = path
    return copies


def _as_driver_sees_it(failure: RowFailed, job: Job, names: dict[str, str]) -> RowFailed:
    """A failure naming the driver's files, not this node's copies of them."""
    message = failure.message
    for local, original in names.items():
        message = message.replace(local, original)
    return replace(failure, message=message, output=str(job.output))


# Whether a node sees the driver's cache directory: the driver writes an entry only it could
# have written (keyed by the batch's random id); a node that reads it back shares the directory.
def probe_key(batch_id: str) -> str:
    return digest_of(["ray-shared-cache-probe", batch_id])


def write_probe(root: Path, batch_id: str) -> None:
    from renderer.cache.store import Store

    Store(root, "sources").put(probe_key(batch_id), batch_id.encode())


def remove_probe(root: Path, batch_id: str) -> None:
    from renderer.cache.store import Store

    Store(root, "sources").path(probe_key(batch_id)).unlink(missing_ok=True)


def node_cache_root(cache_dir: str | None, batch_id: str) -> Path:
    """The driver's --cache-dir when this node shares it, else this node's own cache."""
    from renderer.cache.location import cache_dir as default_cache
    from renderer.cache.store import Store

    if cache_dir is not None and Store(Path(cache_dir), "sources").get(probe_key(batch_id)) == batch_id.encode():
        return Path(cache_dir)
    return default_cache(None)
