from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from renderer.bench.standin import build_redness_model as _build_redness_model  # test_batch_ray imports it from here
from renderer.cli import main
from renderer.matting import registry

from helpers import make_clip

TEST_MODEL = "test-redness"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty mask cache: none touches the user's."""
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("VBR_CACHE_DIR", str(root))
    monkeypatch.delenv("VBR_CACHE_MAX_SIZE", raising=False)
    return root


@pytest.fixture(scope="session")
def redness_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "redness.onnx"
    _build_redness_model(path)
    return path


@pytest.fixture
def redness_model(redness_model_file: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Registers the tiny model under TEST_MODEL for the duration of a test."""
    spec = registry.ModelSpec(
        name=TEST_MODEL,
        input_size=(64, 64),
        mean=registry.IMAGENET_MEAN,
        std=registry.IMAGENET_STD,
        output=0,
        activation="sigmoid",
        sha256=hashlib.sha256(redness_model_file.read_bytes()).hexdigest(),
        license="test",
        origin="built by tests/conftest.py",
        path=redness_model_file,
    )
    monkeypatch.setitem(registry.MODELS, TEST_MODEL, spec)
    return TEST_MODEL


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s, 25 fps, 160x96, moving red square on green, stereo tone."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture
def project(tmp_path: Path, clip: Path):
    """Write a project file beside a copy-free link to the clip; returns its path."""

    def write(body: str, name: str = "project.yaml", source: Path | None = None) -> Path:
        media = tmp_path / "media"
        media.mkdir(exist_ok=True)
        target = media / "clip.mp4"
        if not target.exists():
            target.symlink_to(source or clip)
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return write


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]


@pytest.fixture
def vbr(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process (so monkeypatched models apply) and capture its output."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
