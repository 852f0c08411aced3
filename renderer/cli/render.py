"""`vbr render PROJECT`: render a project file to its export path."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import (
    add_cache_options,
    add_device_options,
    add_set_option,
    cache_limit,
    cache_root,
    compile_file,
    device_of,
    ensure_model,
    set_values,
    threads_of,
)
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
    from renderer.digest import file_sha256
    from renderer.graph.execute import render

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
            root = cache_root(args)
            limit = cache_limit(args)
            threads = threads_of(args)
            loaded, graph = compile_file(args.project, root, lambda m: sink(WarningEvent(m)), set_values(args), device_of(args))
            ensure_model(graph, args.pull)
            done = render(
                graph,
                emit=sink,
                cache_root=root,
                max_cache_bytes=limit,
                force=args.force,
                project_sha256=file_sha256(loaded.file),
                threads=threads,
            )
        finally:
            if shown is not None:
                shown.close()
    if not args.json and not args.quiet:
        print(summary(done))
    return 0
