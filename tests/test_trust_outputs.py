"""No command writes over what it reads or what another command wrote (issue 11, items 1 and 2).

Each refusal is exit 2 with one line, and the file it protects keeps its bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import make_clip, make_font, make_image

GREY = (90, 90, 90)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if "vbr-partial" in p.name)


def decode(path: Path) -> tuple[str, np.ndarray]:
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
        return codec, next(container.decode(video=0)).to_ndarray(format="rgba")


@pytest.fixture
def full(tmp_path: Path, redness_model_file: Path) -> Path:
    """A project reading every kind of input: its own source, an image, a font, a custom model."""
    make_clip(tmp_path / "clip.mp4", seconds=0.2, audio=False)
    make_image(tmp_path / "bg.png", np.full((24, 32, 3), GREY, dtype=np.uint8))
    make_font(tmp_path / "font.ttf", {"A": (100, 0, 900, 800)})
    shutil.copy(redness_model_file, tmp_path / "model.onnx")
    path = tmp_path / "project.yaml"
    path.write_text(
        "version: 1\nsource: clip.mp4\nmodel: {path: model.onnx, input_size: 64, activation: sigmoid}\n"
        "background: {type: image, image: bg.png}\ntext: [{text: A, font: font.ttf}]\nexport: {path: out/o.mp4}\n",
        encoding="utf-8",
    )
    return path


# --- item 1: vbr preview -o ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "what"),
    [
        ("project.yaml", "the project file"),
        ("clip.mp4", "the source file"),
        ("bg.png", "the background image"),
        ("font.ttf", "the font of text[0]"),
        ("model.onnx", "the model file (model.path)"),
        ("out/o.mp4", "the export file (export.path)"),
        ("out/o.mp4.manifest.json", "the export's manifest"),
        ("source-link.png", "the source file"),  # a symlink to the source
        ("bg-hardlink.png", "the background image"),  # a hard link to the image
    ],
)
def test_preview_never_writes_over_an_input_or_the_export(vbr, full, tmp_path, target, what):
    assert vbr("render", "-q", full).code == 0
    (tmp_path / "source-link.png").symlink_to(tmp_path / "clip.mp4")
    os.link(tmp_path / "bg.png", tmp_path / "bg-hardlink.png")
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    before = {p: sha(p) for p in files}
    modes = {p: p.stat().st_mode for p in files}
    for how in (["--at", "0"], ["--sheet", "2"]):
        result = vbr("preview", full, *how, "-o", tmp_path / target)
        assert result.code == 2, result.err
        assert result.err == f"vbr preview: -o {tmp_path / target} is {what}: it would be overwritten\n"
    assert {p: sha(p) for p in files} == before and {p: p.stat().st_mode for p in files} == modes
    assert leftovers(tmp_path) == []


def test_preview_onto_a_directory_or_an_unknown_extension_is_a_usage_error(vbr, full, tmp_path):
    (tmp_path / "stills").mkdir()
    result = vbr("preview", full, "--at", "0", "-o", tmp_path / "stills")
    assert (result.code, result.err) == (2, f"vbr preview: -o {tmp_path / 'stills'} is a directory: {tmp_path / 'stills'}\n")
    result = vbr("preview", full, "--at", "0", "-o", tmp_path / "still.gif")
    assert result.code == 2
    assert result.err == f"vbr preview: -o {tmp_path / 'still.gif'} is not a .png, .jpg or .jpeg file: a preview is written as one of those\n"
    assert not (tmp_path / "still.gif").exists() and list((tmp_path / "stills").iterdir()) == []


def test_preview_jpeg_is_a_jpeg_with_the_png_pixels(vbr, full, tmp_path):
    assert vbr("preview", full, "--at", "0.1", "-o", tmp_path / "still.png").code == 0
    for name in ("still.jpg", "still.JPEG"):
        assert vbr("preview", full, "--at", "0.1", "-o", tmp_path / name).code == 0
        assert (tmp_path / name).read_bytes()[:3] == b"\xff\xd8\xff"
        codec, jpeg = decode(tmp_path / name)
        assert codec == "mjpeg"
        _, png = decode(tmp_path / "still.png")
        assert np.abs(jpeg[..., :3].astype(int) - png[..., :3]).mean() < 2  # the same picture, lossy


def test_preview_jpeg_of_a_transparent_still_shows_a_checkerboard(vbr, project, redness_model, tmp_path):
    path = project(f"version: 1\nsource: media/clip.mp4\nmodel: {redness_model}\nexport: {{path: out/o.webm}}\n")
    assert vbr("preview", path, "--at", "0", "-o", tmp_path / "still.jpg").code == 0
    _, image = decode(tmp_path / "still.jpg")
    corner = image[90:96, 150:160, :3].astype(int)  # the green background, cut out by the matte
    light, dark = corner[0:2, 0:2].mean(), corner[0:2, 8:10].mean()  # the board's 8-pixel cells at x=144.. and x=152..
    assert abs(light - 204) < 6 and abs(dark - 153) < 6 or abs(light - 153) < 6 and abs(dark - 204) < 6


def test_preview_files_get_the_usual_mode(vbr, full, tmp_path):
    previous = os.umask(0o022)
    try:
        for name, how in (("still.png", ["--at", "0"]), ("sheet.jpg", ["--sheet", "2"])):
            assert vbr("preview", full, *how, "-o", tmp_path / name).code == 0
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)
    assert leftovers(tmp_path) == []


# --- item 2: the export path is an input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("export", "message"),
    [
        ("{path: font.ttf, format: mp4}", "export.path is the font of text[0]: it would be overwritten"),
        ("{path: model.onnx, format: mp4}", "export.path is the model file (model.path): it would be overwritten"),
        ("{path: bg-link.mp4}", "export.path is the background image: it would be overwritten"),
        ("{path: out/o.mp4.manifest.json, format: mp4}", "export.path is named like a vbr manifest (o.mp4.manifest.json): that name is kept for manifests"),
    ],
)
def test_export_onto_an_input_is_a_located_error(vbr, full, tmp_path, export, message):
    (tmp_path / "bg-link.mp4").symlink_to(tmp_path / "bg.png")
    full.write_text(full.read_text(encoding="utf-8").replace("export: {path: out/o.mp4}", f"export: {export}"), encoding="utf-8")
    before = {p: sha(p) for p in tmp_path.rglob("*") if p.is_file()}
    for command in ("validate", "render"):
        result = vbr(command, full)
        assert (result.code, result.err) == (2, f"{full}:6:16: {message}\n"), command
    assert {p: sha(p) for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "out").exists()


# --- item 2's family in vbr batch ------------------------------------------------------------------

TEMPLATE = """version: 1
vars: {{src: {{type: path}}, file: {{type: string}}}}
source: "${{src}}"
model: {model}
trim: {{end: 0.2}}
background: {{type: color}}
export: {{path: "${{file}}", format: mp4}}
"""


def test_batch_never_writes_over_its_rows_file_or_another_rows_input(vbr, redness_model, tmp_path):
    make_clip(tmp_path / "a.mp4", seconds=0.2, audio=False)
    make_clip(tmp_path / "b.mp4", seconds=0.2, audio=False, moving=False)
    (tmp_path / "t.yaml").write_text(TEMPLATE.format(model=redness_model), encoding="utf-8")
    rows = tmp_path / "rows.csv"
    # line 2 writes the rows file; line 3 writes line 4's source; line 4 is fine.
    rows.write_text("src,file\na.mp4,rows.csv\na.mp4,b.mp4\nb.mp4,c.mp4\n", encoding="utf-8")
    before = {p: sha(p) for p in (rows, tmp_path / "a.mp4", tmp_path / "b.mp4")}
    result = vbr("batch", "-q", tmp_path / "t.yaml", rows)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{rows}:2: export.path is the rows file: it would be overwritten [{tmp_path / 't.yaml'}:7:16]",
        f"{rows}:3: output {tmp_path / 'b.mp4'} would overwrite the source file of line 4",
    ]
    assert {p: sha(p) for p in before} == before
    assert (tmp_path / "c.mp4").is_file()


def test_batch_manifest_never_lands_on_the_rows_file(vbr, redness_model, tmp_path):
    make_clip(tmp_path / "a.mp4", seconds=0.2, audio=False)
    (tmp_path / "t.yaml").write_text(TEMPLATE.format(model=redness_model), encoding="utf-8")
    rows = tmp_path / "batch-manifest.json"
    rows.write_text('[{"src": "a.mp4", "file": "o.mp4"}]\n', encoding="utf-8")
    before = sha(rows)
    result = vbr("batch", "-q", tmp_path / "t.yaml", rows)
    assert (result.code, result.err) == (2, f"vbr batch: the batch manifest {rows} is the rows file: it would be overwritten\n")
    assert sha(rows) == before and not (tmp_path / "o.mp4").exists()
