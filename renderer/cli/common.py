"""Options and steps several commands share: the cache flags, project -> graph."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from renderer.errors import UsageError


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="give a template variable a value (repeatable)"
    )


def set_values(args: argparse.Namespace) -> dict[str, str]:
    from renderer.project.templating import parse_assignments

    try:
        return parse_assignments(args.set)
    except ValueError as exc:
        raise UsageError(f"vbr: {exc}") from None


def add_device_options(parser: argparse.ArgumentParser, *, runs_model: bool = True) -> None:
    from renderer.matting.device import DEVICES

    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="where the model runs (default auto: a GPU provider if onnxruntime has one, else the CPU)"
    )
    if runs_model:
        parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for the model (default: every usable core)")
        parser.add_argument("--pull", action="store_true", help="download the project's registry model first if it is not installed")


def device_of(args: argparse.Namespace) -> str:
    from renderer.matting.device import resolve_device

    return resolve_device(args.device)


def threads_of(args: argparse.Namespace) -> int | None:
    if args.threads is not None and args.threads < 1:
        raise UsageError("vbr: --threads must be at least 1")
    return args.threads


def ensure_model(graph: Any, pull_missing: bool) -> None:
    """Stop before rendering when the graph's model is not on disk (or fetch it, with --pull)."""
    from renderer.cli.progress import download_bar
    from renderer.graph.nodes import Matte
    from renderer.matting.download import ensure_installed

    spec = graph.find(Matte).model
    with download_bar(spec.name) as progress:
        ensure_installed(spec, pull_missing=pull_missing, progress=progress)


def add_cache_options(parser: argparse.ArgumentParser, *, size: bool = False) -> None:
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="mask cache location (default: $VBR_CACHE_DIR or the user cache directory)"
    )
    if size:
        parser.add_argument(
            "--cache-max-size", metavar="SIZE", help="prune the cache to this size after rendering (default: $VBR_CACHE_MAX_SIZE or 5GB)"
        )


def cache_root(args: argparse.Namespace) -> Path:
    from renderer.cache.location import cache_dir

    return cache_dir(args.cache_dir)


def cache_limit(args: argparse.Namespace) -> int:
    from renderer.cache.location import max_bytes

    try:
        return max_bytes(args.cache_max_size)
    except ValueError as exc:
        raise UsageError(f"vbr: {exc}") from None


def compile_file(
    project: str, root: Path, warn: Any, values: dict[str, Any] | None = None, device: str = "cpu"
) -> tuple[Any, Any]:
    """Load and check a project, hash its inputs (remembered in the cache), compile it."""
    from renderer.graph.compile import compile_project
    from renderer.project.load import load_project

    loaded = load_project(project, values=values)
    return loaded, compile_project(loaded, input_hashes(loaded, root, warn), device=device)


def input_hashes(loaded: Any, root: Path, warn: Any) -> Any:
    """Content hashes of the project's input files, remembered per file version in the cache."""
    from renderer.cache.sources import content_hash
    from renderer.cache.store import Store
    from renderer.graph.compile import InputHashes

    sources = Store(root, "sources", warn)
    return InputHashes(
        source=content_hash(loaded.source, sources),
        image=content_hash(loaded.image, sources) if loaded.image else None,
        fonts=tuple(content_hash(font, sources) if font else None for font in loaded.fonts),
        model=content_hash(loaded.model_path, sources) if loaded.model_path else None,
    )
