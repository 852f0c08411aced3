"""A row rendered on another machine, written into the output directory as a local render writes it.

The node sends the finished file's bytes and its manifest. Here they are
checked against each other (the manifest names the output's sha256) and
published like a local render's: the output through a temporary file and a
rename, then its manifest. A failed or interrupted write leaves the target as
it was, never a partial file.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from renderer.batch.plan import Job
from renderer.events import Done, RowFailed


def deliver(job: Job, done: Done, data: bytes, rows_file: str) -> Done | RowFailed:
    """The row's output and manifest in place, and its Done naming them; a RowFailed if they cannot be."""
    from renderer.atomic import write_bytes_atomic
    from renderer.graph import manifest
    from renderer.media.encode import remove_stale_partials

    output = job.output
    expected = done.manifest.get("output_sha256")
    if hashlib.sha256(data).hexdigest() != expected:
        return RowFailed(job.row, f"{rows_file}:{job.row}: the output came back damaged from its node (sha256 mismatch)", 1, str(output))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(output)
        write_bytes_atomic(output, data)
        manifest.write(output, done.manifest)
    except OSError as exc:
        return RowFailed(job.row, f"{rows_file}:{job.row}: {output}: cannot write here ({exc.strerror or exc})", 1, str(output))
    return replace(done, output=str(output))

