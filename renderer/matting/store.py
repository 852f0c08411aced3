"""The model directory: where pulled weights live, and whether a model is there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from renderer.errors import ModelError
from renderer.matting.registry import ModelSpec


def models_dir() -> Path:
    """$VBR_MODELS_DIR, else the platform's user data directory (e.g. ~/.local/share/vbr/models)."""
    env = os.environ.get("VBR_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("vbr", appauthor=False)) / "models"


def weights_path(spec: ModelSpec) -> Path | None:
    """Where a pulled model's file is or would go; None for embedded and custom models."""
    if spec.download is None:
        return None
    return models_dir() / f"{spec.name}.onnx"


def pull_command(spec: ModelSpec) -> str:
    return f"vbr models pull {spec.name}" + (" --accept-license" if spec.license_acceptance else "")


def require_installed(spec: ModelSpec) -> Path:
    path = weights_path(spec)
    if path is None:
        raise ModelError(f"model '{spec.name}' has no weights location")
    if not path.is_file():
        raise ModelError(f"model '{spec.name}' is not installed: run `{pull_command(spec)}` (or render with --pull)")
    return path


@dataclass(frozen=True)
class Installed:
    """A model as `vbr models list` shows it."""

    spec: ModelSpec
    installed: bool
    bytes_on_disk: int | None  # None: not installed
    location: str  # file path, or "embedded"


def describe(spec: ModelSpec) -> Installed:
    if spec.embedded:
        from importlib import resources

        with resources.as_file(resources.files("renderer.matting.weights").joinpath(spec.resource or "")) as file:
            return Installed(spec, True, file.stat().st_size, "embedded")
    path = weights_path(spec) or spec.path
    if path is not None and path.is_file():
        return Installed(spec, True, path.stat().st_size, str(path))
    return Installed(spec, False, None, str(path))
