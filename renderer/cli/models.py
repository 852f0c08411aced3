"""`vbr models list | pull NAME | path NAME`: the model zoo and the model directory."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.progress import write_json
from renderer.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list, download and locate matting models")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", parser_class=type(parser))
    listing = sub.add_parser("list", help="every registry model: input size, licence, size on disk, installed or not")
    listing.add_argument("--json", action="store_true", help="one JSON object per model on stdout")
    listing.set_defaults(run=run_list)
    pull = sub.add_parser("pull", help="download a model into the model directory ($VBR_MODELS_DIR)")
    pull.add_argument("name", metavar="NAME")
    pull.add_argument("--accept-license", action="store_true", help="accept the model's licence (required for non-open licences)")
    pull.add_argument("--force", action="store_true", help="download again even if the file is there and sound")
    pull.set_defaults(run=run_pull)
    path = sub.add_parser("path", help="print where a model's file is, or would go")
    path.add_argument("name", metavar="NAME")
    path.set_defaults(run=run_path)
    parser.set_defaults(run=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _spec(name: str):
    from renderer.matting.registry import MODELS

    if name not in MODELS:
        raise UsageError(f"vbr models: unknown model '{name}' (available: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def _size(count: int | None) -> str:
    if count is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return "-"


def run_list(args: argparse.Namespace) -> int:
    from renderer.matting.registry import MODELS
    from renderer.matting.store import describe, models_dir

    rows = [describe(spec) for spec in sorted(MODELS.values(), key=lambda s: s.name)]
    if args.json:
        for row in rows:
            spec = row.spec
            write_json({
                "name": spec.name, "input_size": list(spec.input_size), "license": spec.license,
                "installed": row.installed, "bytes": row.bytes_on_disk,
                "download_bytes": spec.download.size if spec.download else None,
                "location": row.location, "origin": spec.origin,
            })
        return 0
    print(f"{'model':<18} {'input':<9} {'size':>9}  {'installed':<10} licence")
    for row in rows:
        spec = row.spec
        size = row.bytes_on_disk if row.installed else (spec.download.size if spec.download else None)
        state = "embedded" if spec.embedded else ("yes" if row.installed else "no")
        shown = _size(size) if row.installed or size is None else f"({_size(size)})"
        print(f"{spec.name:<18} {spec.input_size[0]}x{spec.input_size[1]:<5} {shown:>9}  {state:<10} {spec.license}")
    print(f"model directory: {models_dir()} (set VBR_MODELS_DIR to move it); sizes in brackets are downloads")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from renderer.cli.progress import download_bar
    from renderer.matting.download import pull

    spec = _spec(args.name)
    with download_bar(spec.name) as progress:
        path, fetched = pull(spec, accept_license=args.accept_license, force=args.force, progress=progress)
    print(f"{'pulled' if fetched else 'already installed'}: {spec.name} at {path} (sha256 {spec.sha256[:12]}…, verified)")
    return 0


def run_path(args: argparse.Namespace) -> int:
    from renderer.matting.store import weights_path

    spec = _spec(args.name)
    path = weights_path(spec)
    print("embedded in the vbr package" if path is None else path)
    return 0
