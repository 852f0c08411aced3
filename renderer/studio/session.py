"""The project as the studio last loaded it, and the frames computed from it.

Each (re)load makes a new immutable Snapshot with a higher version number: the
compiled Project, or the located error lines that stopped it; the template's
variables and their current values; the rows of a rows file; the plan. Pages
compare versions to know when to fetch again.

Frames are keyed by the graph's key, not the version: a save that changes
nothing the output depends on (a comment, a touched file) keeps every frame.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np

from renderer import api
from renderer.events import Event, WarningEvent
from renderer.outputs import manifest_path
from renderer.studio import images
from renderer.studio.settings import Settings

Publish = Callable[[str, dict[str, Any]], None]

FRAME_BYTES = 512 * 1024 * 1024  # computed frames (image, source, matte) kept in memory
THUMB_WIDTH = 160


class NoProject(Exception):
    """Frames were asked of a project that does not load: its errors say why."""

    def __init__(self, errors: tuple[str, ...]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Frame:
    """One output frame with what it was made of; `inferred` masks were computed for it."""

    index: int
    image: np.ndarray
    source: np.ndarray
    matte: np.ndarray
    exact: bool
    inferred: int
    cached: int

    @property
    def nbytes(self) -> int:
        return self.image.nbytes + self.source.nbytes + self.matte.nbytes


@dataclass(frozen=True)
class Snapshot:
    version: int
    project: api.Project | None = None
    errors: tuple[str, ...] = ()  # FILE:LINE:COL (or ROWS:LINE) lines: why there is no project
    variables: tuple[dict[str, Any], ...] = ()
    values: dict[str, str] = field(default_factory=dict)  # given values, as text (a row's, or the form's)
    row: int | None = None  # the rows file line whose values are shown
    rows: tuple[dict[str, Any], ...] = ()
    rows_errors: tuple[str, ...] = ()
    plan: dict[str, Any] | None = None
    plan_errors: tuple[str, ...] = ()
    watched: frozenset[Path] = frozenset()

    @property
    def graph_key(self) -> str | None:
        return None if self.project is None else self.project.graph.key()


def as_text(value: Any) -> str:
    """A variable's value as the form (and --set) writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def describe_variables(declared: dict[str, Any], values: dict[str, str]) -> tuple[dict[str, Any], ...]:
    """The form's fields: each variable's type, default, choices and current value (None: not given)."""
    return tuple(
        {
            "name": name,
            "type": var.type,
            "default": None if var.default is None else as_text(var.default),
            "choices": list(var.choices) if var.choices is not None else None,
            "value": values.get(name),
        }
        for name, var in declared.items()
    )


def row_label(values: dict[str, Any], limit: int = 60) -> str:
    text = ", ".join(f"{name}={as_text(value)}" for name, value in values.items()) or "(defaults)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Exports a browser plays in a <video>; ProRes and PNG sequences are for editors: the page says where they are.
PLAYABLE = ("webm", "mp4")


def output_json(project: api.Project | None) -> dict[str, Any]:
    """The export on disk: whether it exists, where, whether the page can play it, and its frame count (from its manifest)."""
    if project is None:
        return {"exists": False, "path": None, "playable": False, "frames": None}
    loaded = project.loaded
    path = loaded.export
    exists = path.is_dir() if loaded.format == "png" else path.is_file()
    frames = None
    if exists:
        try:
            frames = json.loads(manifest_path(path).read_text(encoding="utf-8")).get("frames")
        except (OSError, ValueError, AttributeError):
            pass  # no manifest (yet), or not ours to read: the count is left out
    return {"exists": exists, "path": str(path), "playable": loaded.format in PLAYABLE, "frames": frames}


def project_json(project: api.Project) -> dict[str, Any]:
    graph = project.graph
    fps = Fraction(project.fps)
    return {
        "frames": project.frames,
        "fps": [fps.numerator, fps.denominator],
        "width": graph.width,
        "height": graph.height,
        "alpha": graph.alpha,
        "format": graph.format,
        "export": str(project.loaded.export),
        "graph_key": graph.key(),
    }


class Session:
    def __init__(self, settings: Settings, publish: Publish):
        self.settings = settings
        self._publish = publish
        self._snapshot = Snapshot(0, values=dict(settings.values))
        self._reloading = threading.Lock()  # one reload at a time, so versions follow each other
        self._computing = threading.Lock()  # one preview at a time: they share the CPU (and the model)
        self._frames: OrderedDict[tuple[str, int], Frame] = OrderedDict()
        self._frames_lock = threading.Lock()  # guards both memory caches
        self._thumbs: dict[tuple[str, int], bytes] = {}
        self._last_inputs: frozenset[Path] = frozenset()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    # --- loading ----------------------------------------------------------------------------------

    def reload(self) -> Snapshot:
        """Read the project (and rows) file again, keeping the values and the row picked."""
        current = self._snapshot
        return self._load(current.values, current.row)

    def set_values(self, values: dict[str, str]) -> Snapshot:
        """Values typed into the form (empty ones left out: the default applies); no row is picked then."""
        return self._load({name: text for name, text in values.items() if text != ""}, None)

    def select_row(self, line: int | None) -> Snapshot:
        """Show the template as a row of the rows file renders it (None: back to the form's values)."""
        values = self.settings.values if line is None else {}
        return self._load(dict(values), line)

    def refresh_plan(self) -> Snapshot:
        """The cache changed (a frame or a render inferred masks): plan again, same project."""
        with self._reloading:
            current = self._snapshot
            plan, plan_errors = self._plan(current.project)
            return self._replace(replace(current, version=current.version + 1, plan=plan, plan_errors=plan_errors))

    def _load(self, values: dict[str, str], row: int | None) -> Snapshot:
        settings = self.settings
        with self._reloading:
            rows, rows_errors = self._rows()
            if row is not None:
                found = [r for r in rows if r["line"] == row]
                if found:
                    values = dict(found[0]["values"])
            try:
                declared = api.variables(settings.project)
            except api.VbrError:
                declared = {}  # the load below reports the same problem, located
            project, errors = self._compile(values, row)
            plan, plan_errors = self._plan(project)
            if project is not None:
                self._last_inputs = frozenset(Path(path) for _, path in project.loaded.inputs())
            watched = {settings.project.resolve(), *self._last_inputs}
            if settings.rows is not None:
                watched.add(settings.rows.resolve())
            snapshot = Snapshot(
                version=self._snapshot.version + 1,
                project=project,
                errors=errors,
                variables=describe_variables(declared, values),
                values=values,
                row=row,
                rows=tuple({"line": r["line"], "label": r["label"], "problems": r["problems"]} for r in rows) if rows else (),
                rows_errors=rows_errors,
                plan=plan,
                plan_errors=plan_errors,
                watched=frozenset(watched),
            )
            return self._replace(snapshot)

    def _replace(self, snapshot: Snapshot) -> Snapshot:
        self._snapshot = snapshot
        key = snapshot.graph_key
        with self._frames_lock:
            self._thumbs = {k: v for k, v in self._thumbs.items() if k[0] == key}
        self._publish("state", {"version": snapshot.version, "graph_key": key, "errors": list(snapshot.errors)})
        return snapshot

    def _rows(self) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        settings = self.settings
        if settings.rows is None:
            return [], ()
        try:
            found = api.rows(settings.project, settings.rows)
        except api.VbrError as exc:
            return [], tuple(exc.lines())
        return [
            {
                "line": row.line,
                "values": {name: as_text(value) for name, value in row.values.items()},
                "label": row_label(row.values),
                "problems": [f"{settings.rows}:{row.line}: {problem}" for problem in row.problems],
            }
            for row in found
        ], ()

    def _compile(self, values: dict[str, str], row: int | None) -> tuple[api.Project | None, tuple[str, ...]]:
        settings = self.settings
        try:
            if row is not None and settings.rows is not None:
                loaded = api.load_row(settings.project, settings.rows, row)
            else:
                loaded = api.load(settings.project, values)
            return api.compile(loaded, options=settings.options, on_event=self._warn), ()
        except api.VbrError as exc:
            return None, tuple(exc.lines())

    def _plan(self, project: api.Project | None) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        if project is None:
            return None, ()
        try:
            return api.plan(project).to_json(), ()
        except api.VbrError as exc:
            return None, tuple(exc.lines())

    def _warn(self, event: Event) -> None:
        if isinstance(event, WarningEvent):
            self._publish("warning", {"message": event.message})

    # --- frames -----------------------------------------------------------------------------------

    def project(self) -> api.Project:
        snapshot = self._snapshot
        if snapshot.project is None:
            raise NoProject(snapshot.errors)
        return snapshot.project

    def masks_to_infer(self, index: int) -> int:
        project = self.project()
        _check_index(project, index)
        return api.masks_to_infer(project, frames=[index])

    def cached_frame(self, index: int) -> Frame | None:
        key = self._snapshot.graph_key
        with self._frames_lock:
            frame = self._frames.get((key, index)) if key else None
            if frame is not None:
                self._frames.move_to_end((key, index))
            return frame

    def frame(self, index: int) -> Frame:
        """The output frame `index` of the current project, computed once (api.preview with its layers)."""
        project = self.project()
        _check_index(project, index)
        key = (project.graph.key(), index)
        with self._computing:
            with self._frames_lock:
                if key in self._frames:
                    self._frames.move_to_end(key)
                    return self._frames[key]
            stills = api.preview(project, frames=[index], layers=True)
            still = stills.frames[0]
            assert still.source is not None and still.matte is not None
            frame = Frame(index, still.image, still.source, still.matte, still.exact, stills.counts.inferred, stills.counts.cached)
            self._keep(key, frame)
        return frame

    def _keep(self, key: tuple[str, int], frame: Frame) -> None:
        with self._frames_lock:
            self._frames[key] = frame
            total = sum(f.nbytes for f in self._frames.values())
            while total > FRAME_BYTES and len(self._frames) > 1:
                _, dropped = self._frames.popitem(last=False)
                total -= dropped.nbytes

    def thumbnail_indices(self) -> list[int]:
        snapshot = self._snapshot
        if snapshot.project is None:
            return []
        return images.thumbnail_indices(self.settings.thumbnails, snapshot.project.frames)

    def thumbnail(self, k: int) -> bytes | None:
        """The k-th thumbnail as PNG; None while its masks are not cached (a thumbnail never starts the model)."""
        project = self.project()
        indices = self.thumbnail_indices()
        if not 0 <= k < len(indices):
            raise IndexError(k)
        key = (project.graph.key(), k)
        with self._frames_lock:
            if key in self._thumbs:
                return self._thumbs[key]
        index = indices[k]
        frame = self.cached_frame(index)
        if frame is None:
            if api.masks_to_infer(project, frames=[index]) > 0:
                return None
            frame = self.frame(index)
        data = images.png(images.shrink(frame.image, THUMB_WIDTH))
        with self._frames_lock:
            self._thumbs[key] = data
        return data

    # --- what the page shows ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        snapshot = self._snapshot
        settings = self.settings
        project = snapshot.project
        return {
            "version": snapshot.version,
            "file": str(settings.project),
            "rows_file": None if settings.rows is None else str(settings.rows),
            "errors": list(snapshot.errors),
            "project": None if project is None else project_json(project),
            "variables": list(snapshot.variables),
            "values": snapshot.values,
            "row": snapshot.row,
            "rows": list(snapshot.rows),
            "rows_errors": list(snapshot.rows_errors),
            "plan": snapshot.plan,
            "plan_errors": list(snapshot.plan_errors),
            "thumbnails": [{"k": k, "index": index} for k, index in enumerate(self.thumbnail_indices())],
            "modes": list(images.MODES),
            "output": output_json(project),
        }


def _check_index(project: api.Project, index: int) -> None:
    if not 0 <= index < project.frames:
        raise IndexError(f"frame {index} is outside the render (0 to {project.frames - 1})")
