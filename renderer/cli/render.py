"""`vbr render PROJECT`: render a project file to its export path."""

from __future__ import annotations

import argparse

from renderer.cli.progress import Bar, JsonLines, summary, write_json
from renderer.errors import VbrError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("render", help="render a project file")
    parser.add_argument("project", metavar="PROJECT")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    shown.add_argument("--json", action="store_true", help="NDJSON events on stdout; the last is 'done'")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from renderer.graph.compile import compile_project
    from renderer.graph.execute import render
    from renderer.project.load import load_project

    sink = JsonLines() if args.json else None if args.quiet else Bar()
    try:
        graph = compile_project(load_project(args.project))
        done = render(graph, emit=sink or (lambda event: None))
    except VbrError as exc:
        if args.json:
            write_json({"event": "error", "message": "\n".join(exc.lines()), "exit_code": exc.exit_code})
        raise
    except KeyboardInterrupt:
        if args.json:
            write_json({"event": "error", "message": "interrupted", "exit_code": 130})
        raise
    finally:
        if sink is not None:
            sink.close()
    if not args.json and not args.quiet:
        print(summary(done))
    return 0
