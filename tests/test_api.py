"""The public Python API (`import renderer`): the README's example, cancelling, and that the CLI says the same."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import renderer
from helpers import read_png, read_video

ROOT = Path(__file__).resolve().parent.parent

PROJECT = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color, color: "#000000"}}
export: {{path: out/o.{ext}}}
"""


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(tmp_path: Path, isolated_cache: Path):
    """As written, from a checkout's root: a preview PNG, a rendered MP4, and the located errors of a template."""
    projects = tmp_path / "projects"
    projects.mkdir()
    (projects / "nameplate.yaml").write_bytes((ROOT / "projects" / "nameplate.yaml").read_bytes())
    (projects / "media").symlink_to(ROOT / "projects" / "media")
    (tmp_path / "example.py").write_text(readme_example(), encoding="utf-8")
    run = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "50 frames at 25 fps; 50 to infer"
    output = projects / "out" / "nameplates" / "ada.mp4"
    assert f"{output} 50 frames," in run.stdout
    video = read_video(output)
    assert len(video.frames) == 50
    with open(projects / "out" / "ada-1s.png", "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert lines[-2:] == [
        "projects/nameplate.yaml:9:3: variable 'name' has no value: give it with --set name=... or a rows column",
        "projects/nameplate.yaml:13:3: variable 'file' has no value: give it with --set file=... or a rows column",
    ]


def test_preview_is_what_the_cli_writes(project, vbr, redness_model, tmp_path: Path):
    path = project(PROJECT.format(model=redness_model, ext="webm").replace('{type: color, color: "#000000"}', "{type: transparent}"))
    compiled = renderer.compile(path)
    image = renderer.preview_image(compiled, at="0.48")
    assert image.shape == (96, 160, 4) and image.dtype == np.uint8
    assert vbr("preview", path, "--at", "0.48", "-o", tmp_path / "still.png").code == 0
    assert np.array_equal(read_png(tmp_path / "still.png"), image)
    assert renderer.frame_index(compiled, 0.48) == 12
    with pytest.raises(renderer.VbrError) as outside:
        renderer.frame_index(compiled, 5)
    assert outside.value.exit_code == 2 and "outside the render (0 to" in str(outside.value)


def test_a_cancelled_render_writes_nothing(project, redness_model, tmp_path: Path):
    path = project(PROJECT.format(model=redness_model, ext="mp4"))
    compiled = renderer.compile(path)
    cancel = threading.Event()
    seen: list[renderer.Event] = []

    def on_event(event: renderer.Event) -> None:
        seen.append(event)
        if isinstance(event, renderer.Progress) and event.frames_done >= 5:
            cancel.set()

    with pytest.raises(renderer.Cancelled):
        renderer.render(compiled, on_event=on_event, cancel=cancel)
    assert any(isinstance(e, renderer.Progress) for e in seen) and not any(isinstance(e, renderer.Done) for e in seen)
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())  # no export, no manifest, no partial file
    done = renderer.render(compiled)  # the same project renders whole afterwards
    assert done.frames == 25 and len(read_video(Path(done.output)).frames) == 25
    assert sorted(p.name for p in out.iterdir()) == ["o.mp4", "o.mp4.manifest.json"]


def test_bad_input_raises_located_errors(project, redness_model):
    path = project(PROJECT.format(model=redness_model, ext="mp4").replace('"#000000"', '"#12"'))
    with pytest.raises(renderer.VbrError) as bad:
        renderer.compile(path)
    assert bad.value.exit_code == 2
    (line,) = bad.value.lines()
    assert line.startswith(f"{path}:4:") and "color" in line


def test_plan_counts_what_a_render_would_infer(project, redness_model):
    compiled = renderer.compile(project(PROJECT.format(model=redness_model, ext="mp4")))
    before = renderer.plan(compiled)
    assert (before.frames, before.to_infer) == (25, 25)
    renderer.render(compiled)
    assert renderer.plan(compiled).to_infer == 0
