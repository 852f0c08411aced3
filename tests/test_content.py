"""export.content: composite, matte (the alpha as grey) and foreground (the estimated fill)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer import api
from renderer.errors import ProjectError
from renderer.graph.execute import evaluate, open_cache
from renderer.graph.nodes import Fade
from renderer.graph.stages import RunContext


def body(model: str, export: str, extra: str = "") -> str:
    return f"version: 1\nsource: media/clip.mp4\nmodel: {model}\nexport: {{{export}}}\n{extra}"


def frames_of(made: api.Project, cache_root: Path) -> list[np.ndarray]:
    ctx = RunContext(cache=open_cache(cache_root, lambda event: None))
    try:
        return [frame.image for frame in evaluate(made.graph.frames, ctx)]
    finally:
        ctx.pipeline.stop()


def test_a_matte_is_the_transparent_composite_s_alpha_as_grey(project, redness_model, isolated_cache: Path):
    cut_out = frames_of(api.compile(project(body(redness_model, "path: out/a.webm"), name="a.yaml")), isolated_cache)
    matte = frames_of(api.compile(project(body(redness_model, "path: out/m.mp4, content: matte"), name="m.yaml")), isolated_cache)
    assert len(matte) == len(cut_out) == 25
    for grey, rgba in zip(matte, cut_out):
        assert grey.ndim == 2 and grey.dtype == np.uint8
        assert np.array_equal(grey, rgba[..., 3])
    assert matte[0].max() == 255 and matte[0].min() == 0  # the red square, the green field


def test_a_foreground_is_the_estimated_fill_black_where_there_is_no_subject(project, redness_model, isolated_cache: Path):
    estimated = body(redness_model, "path: out/a.webm", "matte: {foreground: estimate}\n")
    cut_out = frames_of(api.compile(project(estimated, name="a.yaml")), isolated_cache)
    fill = frames_of(api.compile(project(body(redness_model, "path: out/f.mp4, content: foreground"), name="f.yaml")), isolated_cache)
    for rgb, rgba in zip(fill, cut_out):
        assert rgb.shape == rgba.shape[:2] + (3,)
        seen = rgba[..., 3] > 0
        assert np.array_equal(rgb[seen], rgba[..., :3][seen])  # the transparent export's estimated colours
        assert not rgb[~seen].any()


def test_a_graded_fill_is_graded_and_a_fill_is_not_faded_but_its_audio_is(project, redness_model, isolated_cache: Path):
    plain = api.compile(project(body(redness_model, "path: out/f.mp4, content: foreground"), name="f.yaml"))
    graded = api.compile(project(body(redness_model, "path: out/g.mp4, content: foreground", "grade: {brightness: -0.5}\nfade: {in: 0.5}\n"), name="g.yaml"))
    assert not graded.graph.has(Fade) and graded.graph.audio is not None and graded.graph.audio.fade is not None
    a, b = frames_of(plain, isolated_cache)[0], frames_of(graded, isolated_cache)[0]
    subject = a[..., 0] > 150
    assert subject.any() and np.all(b[subject][:, 0] < a[subject][:, 0])  # darker: graded, and frame 0 not black


def test_a_matte_fades_to_black(project, redness_model, isolated_cache: Path):
    made = api.compile(project(body(redness_model, "path: out/m.mp4, content: matte", "fade: {in: 0.4}\n")))
    first, later = frames_of(made, isolated_cache)[0], frames_of(made, isolated_cache)[20]
    assert first.max() == 0 and later.max() == 255


def test_an_mp4_matte_or_fill_needs_no_alpha(project, redness_model):
    for content in ("matte", "foreground"):
        made = api.compile(project(body(redness_model, f"path: out/{content}.mp4, content: {content}"), name=f"{content}.yaml"))
        assert made.graph.alpha is False


@pytest.mark.parametrize(
    "content, extra, key, line",
    [
        ("matte", "background: {type: color}\n", "background", 5),
        ("matte", "grade: {brightness: 0.2}\n", "grade", 5),
        ("matte", "text: [{text: Hi}]\n", "text", 5),
        ("matte", "matte: {foreground: estimate}\n", "matte.foreground", 5),
        ("foreground", "background: {type: blur}\n", "background", 5),
        ("foreground", "text: [{text: Hi}]\n", "text", 5),
    ],
)
def test_settings_a_content_has_no_use_for_are_located_errors(project, redness_model, content, extra, key, line):
    with pytest.raises(ProjectError) as bad:
        api.compile(project(body(redness_model, f"path: out/x.mp4, content: {content}", extra)))
    (message,) = bad.value.lines()
    assert f"project.yaml:{line}:" in message
    assert f"{key} has no effect with export.content: {content}" in message


def test_the_plan_names_the_content(project, redness_model):
    made = api.compile(project(body(redness_model, "path: out/m.mp4, content: matte")))
    details = {node.stage: node.detail for node in api.plan(made).nodes}
    assert details["composite"] == "matte"


@pytest.mark.parametrize(
    "export",
    ["path: out/m.mp4, content: matte", "path: out/f.webm, content: foreground", "path: out/v.mp4, aspect: '9:16'"],
)
def test_re_renders_are_byte_identical(project, redness_model, tmp_path: Path, export: str):
    made = api.compile(project(body(redness_model, export, "background: {type: color}\n" if "aspect" in export else "")))
    first = Path(api.render(made).output).read_bytes()
    again = api.render(made, force=True)
    assert not again.skipped and Path(again.output).read_bytes() == first


def test_the_manifest_says_what_kind_of_output_it_is(project, redness_model):
    import json

    done = api.render(api.compile(project(body(redness_model, "path: out/m.mp4, content: matte, aspect: '1:1', reframe: center"))))
    manifest = json.loads(Path(done.output + ".manifest.json").read_text())
    assert manifest["export"] == {
        "format": "mp4", "content": "matte", "alpha": False, "quality": "standard",
        "background": {"type": "transparent"},
        "reframe": {"mode": "center", "picture": [160, 96], "axis": "x"},
    }
    assert (manifest["width"], manifest["height"]) == (96, 96)
