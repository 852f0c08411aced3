"""vbr's public Python API: what the `vbr` command, the studio and batch drivers are built on.

    import renderer

    project = renderer.compile("projects/bunny.yaml", values={"title": "Hi"})
    print(renderer.plan(project).to_infer, "frames to infer")
    still = renderer.preview(project, at=1.5)          # an H x W x 4 uint8 array
    done = renderer.render(project, on_event=print)    # the export, as `vbr render` writes it

Every function raises a `renderer.VbrError` subclass on bad input (its `lines()` are
the `FILE:LINE:COL: message` lines the CLI prints, its `exit_code` the CLI's exit
code); nothing here prints or exits. Heavy modules (onnxruntime, PyAV) load only
when a function needs them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from renderer.errors import RowError, UsageError, VbrError
from renderer.events import Event, WarningEvent, ignore

if TYPE_CHECKING:  # imported for their types only: the modules are heavy
    import numpy as np

    from renderer.batch.plan import BatchPlan
    from renderer.batch.rows import Row
    from renderer.events import BatchDone, Done
    from renderer.graph.compile import InputHashes
    from renderer.graph.matte import MatteCounts
    from renderer.graph.nodes import Encode
    from renderer.graph.plan import Plan
    from renderer.graph.preview import Still
    from renderer.project.load import LoadedProject

EventSink = Callable[[Event], None]


class Cancelled(VbrError):
    """A render stopped through its `cancel` event: nothing was written."""

    exit_code = 130


@dataclass(frozen=True)
class Options:
    """Where and how work runs; the CLI's shared flags.

    cache_dir: the mask cache (None: $VBR_CACHE_DIR, else the platform's user cache).
    device: "auto", "cpu", "cuda", ... (`vbr render --device`).
    threads: CPU threads for the model (None: every usable core).
    max_cache_size: prune the cache to this after a render that inferred ("5GB", bytes;
      None: $VBR_CACHE_MAX_SIZE, else 5 GB).
    pull: download a registry model the project names if it is not installed.
    """

    cache_dir: str | Path | None = None
    device: str = "auto"
    threads: int | None = None
    max_cache_size: str | int | None = None
    pull: bool = False

    def cache_root(self) -> Path:
        from renderer.cache.location import cache_dir

        return cache_dir(None if self.cache_dir is None else str(self.cache_dir))

    def cache_limit(self) -> int:
        from renderer.cache.location import max_bytes

        try:
            return max_bytes(None if self.max_cache_size is None else str(self.max_cache_size))
        except ValueError as exc:
            raise UsageError(f"vbr: {exc}") from None

    def resolved_device(self) -> str:
        from renderer.matting.device import resolve_device

        return resolve_device(self.device)

    def checked_threads(self) -> int | None:
        if self.threads is not None and self.threads < 1:
            raise UsageError("vbr: --threads must be at least 1")
        return self.threads


@dataclass(frozen=True)
class Project:
    """A checked project compiled into its render graph, with what running it needs."""

    loaded: LoadedProject
    graph: Encode
    hashes: InputHashes
    options: Options
    cache_root: Path
    device: str  # resolved: "cpu", "cuda", ...
    on_event: EventSink = field(default=ignore, compare=False)

    @property
    def file(self) -> Path:
        return self.loaded.file

    @property
    def frames(self) -> int:
        """Frames the export will have."""
        return self.graph.timeline.frames

    @property
    def fps(self) -> Fraction:
        return self.graph.fps

    @property
    def duration(self) -> Fraction:
        return self.frames / self.fps


def load(file: str | Path, values: Mapping[str, Any] | None = None) -> LoadedProject:
    """Parse and check a project file (`vbr validate`): located errors as a ProjectError."""
    from renderer.project.load import load_project

    return load_project(file, values=dict(values) if values else None)


def variables(file: str | Path) -> dict[str, Any]:
    """A template's declared `vars`: name -> its declaration (type, default, choices, ...)."""
    from renderer.project.load import template_variables

    return template_variables(file)


def compile(
    project: str | Path | LoadedProject,
    values: Mapping[str, Any] | None = None,
    options: Options = Options(),
    on_event: EventSink = ignore,
) -> Project:
    """Load and check a project file (or take one `load` gave) and compile it into its render graph.

    Its input files are hashed (the hashes are remembered in the cache). `on_event`
    gets a WarningEvent for a cache problem; the work goes on without the cache.
    """
    from renderer.graph.compile import compile_project
    from renderer.project.load import LoadedProject

    loaded = project if isinstance(project, LoadedProject) else load(project, values)
    root = options.cache_root()
    options.checked_threads()
    device = options.resolved_device()
    hashes = input_hashes(loaded, root, lambda message: on_event(WarningEvent(message)))
    return Project(loaded, compile_project(loaded, hashes, device=device), hashes, options, root, device, on_event)


def input_hashes(loaded: LoadedProject, root: Path, warn: Callable[[str], None]) -> InputHashes:
    """Content hashes of the project's input files, remembered per file version in the cache."""
    from renderer.cache.sources import content_hash
    from renderer.cache.store import Store
    from renderer.graph.compile import InputHashes

    sources = Store(root, "sources", warn)
    return InputHashes(
        source=content_hash(loaded.source, sources),
        image=content_hash(loaded.image, sources) if loaded.image else None,
        fonts=tuple(content_hash(font, sources) if font else None for font in loaded.fonts),
        model=content_hash(loaded.model_path, sources) if loaded.model_path else None,
        background_video=content_hash(loaded.background_video, sources) if loaded.background_video else None,
    )


def plan(project: Project) -> Plan:
    """The graph's stages with what is cached, and how many frames a render would infer (`vbr plan`)."""
    from renderer.graph.execute import open_cache
    from renderer.graph.plan import make_plan

    return make_plan(project.graph, open_cache(project.cache_root, project.on_event))


def ensure_model(project: Project, progress: Any = None) -> None:
    """Stop with a ModelError when the project's model is not on disk (or fetch it, with Options.pull)."""
    from renderer.graph.nodes import Matte
    from renderer.matting.download import ensure_installed

    ensure_installed(project.graph.find(Matte).model, pull_missing=project.options.pull, progress=progress)


def render(
    project: Project,
    on_event: EventSink | None = None,
    *,
    force: bool = False,
    cancel: threading.Event | None = None,
) -> Done:
    """Render the export (`vbr render`): its file and manifest, written whole or not at all.

    Skipped, with a Done that says so, when the export is already up to date (unless
    `force`). Setting `cancel` (from any thread) stops the render at its next frame with
    Cancelled; the export is left as it was.
    """
    from renderer.digest import file_sha256
    from renderer.graph.execute import render as run

    sink = _cancellable(on_event or project.on_event, cancel)
    ensure_model(project)
    options = project.options
    return run(
        project.graph,
        emit=sink,
        cache_root=project.cache_root,
        max_cache_bytes=options.cache_limit(),
        force=force,
        project_sha256=file_sha256(project.file),
        threads=options.checked_threads(),
    )


def _cancellable(sink: EventSink, cancel: threading.Event | None) -> EventSink:
    if cancel is None:
        return sink

    def checked(event: Event) -> None:
        if cancel.is_set():
            raise Cancelled("render cancelled")
        sink(event)

    return checked


@dataclass(frozen=True)
class Stills:
    frames: list[Still]  # each with .index, .time, .image (H x W x 4 uint8, straight alpha), .exact
    counts: MatteCounts  # .inferred, .cached, .reused


def frame_index(project: Project, at: str | float | Fraction) -> int:
    """The output frame on screen at `at` (seconds, or "[HH:]MM:SS[.fff]"); UsageError outside the render."""
    from renderer.graph.preview import frame_at
    from renderer.project.timecode import format_seconds, parse_timecode

    try:  # a float is read as the decimal it prints as (0.48, not 0.47999...), as times in project files are
        time = parse_timecode(at if isinstance(at, str) else repr(at)) if isinstance(at, (str, float)) else Fraction(at)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--at: {exc}") from None
    index = frame_at(time, project.fps, project.frames)
    if index is None:
        raise UsageError(f"--at {at} is outside the render (0 to {format_seconds(project.duration)})")
    return index


def preview(
    project: Project, at: str | float | Fraction | None = None, *, frames: Sequence[int] = (), layers: bool = False
) -> Stills:
    """Finished frames as the export will show them, before encoding (`vbr preview`).

    Give a time (`at`) or output frame numbers (`frames`). Masks come from the cache
    where they are; the temporal filter warms up on the frames before each still.
    With `layers`, each still also carries what it was made of: `.source`, the source
    frame scaled like the output (H x W x 3), and `.matte`, the subject's matte at the
    output size (H x W, before text and fades), so a viewer need not recompute them.
    """
    from renderer.graph.preview import stills

    indices = _indices(project, at, frames)
    ensure_model(project)
    shown, counts = stills(
        project.loaded, project.hashes, indices, project.cache_root,
        emit=project.on_event, device=project.device, threads=project.options.checked_threads(), layers=layers,
    )
    return Stills(shown, counts)


def masks_to_infer(project: Project, at: str | float | Fraction | None = None, *, frames: Sequence[int] = ()) -> int:
    """How many masks `preview` would infer for these frames: 0 when the cache has all it needs.

    Cheap (the container index and the cache are read, nothing is decoded), so a
    viewer can say "the model is running" before it asks for a slow still. Frames
    whose warm-up windows overlap are counted once each: an upper bound then.
    """
    from renderer.graph.preview import masks_to_infer as count

    return sum(
        count(project.loaded, project.hashes, index, project.cache_root, device=project.device)
        for index in _indices(project, at, frames)
    )


def _indices(project: Project, at: str | float | Fraction | None, frames: Sequence[int]) -> list[int]:
    indices = list(frames) if at is None else [frame_index(project, at)]
    if not indices:
        raise UsageError("preview: give a time or at least one frame")
    return indices


def preview_image(project: Project, at: str | float | Fraction) -> np.ndarray:
    """The one finished frame at `at`: H x W x 4 uint8 RGBA."""
    return preview(project, at).frames[0].image


def write_image(image: np.ndarray, path: str | Path) -> Path:
    """A still as PNG (alpha kept) or JPEG (transparency shown over a checkerboard), written atomically."""
    from renderer.compose.sheet import flatten_on_checkerboard
    from renderer.media.image import STILL_FORMATS, write_still

    out = Path(path)
    if out.suffix.lower() not in STILL_FORMATS:
        raise UsageError(f"{out}: a still is written as .png, .jpg or .jpeg")
    write_still(out, image if out.suffix.lower() == ".png" else flatten_on_checkerboard(image))
    return out


def plan_batch(
    template: str | Path,
    rows: str | Path,
    out_dir: str | Path | None = None,
    options: Options = Options(),
    on_event: EventSink = ignore,
    *,
    fail_fast: bool = False,
    executor: str = "local",
) -> BatchPlan:
    """One project per row of a CSV/JSON/YAML table (`vbr batch` before it renders); bad rows as failures.

    `executor`: where the rows will render (see run_batch). For "ray" an explicit
    device (Options.device "cuda", say) is taken as given: the cluster's nodes must
    have it, this machine need not.
    """
    from renderer.batch.plan import plan_batch as make

    check_executor(executor)
    template_path = Path(template)
    out = Path(out_dir) if out_dir is not None else template_path.resolve().parent
    root = options.cache_root()
    options.checked_threads()
    return make(
        template_path,
        Path(rows),
        out,
        lambda loaded: input_hashes(loaded, root, lambda message: on_event(WarningEvent(message))),
        fail_fast=fail_fast,
        device=_batch_device(options, executor),
        pull_missing=options.pull,
    )


EXECUTORS = ("local", "ray")


def check_executor(executor: str) -> None:
    """A UsageError for an unknown executor, or for "ray" where Ray is not installed."""
    if executor not in EXECUTORS:
        raise UsageError(f"vbr batch: executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if executor == "ray":
        from renderer.batch.ray import require_ray

        require_ray()


def _batch_device(options: Options, executor: str) -> str:
    from renderer.matting.device import DEVICES

    if executor == "ray" and options.device != "auto":
        if options.device not in DEVICES:
            raise UsageError(f"vbr: --device {options.device}: not one of {', '.join(DEVICES)}")
        return options.device
    return options.resolved_device()


def rows(template: str | Path, rows: str | Path) -> list[Row]:
    """The rows of a CSV/JSON/YAML rows file as `vbr batch` reads them: each with its `.line` and `.values`.

    A rows file that cannot be read, or a CSV column naming no variable, is a ProjectError.
    """
    from renderer.batch.rows import read_rows

    return read_rows(Path(rows), set(variables(template)))


def load_row(template: str | Path, rows_file: str | Path, line: int, out_dir: str | Path | None = None) -> LoadedProject:
    """The template as the row at `line` of the rows file renders it (one row of `vbr batch`).

    Its export lands where the batch would put it (`out_dir`, default the template's
    directory). Any problem, the row's own or the resolved project's, is a RowError.
    """
    from renderer.batch.plan import load_row as load

    template_path, rows_path = Path(template), Path(rows_file)
    found = [row for row in rows(template_path, rows_path) if row.line == line]
    if not found:
        raise RowError([f"{rows_path}:{line}: no row starts on this line"])
    out = Path(out_dir) if out_dir is not None else template_path.resolve().parent
    return load(template_path, found[0], out.resolve(), rows_path)


def run_batch(
    batch: BatchPlan,
    options: Options = Options(),
    on_event: EventSink = ignore,
    *,
    jobs: int = 1,
    force: bool = False,
    fail_fast: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
    cpus_per_row: int = 1,
) -> BatchDone:
    """Render a planned batch; writes the outputs, their manifests and the batch manifest here.

    executor "local": `jobs` worker processes on this machine. executor "ray": each
    row a task on a Ray cluster (`vbr batch --ray`) asking for `cpus_per_row` CPUs
    (and a GPU with device cuda); `ray_address` None starts a local Ray instance,
    "auto", "HOST:6379" or "ray://HOST:10001" joins a cluster. Nodes need no shared
    filesystem: inputs, masks and outputs travel through Ray's object store.
    """
    check_executor(executor)
    if jobs < 1:
        raise UsageError("vbr batch: -j/--jobs must be at least 1")
    if executor == "ray":
        from renderer.batch.ray import run_batch_on_ray

        if jobs != 1:
            raise UsageError("vbr batch: -j and --ray do not mix: Ray runs as many rows at once as the cluster has CPUs for")
        return run_batch_on_ray(
            batch,
            address=ray_address,
            cpus_per_row=cpus_per_row,
            emit=on_event,
            cache_dir=None if options.cache_dir is None else options.cache_root().resolve(),
            max_cache_bytes=options.cache_limit(),
            force=force,
            fail_fast=fail_fast,
            threads=options.checked_threads(),
        )
    from renderer.batch.run import run_batch as run

    return run(
        batch,
        workers=jobs,
        emit=on_event,
        cache_root=options.cache_root(),
        max_cache_bytes=options.cache_limit(),
        force=force,
        fail_fast=fail_fast,
        threads=options.checked_threads(),
    )


def batch(
    template: str | Path,
    rows: str | Path,
    out_dir: str | Path | None = None,
    options: Options = Options(),
    on_event: EventSink = ignore,
    *,
    jobs: int = 1,
    force: bool = False,
    fail_fast: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
    cpus_per_row: int = 1,
) -> BatchDone:
    """`vbr batch` in one call: plan the rows, then render them (see run_batch)."""
    planned = plan_batch(template, rows, out_dir, options, on_event, fail_fast=fail_fast, executor=executor)
    return run_batch(
        planned, options, on_event, jobs=jobs, force=force, fail_fast=fail_fast,
        executor=executor, ray_address=ray_address, cpus_per_row=cpus_per_row,
    )

