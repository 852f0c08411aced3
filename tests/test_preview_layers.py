"""api.preview(layers=True), api.masks_to_infer, api.rows / api.load_row: what the studio is built on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import GREEN, RED, frame_index
from renderer import api
from renderer.errors import RowError

BODY = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {background}
export: {{path: out/o.webm}}
{extra}"""


def compiled(project, model: str, background: str = "{type: color, color: '#0000ff'}", extra: str = "") -> api.Project:
    return api.compile(project(BODY.format(model=model, background=background, extra=extra)))


def test_layers_are_the_source_frame_and_the_matte_the_still_was_made_of(project, redness_model):
    made = compiled(project, redness_model)
    plain = api.preview(made, frames=[12]).frames[0]
    still = api.preview(made, frames=[12], layers=True).frames[0]
    assert plain.source is None and plain.matte is None  # only when asked
    assert np.array_equal(still.image, plain.image)  # taking the layers changes nothing
    assert still.source.shape == (96, 160, 3) and still.matte.shape == (96, 160)
    assert still.source.dtype == still.matte.dtype == np.uint8
    assert frame_index(still.source) == 12  # the source frame shown at 0.48 s, not a neighbour
    red = (still.source[..., 0] > 150) & (still.source[..., 1] < 90)
    assert np.median(still.matte[red]) > 240 and np.median(still.matte[~red & (np.arange(96) > 20)[:, None]]) < 15
    assert np.abs(still.source[60:, :8].astype(int) - GREEN).max() < 12
    # The finished frame is the source over blue through that very matte.
    a = still.matte[..., None].astype(np.uint16)
    expected = (still.source.astype(np.uint16) * a + np.array([0, 0, 255], np.uint16) * (255 - a) + 127) // 255
    assert np.abs(still.image.astype(int) - expected).max() <= 1


def test_layers_of_a_transparent_export_match_its_alpha(project, redness_model):
    still = api.preview(compiled(project, redness_model, "{type: transparent}"), frames=[3], layers=True).frames[0]
    assert still.image.shape[2] == 4
    assert np.array_equal(still.image[..., 3], still.matte)
    assert np.abs(still.source[40:50, 60:70].astype(int) - RED).max() < 12


def test_layers_for_several_frames(project, redness_model):
    made = compiled(project, redness_model)
    stills = api.preview(made, frames=[0, 7, 24], layers=True).frames
    assert [frame_index(s.source) for s in stills] == [0, 7, 24]


def test_masks_to_infer_counts_what_a_still_needs_and_drops_to_zero_once_cached(project, redness_model):
    made = compiled(project, redness_model)
    before = api.masks_to_infer(made, frames=[20])
    assert 0 < before <= 21
    shown = api.preview(made, frames=[20])
    assert shown.counts.inferred == before
    assert api.masks_to_infer(made, frames=[20]) == 0
    assert api.masks_to_infer(made, at=0.8) == 0  # frame 20 again, by time
    with pytest.raises(api.VbrError):
        api.masks_to_infer(made, frames=[])


TEMPLATE = """version: 1
vars:
  name: {{type: string}}
  color: {{type: color, default: "#0000ff"}}
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color, color: "${{color}}"}}
export: {{path: "out/${{name}}.webm"}}
"""


def test_rows_and_load_row_read_a_rows_file_as_vbr_batch_does(project, redness_model, tmp_path: Path):
    template = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,color\nada,#ff0000\nbad,red\n\nzed,\n", encoding="utf-8")
    found = api.rows(template, rows)
    assert [(r.line, r.values) for r in found] == [(2, {"name": "ada", "color": "#ff0000"}), (3, {"name": "bad", "color": "red"}), (5, {"name": "zed"})]
    loaded = api.load_row(template, rows, 2)
    assert loaded.export == (tmp_path / "out" / "ada.webm").resolve()
    assert loaded.project.background.color == "#ff0000"
    with pytest.raises(RowError) as bad:
        api.load_row(template, rows, 3)
    assert bad.value.lines() == [f"{rows}:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red' [{template}:4:3]"]
    assert bad.value.exit_code == 2
    with pytest.raises(RowError) as missing:
        api.load_row(template, rows, 4)
    assert missing.value.lines() == [f"{rows}:4: no row starts on this line"]


def test_a_still_late_in_the_clip_is_the_full_run_frame_for_frame(project, redness_model, isolated_cache):
    """Earlier frames stop at the matte (only the filter needs them): the still must not change for it.

    30 fps from a 25 fps source (some frames held twice), a text overlay and fades
    that depend on the frame number: each still equals that frame of one full run.
    """
    from renderer.graph.execute import evaluate, open_cache
    from renderer.graph.stages import RunContext

    body = BODY.format(model=redness_model, background="{type: color, color: '#0000ff'}", extra="")
    body = body.replace("export: {path: out/o.webm}", "export: {path: out/o.webm, fps: 30}")
    made = api.compile(project(body + "text: [{text: Hi, start: 0.5, end: 0.9, size: 40}]\nfade: {in: 0.4, out: 0.3}\n"))
    assert made.frames == 30
    ctx = RunContext(cache=open_cache(isolated_cache, lambda event: None))
    try:
        full = [frame.image for frame in evaluate(made.graph.frames, ctx)]
    finally:
        ctx.pipeline.stop()
    assert full[0].max() == 0 and full[29].max() == 0  # faded from and to black
    stills = api.preview(made, frames=[0, 1, 13, 14, 15, 20, 29]).frames
    assert all(still.exact for still in stills)  # the full run cached every mask
    for still in stills:
        assert np.array_equal(still.image, full[still.index]), f"frame {still.index}"
    plain = api.compile(project(body, name="plain.yaml"))
    assert not np.array_equal(api.preview(plain, frames=[20]).frames[0].image, full[20])  # the text shows there
