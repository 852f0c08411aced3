"""`vbr preview PROJECT (--at T | --sheet N) -o OUT.png|OUT.jpg`: stills before a long export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from renderer.cli.common import add_cache_options, add_device_options, add_set_option, ensure_model, options_of, set_values
from renderer.cli.progress import write_json
from renderer.errors import UsageError
from renderer.events import Event, WarningEvent

_warned: list[str] = []


def _warn(message: str) -> None:
    if not _warned:  # one cache problem is reported once
        _warned.append(message)
        print(f"vbr: warning: {message}", file=sys.stderr)


def _show_warnings(event: Event) -> None:
    if isinstance(event, WarningEvent):
        _warn(event.message)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("preview", help="write a still (or a contact sheet) of what the export will contain")
    parser.add_argument("project", metavar="PROJECT")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--at", metavar="TIME", help='a time on the output timeline: seconds or "[HH:]MM:SS[.fff]"')
    which.add_argument("--sheet", metavar="N", type=int, help="a contact sheet of N evenly spaced frames")
    parser.add_argument("-o", "--output", required=True, metavar="IMAGE", help="where to write the still: a .png, .jpg or .jpeg file")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add_set_option(parser)
    add_device_options(parser)
    add_cache_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import renderer.api as api
    from renderer.compose.sheet import contact_sheet
    from renderer.graph.preview import sheet_indices
    from renderer.project.timecode import format_seconds

    if args.sheet is not None and not 1 <= args.sheet <= 100:
        raise UsageError("vbr preview: --sheet takes 1 to 100 frames")
    output = Path(args.output)
    loaded = api.load(args.project, set_values(args))
    _check_output(output, loaded)
    project = api.compile(loaded, options=options_of(args), on_event=_show_warnings)
    if args.at is not None:
        try:
            indices = [api.frame_index(project, args.at)]
        except UsageError as exc:
            raise UsageError(f"vbr preview: {exc}") from None
    else:
        indices = sheet_indices(args.sheet, project.frames)
    ensure_model(project)
    stills = api.preview(project, frames=indices)
    frames, counts = stills.frames, stills.counts
    image = frames[0].image if args.at is not None else contact_sheet([(f.time, f.image) for f in frames], format_seconds)
    api.write_image(image, output)
    if args.json:
        write_json({
            "event": "done", "output": str(output.resolve()), "frames": [f.index for f in frames],
            "times": [float(f.time) for f in frames], "exact": all(f.exact for f in frames),
            "inferred_frames": counts.inferred, "cached_frames": counts.cached, "reused_frames": counts.reused,
            "carried_frames": counts.carried,
        })
    else:
        what = f"frame {frames[0].index} ({format_seconds(frames[0].time)})" if args.at is not None else f"{len(frames)} frames"
        print(f"wrote {output}: {what}, {counts.inferred} inferred, {counts.cached} from cache")
    return 0


def _check_output(output: Path, loaded: Any) -> None:
    """Before any work: a still may replace an earlier still, never the project's inputs nor its export."""
    from renderer.media.image import STILL_FORMATS
    from renderer.outputs import manifest_path, target_problem

    render_outputs = [("the export file (export.path)", loaded.export), ("the export's manifest", manifest_path(loaded.export))]
    refused = target_problem(output, [*loaded.inputs(), *render_outputs])
    if refused is None and loaded.format == "png" and output.resolve().is_relative_to(loaded.export):
        refused = "is inside the export's PNG sequence folder (export.path), which holds the sequence alone"
    if refused is None and output.suffix.lower() not in STILL_FORMATS:
        refused = "is not a .png, .jpg or .jpeg file: a preview is written as one of those"
    if refused is not None:
        raise UsageError(f"vbr preview: -o {output} {refused}")
