"""`vbr models pull`: fetch a model's weights into the model directory, verified, resumable.

Files on the Hugging Face Hub go through huggingface_hub (which resumes its own
partial downloads); plain HTTPS files are fetched with HTTP range requests
into `<name>.onnx.part`, so an interrupted pull continues where it stopped.
Nothing is installed until its sha256 matches the registry. Before any of
that, one short connection attempt: offline, a pull fails in seconds with
the way to place the file by hand.
"""

from __future__ import annotations

import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from renderer.digest import file_sha256
from renderer.errors import ModelError, UsageError
from renderer.matting.registry import Download, ModelSpec
from renderer.matting.store import pull_command, weights_path

Progress = Callable[[int, "int | None"], None]  # bytes so far, total when known

CONNECT_TIMEOUT = 5.0  # seconds for the reachability check
READ_TIMEOUT = 30.0
_CHUNK = 1 << 20


def hub_endpoint() -> str:
    """The Hub, or the mirror $HF_ENDPOINT names (as huggingface_hub itself reads it)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def pull(spec: ModelSpec, *, accept_license: bool = False, force: bool = False, progress: Progress | None = None) -> tuple[Path, bool]:
    """The installed file, and whether it was downloaded now (False: it was already there and sound)."""
    source = spec.download
    target = weights_path(spec)
    if source is None or target is None:
        raise UsageError(f"vbr: model '{spec.name}' is {'embedded in vbr' if spec.embedded else 'not downloadable'}: nothing to pull")
    if target.is_file() and not force:
        if file_sha256(target) == spec.sha256:
            return target, False
        target.unlink()  # damaged or replaced: fetch it again
    if spec.license_acceptance and not accept_license:
        raise UsageError(
            f"vbr: model '{spec.name}' is under the licence {spec.license}; read it, then run "
            f"`vbr models pull {spec.name} --accept-license` to download"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    url = _hub_url(source) if source.repo_id else str(source.url)
    _reachable(url, spec, target)
    try:
        fetched = _from_hub(source, target) if source.repo_id else _from_url(url, target, source.size, progress)
    except ModelError:
        raise
    except Exception as exc:  # network and Hub errors come in many classes
        raise ModelError(f"model '{spec.name}': download failed ({_reason(exc)}); {_by_hand(spec, target)}") from None
    digest = file_sha256(fetched)
    if digest != spec.sha256:
        fetched.unlink(missing_ok=True)
        raise ModelError(f"model '{spec.name}': downloaded file has sha256 {digest}, expected {spec.sha256}; deleted it")
    os.replace(fetched, target)
    shutil.rmtree(_hub_staging(target), ignore_errors=True)  # the Hub client's bookkeeping, if any
    return target, True


def _hub_url(source: Download) -> str:
    return f"{hub_endpoint()}/{source.repo_id}/resolve/{source.revision}/{source.filename}"


def _by_hand(spec: ModelSpec, target: Path) -> str:
    assert spec.download is not None
    return f"to install it by hand, download {spec.download.describe()} and save it as {target} (sha256 {spec.sha256})"


def _reachable(url: str, spec: ModelSpec, target: Path) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ModelError(f"model '{spec.name}': cannot reach {host} ({_reason(exc)}); {_by_hand(spec, target)}") from None


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _from_hub(source: Download, target: Path) -> Path:
    from huggingface_hub import hf_hub_download

    staging = _hub_staging(target)
    return Path(
        hf_hub_download(
            str(source.repo_id), str(source.filename), revision=source.revision, local_dir=staging, endpoint=hub_endpoint()
        )
    )


def _hub_staging(target: Path) -> Path:
    """Where huggingface_hub downloads (and resumes) before the file is verified and moved."""
    return target.parent / f".{target.stem}.hub"


def _from_url(url: str, target: Path, size: int | None, progress: Progress | None) -> Path:
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "vbr", **({"Range": f"bytes={have}-"} if have else {})})
    try:
        response = urllib.request.urlopen(request, timeout=READ_TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and size is not None and have == size:  # the part is already whole
            return part
        raise
    with response:
        resumed = response.status == 206
        total = _total(response, have if resumed else 0) or size
        with open(part, "ab" if resumed else "wb") as out:
            done = have if resumed else 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    if total is not None and part.stat().st_size != total:
        raise ModelError(f"download of {url} stopped at {part.stat().st_size} of {total} bytes; run the pull again to resume")
    return part


def _total(response, offset: int) -> int | None:
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def ensure_installed(spec: ModelSpec, *, pull_missing: bool, progress: Progress | None = None) -> None:
    """A render's model must be on disk; only --pull fetches it."""
    target = weights_path(spec)
    if target is None or target.is_file():
        return
    if not pull_missing:
        raise ModelError(f"model '{spec.name}' is not installed: run `{pull_command(spec)}`, or render with --pull")
    pull(spec, progress=progress)
