"""The model zoo, custom models, `vbr models`, and device selection — with tiny ONNX stand-ins, no network."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import read_video
from renderer.errors import ModelError, UsageError
from renderer.matting import registry
from renderer.matting.device import provider_options, resolve_device
from renderer.matting.registry import IMAGENET_MEAN, IMAGENET_STD, MODELS, ModelSpec
from renderer.matting.session import Matter

# Every preset's numerics, written out: a change to the registry must change this table too.
PRESETS = {
    # name: (input size, mean, std, output, activation, channels, scale, licence must be accepted)
    "u2netp": ((320, 320), IMAGENET_MEAN, IMAGENET_STD, 0, "none", "rgb", 1 / 255, False),
    "u2netp-int8": ((320, 320), IMAGENET_MEAN, IMAGENET_STD, 0, "none", "rgb", 1 / 255, False),
    "u2net_human_seg": ((320, 320), IMAGENET_MEAN, IMAGENET_STD, 0, "none", "rgb", 1 / 255, False),
    "rmbg-1.4": ((1024, 1024), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), 0, "none", "rgb", 1 / 255, True),
    "isnet-general-use": ((1024, 1024), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), 0, "none", "rgb", 1 / 255, False),
    "birefnet": ((1024, 1024), IMAGENET_MEAN, IMAGENET_STD, -1, "sigmoid", "rgb", 1 / 255, False),
    "birefnet-lite": ((1024, 1024), IMAGENET_MEAN, IMAGENET_STD, -1, "sigmoid", "rgb", 1 / 255, False),
    "birefnet-portrait": ((1024, 1024), IMAGENET_MEAN, IMAGENET_STD, -1, "sigmoid", "rgb", 1 / 255, False),
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def channel_model(path: Path, size: tuple[int, int], *, outputs: int = 1, matte: int = 0, matte_rank: int = 4,
                  input_type: int | None = None, static: bool = True) -> Path:
    """An ONNX 'matting model' whose matte output is its input's first channel, as the network sees it.

    The other outputs are decoys (the second and third channels), so picking the
    wrong output, the wrong channel order, size, scale or mean/std all show.
    """
    import onnx
    from onnx import TensorProto, helper

    width, height = size
    dims: list = [1, 3, height, width] if static else ["n", 3, "h", "w"]
    nodes, outs, inits = [], [], []
    order = [c for c in range(3) if c != 0][: outputs - 1]
    channels = order[:matte] + [0] + order[matte:]
    for i, channel in enumerate(channels):
        inits.append(helper.make_tensor(f"idx{i}", TensorProto.INT64, [1], [channel]))
        nodes.append(helper.make_node("Gather", ["x", f"idx{i}"], [f"g{i}"], axis=1))
        name = f"out{i}"
        if i == matte and matte_rank == 3:
            inits.append(helper.make_tensor("axis1", TensorProto.INT64, [1], [1]))
            nodes.append(helper.make_node("Squeeze", [f"g{i}", "axis1"], [name]))
            shape = [dims[0], dims[2], dims[3]]
        else:
            nodes.append(helper.make_node("Identity", [f"g{i}"], [name]))
            shape = [dims[0], 1, dims[2], dims[3]]
        outs.append(helper.make_tensor_value_info(name, input_type or TensorProto.FLOAT, shape))
    graph = helper.make_graph(
        nodes, "channel", [helper.make_tensor_value_info("x", input_type or TensorProto.FLOAT, dims)], outs, initializer=inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def standing_in(spec: ModelSpec, weights: Path) -> ModelSpec:
    """The registry entry with its numerics intact but its weights swapped for a test file."""
    return dataclasses.replace(spec, resource=None, download=None, path=weights, sha256=sha(weights))


def probe_image(width: int, height: int) -> np.ndarray:
    """R sweeps 0..255 across the columns; G and B differ from it, so a channel mix-up shows."""
    r = np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))
    return np.dstack([r, 255 - r, np.full_like(r, 90)])


def expected_mask(image: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """The preset's numerics computed independently, in float64."""
    first = image[..., 2] if spec.channels == "bgr" else image[..., 0]
    x = (first.astype(np.float64) * spec.scale - spec.mean[0]) / spec.std[0]
    if spec.activation == "sigmoid":
        x = 1 / (1 + np.exp(-x))
    return np.rint(np.clip(x, 0, 1) * 255)


def test_every_registry_entry_is_pinned():
    assert set(MODELS) == set(PRESETS)
    for name, (size, mean, std, output, activation, channels, scale, acceptance) in PRESETS.items():
        spec = MODELS[name]
        assert (spec.input_size, spec.mean, spec.std, spec.output, spec.activation, spec.channels, spec.scale) == (
            size, mean, std, output, activation, channels, scale
        ), name
        assert spec.license_acceptance is acceptance and len(spec.sha256) == 64 and spec.license and spec.origin
        embedded = name in ("u2netp", "u2netp-int8")
        assert spec.embedded == embedded and (spec.download is None) == embedded


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_preprocesses_and_postprocesses_exactly(name: str, tmp_path: Path):
    spec = MODELS[name]
    outputs = 3 if spec.output == -1 else 2
    weights = channel_model(tmp_path / "m.onnx", spec.input_size, outputs=outputs, matte=spec.output % outputs)
    image = probe_image(*spec.input_size)
    mask = Matter(standing_in(spec, weights), threads=1)(image)
    assert mask.shape == (spec.input_size[1], spec.input_size[0]) and mask.dtype == np.uint8
    assert np.abs(mask.astype(int) - expected_mask(image, spec)).max() <= 1
    assert mask.min() < mask.max()  # the sweep is not clipped flat: the numbers above were really tested


def test_channel_order_and_scale_are_applied(tmp_path: Path):
    base = MODELS["rmbg-1.4"]
    weights = channel_model(tmp_path / "m.onnx", (64, 64))
    image = probe_image(64, 64)
    for spec in (dataclasses.replace(base, input_size=(64, 64), output=0, channels="bgr"),
                 dataclasses.replace(base, input_size=(64, 64), output=0, scale=1 / 510)):
        mask = Matter(standing_in(spec, weights), threads=1)(image)
        assert np.abs(mask.astype(int) - expected_mask(image, spec)).max() <= 1


def test_signature_mismatches_name_what_was_expected_and_found(tmp_path: Path):
    spec = standing_in(MODELS["u2netp"], channel_model(tmp_path / "a.onnx", (64, 64)))
    with pytest.raises(ModelError, match=r"input_size is 320x320 but the model takes 64x64"):
        Matter(spec)
    fits = dataclasses.replace(spec, input_size=(64, 64))
    with pytest.raises(ModelError, match=r"output 3 does not exist \(the model has 1 outputs\)"):
        Matter(dataclasses.replace(fits, output=3))
    from onnx import TensorProto

    half = standing_in(fits, channel_model(tmp_path / "b.onnx", (64, 64), input_type=TensorProto.FLOAT16))
    with pytest.raises(ModelError, match=r"expected one float input \[N,3,H,W\], found x tensor\(float16\)"):
        Matter(half)
    not_an_onnx = tmp_path / "c.onnx"
    not_an_onnx.write_bytes(b"definitely not protobuf")
    with pytest.raises(ModelError, match=r"onnxruntime cannot load it"):
        Matter(standing_in(fits, not_an_onnx))


def test_dynamic_shapes_and_a_rank_3_matte_are_accepted(tmp_path: Path):
    spec = dataclasses.replace(MODELS["birefnet"], input_size=(96, 64), output=0)
    weights = channel_model(tmp_path / "d.onnx", (96, 64), matte_rank=3, static=False)
    image = probe_image(96, 64)
    mask = Matter(standing_in(spec, weights), threads=1)(image)
    assert np.abs(mask.astype(int) - expected_mask(image, spec)).max() <= 1


# --- custom models in the project file -------------------------------------------------------

CUSTOM = """version: 1
source: media/clip.mp4
model:
  path: models/matte.onnx
  input_size: [48, 32]
  mean: [0.5, 0.5, 0.5]
  std: [0.25, 0.25, 0.25]
  activation: sigmoid
  output: 1
  ema_alpha: 1.0
  dedup_threshold: 0
trim: {end: 0.4}
export: {path: out/o.webm, audio: false}
"""


def test_a_custom_model_renders_with_the_preprocessing_its_yaml_declares(project, vbr, tmp_path):
    (tmp_path / "models").mkdir()
    channel_model(tmp_path / "models" / "matte.onnx", (48, 32), outputs=2, matte=1)
    path = project(CUSTOM)
    result = vbr("render", "--json", path)
    assert result.code == 0, result.err
    done = result.events[-1]
    assert done["inferred_frames"] == 10 and done["device"] == "cpu" and done["providers"] == ["CPUExecutionProvider"]
    assert done["manifest"]["model"]["name"] == "custom"
    video = read_video(tmp_path / "out" / "o.webm")
    alpha = video.frames[0][..., 3].astype(float)
    # The clip's subject is red (R=220), its background green (R=0): the declared numerics give
    # sigmoid((220/255 - 0.5)/0.25) and sigmoid((0 - 0.5)/0.25) as the two alphas.
    subject = 255 / (1 + np.exp(-((220 / 255 - 0.5) / 0.25)))
    background = 255 / (1 + np.exp(-((0 - 0.5) / 0.25)))
    assert abs(np.median(alpha[40:60, 50:70]) - subject) < 8  # inside the square
    assert abs(np.median(alpha[85:, :]) - background) < 8  # the bottom rows are background

    # The weights are keyed by content: a renamed file keeps its masks, changed numerics do not.
    (tmp_path / "models" / "matte.onnx").rename(tmp_path / "models" / "renamed.onnx")
    path.write_text(CUSTOM.replace("matte.onnx", "renamed.onnx").replace("o.webm", "p.webm"), encoding="utf-8")
    assert vbr("render", "--json", path).events[-1]["inferred_frames"] == 0
    path.write_text(CUSTOM.replace("matte.onnx", "renamed.onnx").replace("std: [0.25, 0.25, 0.25]", "std: [0.5, 0.5, 0.5]"), encoding="utf-8")
    assert vbr("render", "--json", path).events[-1]["inferred_frames"] == 10


def test_custom_model_errors(project, vbr, tmp_path):
    (tmp_path / "models").mkdir()
    channel_model(tmp_path / "models" / "matte.onnx", (64, 64))
    path = project(CUSTOM)
    result = vbr("render", path)
    assert result.code == 1
    assert result.err.strip() == "model 'custom': input_size is 48x32 but the model takes 64x64 (x tensor(float) [1, 3, 64, 64])"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    path.write_text(CUSTOM.replace("models/matte.onnx", "models/none.onnx"), encoding="utf-8")
    result = vbr("validate", path)
    assert result.code == 2 and result.err.strip() == f"{path}:4:9: model.path: no such file: {tmp_path / 'models' / 'none.onnx'}"
    path.write_text(CUSTOM.replace("  activation: sigmoid\n", "").replace("  path:", "  name: u2netp\n  path:"), encoding="utf-8")
    result = vbr("validate", path)
    assert result.code == 2 and result.err.splitlines() == [
        f"{path}:4:9: model: give name (a registry model) or path (your own ONNX file), not both",
        f"{path}:5:9: model.activation is required with model.path",
    ]
    path.write_text("version: 1\nsource: media/clip.mp4\nmodel: {name: u2netp, mean: [0, 0, 0]}\nexport: {path: o.webm}\n", encoding="utf-8")
    result = vbr("validate", path)
    assert result.err.strip() == f"{path}:3:29: model.mean applies only to a model given by path (registry models define their own)"


# --- vbr models: list, path, pull ----------------------------------------------------------------


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "models-dir"
    monkeypatch.setenv("VBR_MODELS_DIR", str(target))
    return target


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one file with HTTP range support, and records what it was asked for."""

    payload = b""
    requests: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        spec = self.headers.get("Range")
        type(self).requests.append(spec)
        start = int(spec.split("=")[1].rstrip("-")) if spec else 0
        body = self.payload[start:]
        self.send_response(206 if spec else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path):
    """A local HTTP server for one model file; yields (url, bytes, handler class)."""
    weights = channel_model(tmp_path / "served.onnx", (64, 64)).read_bytes()
    handler = type("Handler", (_RangeHandler,), {"payload": weights, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/m.onnx", weights, handler
    server.shutdown()


def register(monkeypatch: pytest.MonkeyPatch, name: str, url: str, weights: bytes, size=(64, 64)) -> ModelSpec:
    spec = ModelSpec(
        name=name, input_size=size, mean=IMAGENET_MEAN, std=IMAGENET_STD, output=0, activation="sigmoid",
        sha256=hashlib.sha256(weights).hexdigest(), license="MIT", origin="a test server",
        download=registry.Download(size=len(weights), url=url),
    )
    monkeypatch.setitem(registry.MODELS, name, spec)
    return spec


def test_models_list_and_path(vbr, models_dir):
    result = vbr("models", "list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == sorted(PRESETS)
    assert any(line.startswith("u2netp") and "embedded" in line and "4.6 MB" in line for line in lines)
    assert any(line.startswith("birefnet ") and "(972.7 MB)" in line and " no " in line and "MIT" in line for line in lines)
    assert lines[-1].startswith(f"model directory: {models_dir}")
    events = vbr("models", "list", "--json").events
    assert {e["name"]: e["installed"] for e in events}["u2netp"] is True
    assert vbr("models", "path", "birefnet").out.strip() == str(models_dir / "birefnet.onnx")
    assert vbr("models", "path", "u2netp").out.strip() == "embedded in the vbr package"
    unknown = vbr("models", "path", "nope")
    assert unknown.code == 2 and unknown.err.startswith("vbr models: unknown model 'nope' (available: birefnet,")
    assert vbr("models").code == 2


def test_pull_downloads_verifies_and_resumes(vbr, models_dir, served, monkeypatch):
    url, weights, handler = served
    register(monkeypatch, "served", url, weights)
    models_dir.mkdir()
    (models_dir / "served.onnx.part").write_bytes(weights[:100])  # an earlier, interrupted pull
    result = vbr("models", "pull", "served")
    assert result.code == 0, result.err
    assert handler.requests == ["bytes=100-"]
    assert (models_dir / "served.onnx").read_bytes() == weights and not (models_dir / "served.onnx.part").exists()
    assert result.out.startswith(f"pulled: served at {models_dir / 'served.onnx'}")
    again = vbr("models", "pull", "served")
    assert again.out.startswith("already installed") and handler.requests == ["bytes=100-"]
    listed = {e["name"]: e for e in vbr("models", "list", "--json").events}
    assert listed["served"]["installed"] and listed["served"]["bytes"] == len(weights)


def test_hub_models_are_pulled_through_huggingface_hub(vbr, models_dir, monkeypatch, tmp_path):
    """A local stand-in for the Hub ($HF_ENDPOINT), answering like it: HEAD with commit and ETag, then GET."""
    weights = channel_model(tmp_path / "hub.onnx", (64, 64)).read_bytes()
    digest = hashlib.sha256(weights).hexdigest()
    seen: list[str] = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def _headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(weights)))
            self.send_header("ETag", f'"{digest}"')
            self.send_header("X-Repo-Commit", "c" * 40)
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802
            seen.append(f"HEAD {self.path}")
            self._headers()

        def do_GET(self) -> None:  # noqa: N802
            seen.append(f"GET {self.path}")
            self._headers()
            self.wfile.write(weights)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        spec = ModelSpec(
            name="hub-model", input_size=(64, 64), mean=IMAGENET_MEAN, std=IMAGENET_STD, output=0, activation="none",
            sha256=digest, license="MIT", origin="test", download=registry.Download(size=None, repo_id="org/matte", filename="onnx/model.onnx"),
        )
        monkeypatch.setitem(registry.MODELS, "hub-model", spec)
        result = vbr("models", "pull", "hub-model")
    finally:
        server.shutdown()
    assert result.code == 0, result.err
    assert "GET /org/matte/resolve/main/onnx/model.onnx" in seen
    assert (models_dir / "hub-model.onnx").read_bytes() == weights
    assert sorted(p.name for p in models_dir.iterdir()) == ["hub-model.onnx"]  # no staging left behind


def test_a_download_with_the_wrong_sha256_is_not_installed(vbr, models_dir, served, monkeypatch):
    url, weights, _ = served
    spec = register(monkeypatch, "served", url, weights)
    monkeypatch.setitem(registry.MODELS, "served", dataclasses.replace(spec, sha256="0" * 64))
    result = vbr("models", "pull", "served")
    assert result.code == 1
    assert result.err.strip() == f"model 'served': downloaded file has sha256 {spec.sha256}, expected {'0' * 64}; deleted it"
    assert list(models_dir.iterdir()) == []


def test_offline_pull_fails_within_seconds_with_the_manual_route(vbr, models_dir, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    began = time.monotonic()
    result = vbr("models", "pull", "rmbg-1.4", "--accept-license")
    assert time.monotonic() - began < 10
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    target = models_dir / "rmbg-1.4.onnx"
    assert result.err.startswith("model 'rmbg-1.4': cannot reach 127.0.0.1 (")
    assert result.err.strip().endswith(
        f"to install it by hand, download https://huggingface.co/briaai/RMBG-1.4/resolve/main/onnx/model.onnx "
        f"and save it as {target} (sha256 {MODELS['rmbg-1.4'].sha256})"
    )
    register(monkeypatch, "elsewhere", "http://127.0.0.1:9/m.onnx", b"x")
    result = vbr("models", "pull", "elsewhere")
    assert result.code == 1 and "cannot reach 127.0.0.1" in result.err and not target.exists()


def test_a_licence_must_be_accepted_before_pulling(vbr, models_dir):
    result = vbr("models", "pull", "rmbg-1.4")
    assert result.code == 2
    assert "non-commercial" in result.err and "vbr models pull rmbg-1.4 --accept-license" in result.err
    assert not models_dir.exists()
    assert vbr("models", "pull", "u2netp").code == 2  # embedded: nothing to pull


def test_render_never_downloads_without_pull(project, vbr, models_dir, served, monkeypatch, tmp_path):
    url, weights, handler = served
    register(monkeypatch, "served", url, weights)
    path = project("version: 1\nsource: media/clip.mp4\nmodel: served\ntrim: {end: 0.2}\nexport: {path: out/o.webm}\n")
    result = vbr("render", path)
    assert result.code == 1
    assert result.err.strip() == "model 'served' is not installed: run `vbr models pull served`, or render with --pull"
    assert handler.requests == [] and not (tmp_path / "out").exists()
    result = vbr("render", "--pull", "--json", path)
    assert result.code == 0, result.err
    assert handler.requests == [None] and (models_dir / "served.onnx").is_file()
    assert result.events[-1]["inferred_frames"] == 5


# --- devices --------------------------------------------------------------------------------------


def test_device_selection_falls_back_to_the_cpu():
    cpu_only = ["CPUExecutionProvider"]
    assert resolve_device("auto", cpu_only) == "cpu"
    assert resolve_device("auto", ["CoreMLExecutionProvider", "CPUExecutionProvider"]) == "coreml"
    assert resolve_device("auto", ["DmlExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]) == "cuda"
    assert resolve_device("cpu", cpu_only) == "cpu"
    with pytest.raises(UsageError, match=r"--device cuda: this onnxruntime has no CUDAExecutionProvider .*pip install onnxruntime-gpu"):
        resolve_device("cuda", cpu_only)
    assert provider_options("cuda") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert provider_options("cpu") == ["CPUExecutionProvider"]


def test_device_and_threads_on_the_command_line(project, vbr, redness_model, tmp_path):
    path = project(f"version: 1\nsource: media/clip.mp4\nmodel: {redness_model}\ntrim: {{end: 0.2}}\nexport: {{path: out/o.webm}}\n")
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        missing = vbr("render", "--device", "cuda", path)
        assert missing.code == 2 and "--device cuda: this onnxruntime has no CUDAExecutionProvider" in missing.err
    done = vbr("render", "--json", "--device", "cpu", "--threads", "1", path).events[-1]
    assert done["device"] == "cpu" and done["providers"] == ["CPUExecutionProvider"] and done["inferred_frames"] == 5
    assert vbr("render", "--threads", "0", path).code == 2
    assert vbr("plan", "--json", "--device", "cpu", path).code == 0
    shown = vbr("preview", "--device", "cpu", "--threads", "1", "--at", "0.1", "-o", tmp_path / "p.png", path)
    assert shown.code == 0, shown.err


def test_every_model_has_a_size_and_the_readme_table_agrees(vbr, models_dir):
    """`vbr models list` shows no '-' size, and README's Models table gives the same sizes (MB, rounded)."""
    import json
    import re

    listed = [line for line in vbr("models", "list").out.splitlines()[1:-1]]
    assert len(listed) == len(MODELS) and not any(" - " in line for line in listed)
    sizes = {}
    for line in vbr("models", "list", "--json").out.splitlines():
        row = json.loads(line)
        sizes[row["name"]] = row["download_bytes"] if row["download_bytes"] is not None else row["bytes"]
    assert all(isinstance(size, int) and size > 0 for size in sizes.values()), sizes
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([\w.-]+)` \| \d+×\d+ \| ([\d.]+) MB", readme, re.MULTILINE))
    assert set(table) == set(MODELS)
    for name, shown in table.items():
        digits = len(shown.partition(".")[2])
        assert f"{sizes[name] / 1e6:.{digits}f}" == shown, name
