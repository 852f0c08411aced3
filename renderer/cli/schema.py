"""`vbr schema`: print the project file's JSON Schema."""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("schema", help="print the project file's JSON Schema")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from renderer.project.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
