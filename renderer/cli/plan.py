"""`vbr plan PROJECT`: show the render graph and what is cached, without rendering."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import add_cache_options, add_device_options, add_set_option, cache_root, compile_file, device_of, set_values
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
    from renderer.graph.execute import open_cache
    from renderer.graph.plan import make_plan

    root = cache_root(args)
    warn = lambda message: print(f"vbr: warning: {message}", file=sys.stderr)  # noqa: E731
    _, graph = compile_file(args.project, root, warn, set_values(args), device_of(args))
    plan = make_plan(graph, open_cache(root, lambda event: warn(event.message)))
    if args.json:
        write_json({"graph_key": graph.key(), **plan.to_json()})
        return 0
    print(f"{'stage':<10} {'key':<12}  {'status':<7} detail")
    for node in plan.nodes:
        print(f"{node.stage:<10} {node.key[:12]}  {node.status:<7} {node.detail}".rstrip())
    bound = "" if plan.exact else "at most "
    print(f"frames: {plan.frames} to write, {bound}{plan.to_infer} to infer")
    return 0
