"""`vbr render PROJECT`: render a project file to its export path."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import add_cache_options, add_device_options, add_set_option, ensure_model, options_of, set_values
from renderer.cli.progress import Bar, JsonLines, json_failures, summary
from renderer.events import Event, WarningEvent


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("render", help="render a project file")
    parser.add_argument("project", metavar="PROJECT")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    shown.add_argument("--json", action="store_true", help="NDJSON events on stdout; the last is 'done'")
    parser.add_argument("--force", action="store_true", help="render even if the output is up to date")
    add_set_option(parser)
    add_device_options(parser)
    add_cache_options(parser, size=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import renderer.api as api

    shown = JsonLines() if args.json else None if args.quiet else Bar()
    warned: list[str] = []

    def sink(event: Event) -> None:
        if isinstance(event, WarningEvent):
            if warned:  # one cache problem is reported once, however many stores hit it
                return
            warned.append(event.message)
            if not args.json:
                print(f"vbr: warning: {event.message}", file=sys.stderr)
        if shown is not None:
            shown(event)

    with json_failures(args.json):
        try:
            project = api.compile(args.project, set_values(args), options_of(args), sink)
            ensure_model(project)
            done = api.render(project, force=args.force)
        finally:
            if shown is not None:
                shown.close()
    if not args.json and not args.quiet:
        print(summary(done))
    return 0
