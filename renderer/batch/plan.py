"""Every row of a batch resolved, validated and compiled before anything renders.

A row that cannot render (a bad value, an export path outside the output
directory, an output another row also writes or reads, or writes into
another row's PNG sequence folder) becomes a RowFailed with its line in the rows file; the rest become jobs. Jobs that share a source and a
model share a matte group: the masks one of them computes serve the others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from renderer.batch.rows import Row, read_rows
from renderer.digest import digest_of, file_sha256
from renderer.errors import Position, Problem, ProjectError, RowError, UsageError, VbrError
from renderer.events import RowFailed
from renderer.graph.nodes import Encode, Matte
from renderer.outputs import BATCH_MANIFEST as MANIFEST_NAME
from renderer.outputs import Named, identities, manifest_path, target_problem


@dataclass(frozen=True)
class Job:
    row: int  # line in the rows file
    graph: Encode
    group: str  # source + model + dedup: jobs of one group reuse each other's masks

    @property
    def output(self) -> Path:
        return Path(self.graph.path)


@dataclass(frozen=True)
class BatchPlan:
    template: Path
    rows_file: Path
    out_dir: Path
    project_sha256: str  # the template's bytes, recorded in each render manifest
    jobs: tuple[Job, ...]
    failures: tuple[RowFailed, ...]
    unchecked: tuple[int, ...] = ()  # lines never looked at: --fail-fast stopped at a bad row before them

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST_NAME


def plan_batch(
    template: Path,
    rows_file: Path,
    out_dir: Path,
    hashes: Callable[[Any], Any],
    *,
    fail_fast: bool = False,
    device: str = "cpu",
    pull_missing: bool = False,
) -> BatchPlan:
    """`hashes(loaded)` gives a loaded row's input content hashes (remembered in the cache).

    A template that is broken for every row (bad YAML, a bad vars block, an
    unknown column) raises ProjectError: there is no row to blame.
    """
    from renderer.graph.compile import compile_project
    from renderer.matting.download import ensure_installed
    from renderer.project.load import template_variables

    out_dir = out_dir.resolve()
    batch_inputs: list[Named] = [("the template", template), ("the rows file", rows_file)]
    refused = target_problem(out_dir / MANIFEST_NAME, batch_inputs)
    if refused is not None:
        raise UsageError(f"vbr batch: the batch manifest {out_dir / MANIFEST_NAME} {refused}")
    rows = read_rows(rows_file, set(template_variables(template)))
    if not rows:
        raise ProjectError([Problem(Position(str(rows_file), 1, 1), "the rows file has no rows")])
    jobs: list[Job] = []
    failures: list[RowFailed] = []
    inputs: dict[int, list[Named]] = {}  # per row: the files it reads
    unchecked: list[int] = []
    for row in rows:
        if fail_fast and failures:
            unchecked.append(row.line)
            continue
        try:
            loaded = _load_row(template, row, out_dir, rows_file)
            inputs[row.line] = loaded.inputs()
            graph = compile_project(loaded, hashes(loaded), device=device)
            ensure_installed(graph.find(Matte).model, pull_missing=pull_missing)
        except VbrError as exc:
            failures.append(RowFailed(row.line, _row_message(rows_file, row.line, exc), exc.exit_code))
        else:
            jobs.append(Job(row.line, graph, _group(graph)))
    if not (fail_fast and failures):
        jobs, clashes = _split_shared_outputs(jobs, rows_file)
        failures.extend(clashes)
        jobs, clashes = _split_outputs_read_by_others(jobs, inputs, rows_file)
        failures.extend(clashes)
    failures.sort(key=lambda failure: failure.row)
    return BatchPlan(template, rows_file, out_dir, file_sha256(template), tuple(jobs), tuple(failures), tuple(unchecked))


def _load_row(template: Path, row: Row, out_dir: Path, rows_file: Path) -> Any:
    from renderer.project.load import load_project

    if row.problems:
        raise ProjectError([Problem(None, problem) for problem in row.problems])
    loaded = load_project(template, values=row.values, export_base=out_dir, protected=(("the rows file", rows_file),))
    # resolve() has followed symlinks, so a link pointing out of the directory is caught too.
    if not loaded.export.is_relative_to(out_dir):
        raise ProjectError([Problem(None, f"export path {loaded.export} is outside the output directory {out_dir} (see --out-dir)")])
    if loaded.export == out_dir / MANIFEST_NAME:
        raise ProjectError([Problem(None, f"export path {loaded.export} is where the batch manifest goes")])
    if loaded.export == out_dir and loaded.format == "png":
        raise ProjectError([Problem(None, (
            f"export path {loaded.export} is the output directory itself: a PNG sequence needs a folder of its own "
            "(such as ${name}/frame_%05d.png)"
        ))])
    return loaded


def load_row(template: Path, row: Row, out_dir: Path, rows_file: Path) -> Any:
    """One row's project as the batch would render it; its problems as a RowError of `ROWS:LINE: ...` lines."""
    try:
        return _load_row(template, row, out_dir, rows_file)
    except VbrError as exc:
        raise RowError(_row_message(rows_file, row.line, exc).split("\n"), exc.exit_code) from None


def _row_message(rows_file: Path, line: int, exc: VbrError) -> str:
    """One `ROWS:LINE: problem` line per problem; a template position follows in brackets."""
    problems = exc.problems if isinstance(exc, ProjectError) else [Problem(None, str(exc))]
    return "\n".join(
        f"{rows_file}:{line}: {p.message}" + (f" [{p.position}]" if p.position else "") for p in problems
    )


def _group(graph: Encode) -> str:
    matte = graph.find(Matte)
    return digest_of([graph.timeline.decode.sha256, matte.model.identity(), matte.dedup_threshold])


def _split_shared_outputs(jobs: list[Job], rows_file: Path) -> tuple[list[Job], list[RowFailed]]:
    """Rows that would write the same file all fail: which one was meant is not ours to guess.
    So do a row writing into another row's PNG sequence folder and that row: a sequence's folder
    holds its frames alone."""
    by_output: dict[Path, list[Job]] = defaultdict(list)
    for job in jobs:
        by_output[job.output].append(job)
    problems: dict[int, list[str]] = defaultdict(list)
    for output, same in by_output.items():
        for job in same if len(same) > 1 else ():
            others = ", ".join(str(other.row) for other in same if other is not job)
            problems[job.row].append(f"{rows_file}:{job.row}: output {output} is also the output of line {others}")
    for folder in (job for job in jobs if job.graph.format == "png"):
        for job in jobs:
            if job.output != folder.output and job.output.is_relative_to(folder.output):
                problems[job.row].append(
                    f"{rows_file}:{job.row}: output {job.output} is inside the PNG sequence folder of line {folder.row}"
                )
                problems[folder.row].append(
                    f"{rows_file}:{folder.row}: output {folder.output} is a PNG sequence's folder that would hold "
                    f"the output of line {job.row}"
                )
    kept = [job for job in jobs if job.row not in problems]
    clashes = [RowFailed(job.row, problems[job.row][0], 2, str(job.output)) for job in jobs if job.row in problems]
    return kept, clashes


def _split_outputs_read_by_others(
    jobs: list[Job], inputs: dict[int, list[Named]], rows_file: Path
) -> tuple[list[Job], list[RowFailed]]:
    """A row whose output (or its manifest) is another row's input fails: rows run in any order."""
    readers: dict[object, list[tuple[str, int]]] = defaultdict(list)
    for job in jobs:
        for what, path in inputs[job.row]:
            for key in identities(path):
                readers[key].append((what, job.row))
    kept: list[Job] = []
    clashes: list[RowFailed] = []
    for job in jobs:
        found = [
            f"{rows_file}:{job.row}: {name} {written} would overwrite {what} of line {row}"
            for name, written in (("output", job.output), ("manifest", manifest_path(job.output)))
            for key in identities(written)
            for what, row in readers.get(key, ())
            if row != job.row
        ]
        if job.graph.format == "png":  # a sequence replaces its whole folder
            found.extend(
                f"{rows_file}:{job.row}: output {job.output} (a PNG sequence's folder) would hold {what} of line {other.row}"
                for other in jobs
                if other.row != job.row
                for what, path in inputs[other.row]
                if path.resolve().is_relative_to(job.output)
            )
        if found:
            clashes.append(RowFailed(job.row, found[0], 2, str(job.output)))
        else:
            kept.append(job)
    return kept, clashes
