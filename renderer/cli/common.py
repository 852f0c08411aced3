"""Flags several commands share, and how they become the API's Options."""

from __future__ import annotations

import argparse
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


def options_of(args: argparse.Namespace) -> Any:
    """The shared flags as the API's Options (flags a command lacks keep their defaults)."""
    from renderer.api import Options

    return Options(
        cache_dir=getattr(args, "cache_dir", None),
        device=getattr(args, "device", "auto"),
        threads=getattr(args, "threads", None),
        max_cache_size=getattr(args, "cache_max_size", None),
        pull=getattr(args, "pull", False),
    )


def ensure_model(project: Any) -> None:
    """Stop before rendering when the project's model is not on disk (or fetch it, with --pull, showing a bar)."""
    from renderer.api import ensure_model as ensure
    from renderer.cli.progress import download_bar
    from renderer.graph.nodes import Matte

    with download_bar(project.graph.find(Matte).model.name) as progress:
        ensure(project, progress)


def add_cache_options(parser: argparse.ArgumentParser, *, size: bool = False) -> None:
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="mask cache location (default: $VBR_CACHE_DIR or the user cache directory)"
    )
    if size:
        parser.add_argument(
            "--cache-max-size", metavar="SIZE", help="prune the cache to this size after rendering (default: $VBR_CACHE_MAX_SIZE or 5GB)"
        )
