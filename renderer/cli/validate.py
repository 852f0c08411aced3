"""`vbr validate FILE...`: check project files (and their sources) without rendering."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import add_set_option, set_values
from renderer.errors import VbrError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("validate", help="check project files without rendering")
    parser.add_argument("files", nargs="+", metavar="FILE")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import renderer.api as api

    values = set_values(args)
    worst = 0
    for file in args.files:
        try:
            api.load(file, values)
        except VbrError as exc:
            for line in exc.lines():
                print(line, file=sys.stderr)
            worst = max(worst, exc.exit_code)
            continue
        print(f"{file}: ok")
    return worst
