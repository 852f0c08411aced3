"""`vbr plan PROJECT`: show the render graph and what is cached, without rendering."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import add_cache_options, add_device_options, add_set_option, options_of, set_values
from renderer.cli.progress import write_json


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("plan", help="show the render graph and what is cached")
    parser.add_argument("project", metavar="PROJECT")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add_set_option(parser)
    add_device_options(parser, runs_model=False)
    add_cache_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import renderer.api as api
    from renderer.events import WarningEvent

    def warn(event: object) -> None:
        if isinstance(event, WarningEvent):
            print(f"vbr: warning: {event.message}", file=sys.stderr)

    project = api.compile(args.project, set_values(args), options_of(args), warn)
    graph, plan = project.graph, api.plan(project)
    if args.json:
        write_json({"graph_key": graph.key(), **plan.to_json()})
        return 0
    print(f"{'stage':<10} {'key':<12}  {'status':<7} detail")
    for node in plan.nodes:
        print(f"{node.stage:<10} {node.key[:12]}  {node.status:<7} {node.detail}".rstrip())
    bound = "" if plan.exact else "at most "
    print(f"frames: {plan.frames} to write, {bound}{plan.to_infer} to infer")
    return 0
