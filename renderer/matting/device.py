"""Which onnxruntime execution provider runs the model: --device auto|cpu|cuda|coreml|directml.

The choice is resolved once, before compiling, to a provider family that goes
into the mask cache key: masks from different providers can differ in the
last bits, and a cache must never mix them into one output.
"""

from __future__ import annotations

from renderer.errors import UsageError

DEVICES = ("auto", "cpu", "cuda", "coreml", "directml")
PROVIDERS = {
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_AUTO_ORDER = ("cuda", "coreml", "directml")
_INSTALL_HINT = {
    "cuda": "pip install onnxruntime-gpu (in place of onnxruntime) with CUDA and cuDNN installed",
    "coreml": "the standard onnxruntime wheel for macOS includes it",
    "directml": "pip install onnxruntime-directml (in place of onnxruntime) on Windows",
}


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def resolve_device(choice: str, available: list[str] | None = None) -> str:
    """The device family a render will use; UsageError if an explicit one is missing."""
    available = available_providers() if available is None else available
    if choice == "auto":
        return next((name for name in _AUTO_ORDER if PROVIDERS[name] in available), "cpu")
    if choice not in PROVIDERS:
        raise UsageError(f"vbr: --device {choice}: not one of {', '.join(DEVICES)}")
    if PROVIDERS[choice] not in available:
        raise UsageError(
            f"vbr: --device {choice}: this onnxruntime has no {PROVIDERS[choice]} "
            f"(it has {', '.join(available)}); {install_hint(choice)}".rstrip("; ")
        )
    return choice


def install_hint(device: str) -> str:
    """What to install for a device; for CUDA, also the usual trap of both onnxruntime packages at once."""
    from importlib.metadata import PackageNotFoundError, version

    if device == "cuda":
        try:
            version("onnxruntime"), version("onnxruntime-gpu")
        except PackageNotFoundError:
            pass
        else:  # both write the same `onnxruntime` module; the CPU one's files won
            return "both onnxruntime and onnxruntime-gpu are installed: pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu"
    return _INSTALL_HINT.get(device, "")


def provider_options(device: str) -> list[str]:
    """The provider list for a session: the device's, with the CPU behind it for unsupported operators."""
    return [PROVIDERS[device]] + ([] if device == "cpu" else [PROVIDERS["cpu"]])
