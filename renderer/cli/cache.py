"""`vbr cache info|clear|prune`: look after the mask cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from renderer.cli.common import add_cache_options, options_of
from renderer.cli.progress import write_json
from renderer.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("cache", help="show, prune or clear the mask cache")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    info = actions.add_parser("info", help="location, size and entries")
    info.add_argument("--json", action="store_true")
    clear = actions.add_parser("clear", help="delete every entry")
    prune = actions.add_parser("prune", help="delete least recently used entries down to a size")
    prune.add_argument("--max-size", required=True, metavar="SIZE", help="e.g. 1GB, 500MB, 2GiB")
    for sub in (info, clear, prune):
        add_cache_options(sub)
        sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from renderer.cache import maintenance

    root = options_of(args).cache_root()
    try:
        return _act(args, root)
    except maintenance.NotACache as exc:
        raise UsageError(f"vbr cache {args.action}: {exc}") from None


def _act(args: argparse.Namespace, root: Path) -> int:
    from renderer.cache import maintenance
    from renderer.cache.location import format_size, parse_size

    if args.action == "info":
        found = maintenance.info(root)
        if args.json:
            write_json({"location": str(root), "bytes": found.bytes, "entries": found.entries, "namespaces": found.namespaces})
        else:
            print(f"location: {root}")
            print(f"size:     {format_size(found.bytes)} ({found.bytes} bytes)")
            print(f"entries:  {found.entries}" + "".join(f"\n  {name}: {n}" for name, n in found.namespaces.items()))
    elif args.action == "clear":
        print(f"cleared {maintenance.clear(root)} entries from {root}")
    else:
        try:
            limit = parse_size(args.max_size)
        except ValueError as exc:
            raise UsageError(f"vbr cache prune: {exc}") from None
        removed, freed = maintenance.prune(root, limit)
        print(f"pruned {removed} entries ({format_size(freed)}) from {root}")
    return 0
