"""A row rendered on another machine, written into the output directory as a local render writes it.

The node sends the finished output, a file's bytes or a PNG sequence's files
by name, and its manifest. Here they are checked against each other (the
manifest names the output's sha256) and published like a local render's: a
file through a temporary file and a rename, a sequence through a partial
folder swapped in whole, then its manifest. A failed or interrupted write
leaves the target as it was, never a partial file or half a sequence.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Union

from renderer.batch.plan import Job
from renderer.events import Done, RowFailed

# A render's output as it travels: a file's bytes, or a sequence folder's files (name -> bytes).
Output = Union[bytes, dict[str, bytes]]


def read_output(path: Path) -> Output:
    """What a node sends back of the output at `path`."""
    if path.is_dir():
        return {item.name: item.read_bytes() for item in sorted(path.iterdir()) if item.is_file()}
    return path.read_bytes()


def output_sha256(data: Output) -> str:
    """The sha256 a manifest records for this output (digest.output_sha256 of it on disk)."""
    from renderer.digest import files_sha256

    if isinstance(data, dict):
        return files_sha256((name, hashlib.sha256(blob).hexdigest()) for name, blob in data.items())
    return hashlib.sha256(data).hexdigest()


def deliver(job: Job, done: Done, data: Output, rows_file: str) -> Done | RowFailed:
    """The row's output and manifest in place, and its Done naming them; a RowFailed if they cannot be."""
    from renderer.atomic import write_bytes_atomic
    from renderer.graph import manifest
    from renderer.publish import publish_files, remove_stale_partials

    output = job.output
    if output_sha256(data) != done.manifest.get("output_sha256"):
        return RowFailed(job.row, f"{rows_file}:{job.row}: the output came back damaged from its node (sha256 mismatch)", 1, str(output))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(output)
        if isinstance(data, dict):
            publish_files(output, data)
        else:
            write_bytes_atomic(output, data)
        manifest.write(output, done.manifest)
    except OSError as exc:
        return RowFailed(job.row, f"{rows_file}:{job.row}: {output}: cannot write here ({exc.strerror or exc})", 1, str(output))
    return replace(done, output=str(output))
