"""Odd values in a project, --set or a rows file: each a located, plain error, or a time that means what it says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import frame_index, read_video

BASE = """version: 1
source: media/clip.mp4
model: {{name: {model}, ema_alpha: 1.0, dedup_threshold: 0}}
background: {{type: color, color: '#0000ff'}}
export: {{path: out/o.mp4}}
"""


def lines(result) -> list[str]:
    return result.err.splitlines()


def at(text: str, needle: str, after: str = "") -> str:
    """LINE:COL of `needle` (the first one after `after`) in the file's text: where a value is written."""
    offset = text.index(needle, text.index(after) + len(after) if after else 0)
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


# --- numbers that are not numbers ----------------------------------------------------------------


def test_infinite_times_are_located_errors_not_internal_errors(project, vbr, redness_model):
    """`trim.end: .inf` and `text[].end: .inf` reached Fraction('inf') and ended in an internal error."""
    text = BASE.format(model=redness_model) + "trim: {end: .inf}\ntext: [{text: hi, end: .inf}]\n"
    path = project(text)
    result = vbr("validate", path)
    assert result.code == 2
    assert lines(result) == [
        f"{path}:{at(text, '.inf')}: trim.end: .inf is not a finite number",
        f"{path}:{at(text, '.inf', 'hi')}: text[0].end: .inf is not a finite number",
    ]
    assert vbr("render", path).code == 2


def test_every_numeric_field_refuses_inf_and_nan_at_its_position(project, vbr, redness_model):
    text = """version: 1
vars: {n: {type: number, default: .nan}}
source: media/clip.mp4
model: {name: u2netp, ema_alpha: .nan, dedup_threshold: -.inf}
trim: {start: .nan, end: .inf}
background: {type: blur, radius: .nan}
grade: {brightness: .nan, contrast: .inf, saturation: -.inf, temperature: .nan, tint: .inf}
text:
  - text: hi
    size: .inf
    margin: .nan
    position: {x: .nan, y: -.inf}
    line_spacing: .nan
    start: -.inf
    end: .nan
    box: {padding: .inf}
    outline: {width: .nan}
    shadow: {offset: -.inf, blur: .nan}
fade: {in: .nan, out: .inf}
export: {path: out/o.mp4, fps: .nan}
"""
    path = project(text)
    result = vbr("validate", path)
    assert result.code == 2
    expected = [  # (key as written before its value, dotted name, value)
        ("default: ", "vars.n.default", ".nan"), ("ema_alpha: ", "model.ema_alpha", ".nan"),
        ("dedup_threshold: ", "model.dedup_threshold", "-.inf"), ("start: ", "trim.start", ".nan"),
        ("end: ", "trim.end", ".inf"), ("radius: ", "background.radius", ".nan"),
        ("brightness: ", "grade.brightness", ".nan"), ("contrast: ", "grade.contrast", ".inf"),
        ("saturation: ", "grade.saturation", "-.inf"), ("temperature: ", "grade.temperature", ".nan"),
        ("tint: ", "grade.tint", ".inf"), ("size: ", "text[0].size", ".inf"), ("margin: ", "text[0].margin", ".nan"),
        ("x: ", "text[0].position.x", ".nan"), ("y: ", "text[0].position.y", "-.inf"),
        ("line_spacing: ", "text[0].line_spacing", ".nan"), ("    start: ", "text[0].start", "-.inf"),
        ("    end: ", "text[0].end", ".nan"), ("padding: ", "text[0].box.padding", ".inf"),
        ("width: ", "text[0].outline.width", ".nan"), ("offset: ", "text[0].shadow.offset", "-.inf"),
        ("blur: ", "text[0].shadow.blur", ".nan"), ("{in: ", "fade.in", ".nan"), ("out: ", "fade.out", ".inf"),
        ("fps: ", "export.fps", ".nan"),
    ]
    assert lines(result) == [f"{path}:{at(text, value, key)}: {name}: {value} is not a finite number" for key, name, value in expected]


def test_nan_and_wrong_kinds_of_number_never_show_pydantic_internals(project, vbr):
    path = project("source: media/clip.mp4\nmodel: .nan\nexport: {path: o.webm}\n")
    assert lines(vbr("validate", path)) == [f"{path}:2:8: model: .nan is not a finite number"]
    text = "source: media/clip.mp4\nmodel: {path: m.onnx, input_size: 64.0, activation: none, output: 1.0, mean: [1.0e+400, 0, 0]}\nexport: {path: o.webm}\n"
    path = project(text)
    assert lines(vbr("validate", path)) == [f"{path}:{at(text, '1.0e+400')}: model.mean[0]: .inf is not a finite number"]
    path.write_text(text.replace("1.0e+400", str(10**400)))
    assert lines(vbr("validate", path)) == [f"{path}:{at(text, '1.0e+400')}: model.mean[0]: a 401-digit number is too large"]
    path.write_text(text.replace("1.0e+400", "1"))
    assert lines(vbr("validate", path)) == [  # strict integers, as pydantic reads them, said as the schema says it
        f"{path}:{at(text, '64.0')}: model.input_size: expected an integer, got a number 64.0",
        f"{path}:{at(text, '1.0,')}: model.output: expected an integer, got a number 1.0",
    ]


def test_scalars_python_cannot_make_are_located_errors(project, vbr):
    """A 5000-digit integer (past Python's conversion limit) or an impossible date ended in an internal error."""
    text = "source: media/clip.mp4\nexport: {path: o.webm}\ntrim: {start: " + "1" * 5000 + "}\n"
    path = project(text)
    result = vbr("validate", path)
    assert (result.code, lines(result)) == (2, [f"{path}:3:15: a 5000-digit number is too large"])
    path = project("source: media/clip.mp4\nexport: {path: o.webm}\ntext: [{text: 2001-02-30}]\n")
    result = vbr("validate", path)
    assert (result.code, lines(result)) == (2, [
        f"{path}:3:15: '2001-02-30' reads as a date, and is not one (day is out of range for month); quote it to mean the text"
    ])


# --- nulls and empty paths -----------------------------------------------------------------------


def test_null_where_a_value_must_go_says_so_without_a_stray_none(project, vbr):
    text = """version: null
source: media/clip.mp4
trim: {start: ~}
background: {type: null}
text: [{text: hi, size: null, position: {x: 0.5, y: }}]
model: {name: u2netp, mean: [null, 1, 2]}
export: {path: out/o.mp4, fps: null, resolution: null}
"""
    path = project(text)
    result = vbr("validate", path)
    assert result.code == 2 and "None" not in result.err
    required = "a value is required here, not null"
    assert lines(result) == [
        f"{path}:{at(text, 'null')}: version: {required} (expected 1)",
        f"{path}:{at(text, '~')}: trim.start: {required} (expected a number or a string)",
        f"{path}:{at(text, 'null', 'type: ')}: background.type: {required} (expected one of: transparent, color, blur, image, video)",
        f"{path}:{at(text, 'null', 'size: ')}: text[0].size: {required} (expected a number)",
        f"{path}:{at(text, ' }', 'y:')}: text[0].position.y: {required} (expected a number)",  # `y:` with nothing after it
        f"{path}:{at(text, 'null', 'mean: [')}: model.mean[0]: {required} (expected a number)",
        f"{path}:{at(text, 'null', 'fps: ')}: export.fps: {required} (expected one of: original, 30, 24, 15)",
        f"{path}:{at(text, 'null', 'resolution: ')}: export.resolution: {required} (expected one of: original, 1080p, 720p, 480p)",
    ]


def test_null_where_none_is_the_default_means_left_out(project, vbr, redness_model_file):
    path = project(BASE.format(model="u2netp") + "trim: {end: null}\ntext: [{text: hi, end: ~, box: null}]\nfade: null\n")
    assert vbr("validate", path).code == 0
    # A custom model's required settings written as null are missing, not an internal error at render time.
    text = f"source: media/clip.mp4\nmodel: {{path: {redness_model_file}, input_size: null, activation: ~}}\nexport: {{path: out/o.webm}}\n"
    path = project(text)
    result = vbr("render", path)
    assert (result.code, lines(result)) == (2, [
        f"{path}:{at(text, 'null')}: model.input_size is required with model.path",
        f"{path}:{at(text, '~')}: model.activation is required with model.path",
    ])


def test_an_empty_path_is_said_to_be_empty(project, vbr):
    text = 'source: ""\nbackground: {type: image, image: ""}\ntext: [{text: a, font: ""}]\nmodel: {path: ""}\nexport: {path: "", format: mp4}\n'
    path = project(text)
    result = vbr("validate", path)
    assert result.code == 2
    assert lines(result) == [
        f"{path}:1:9: source: the path is empty",
        f"{path}:2:34: background.image: the path is empty",
        f"{path}:3:24: text[0].font: the path is empty",
        f"{path}:4:15: model.path: the path is empty",
        f"{path}:5:16: export.path: the path is empty",
    ]


# --- times ---------------------------------------------------------------------------------------


def test_fades_over_a_tiny_trim_are_compared_exactly_and_shown_apart(project, vbr, redness_model):
    exact = BASE.format(model=redness_model) + "trim: {start: 0.2, end: 0.21}\nfade: {in: 0.007, out: 0.003}\n"
    path = project(exact)
    assert vbr("validate", path).code == 0  # 0.007 + 0.003 is 0.01, not the float a hair above it
    path = project(exact.replace("out: 0.003", "out: 0.0031"))
    result = vbr("validate", path)
    assert (result.code, lines(result)) == (2, [f"{path}:7:7: fade in + out (0.0101 s) is longer than the render (0.01 s)"])


def test_seconds_with_any_decimals_or_an_exponent_are_times(project, vbr, redness_model, tmp_path):
    """Four decimals and exponent forms were refused as 'not a timecode'; each lands on the frame the README says."""
    path = project(BASE.format(model=redness_model) + 'trim: {start: "0.0400", end: "1.6e-1"}\n')
    result = vbr("render", "-q", path)
    assert result.code == 0, result.err
    video = read_video(tmp_path / "out" / "o.mp4")
    assert [frame_index(f) for f in video.frames] == [1, 2, 3]  # 0.04 .. 0.16 s at 25 fps: 3 frames
    # trim.end rounds to the nearest frame count, halves up: 0.04 + 1.5 frames is 2 frames, + 1.25 is 1.
    for end, frames in (("0.1", 2), ('"0.09000"', 1), ("0.1e0", 2)):
        path = project(BASE.format(model=redness_model) + f'trim: {{start: "0.0400", end: {end}}}\n')
        assert vbr("render", "-q", path).code == 0
        assert len(read_video(tmp_path / "out" / "o.mp4").frames) == frames, end


@pytest.mark.parametrize("at, frame", [("0.2000", 5), ("0.2399", 5), ("2.4e-1", 6), ("00:00.1999999", 4), ("0", 0)])
def test_preview_at_takes_any_decimal_and_shows_the_frame_on_screen_then(project, vbr, redness_model, tmp_path, at, frame):
    path = project(BASE.format(model=redness_model))
    result = vbr("preview", "--json", path, "--at", at, "-o", tmp_path / "s.png")
    assert result.code == 0, result.err
    assert json.loads(result.out)["frames"] == [frame]


def test_text_shows_on_the_frames_whose_time_is_in_its_range(project, vbr, redness_model, tmp_path):
    overlay = "text: [{text: X, size: 20, position: bottom-right, margin: 0, start: 0.05, end: 0.09, box: {color: '#ffffff', padding: 12}}]\n"
    path = project(BASE.format(model=redness_model) + "trim: {end: 0.2}\n" + overlay)
    assert vbr("render", "-q", path).code == 0
    corner = [frame[-6:, -6:].mean() > 200 for frame in read_video(tmp_path / "out" / "o.mp4").frames]
    assert corner == [False, False, True, False, False]  # only frame 2 (0.08 s) has 0.05 <= t < 0.09


def test_text_no_frame_would_show_is_a_located_error(project, vbr, redness_model):
    overlays = "text:\n  - {text: a, start: 0.01, end: 0.02}\n  - {text: b, start: 0.97}\n  - {text: c, start: 0.95}\n"
    path = project(BASE.format(model=redness_model) + overlays)
    result = vbr("validate", path)
    assert result.code == 2
    assert lines(result) == [
        f"{path}:7:5: text[0] from 00:00.010 to 00:00.020 falls between two frames at 25 fps "
        "(the frame before is at 00:00.000, the next at 00:00.040): no frame would show it",
        f"{path}:8:22: text[1].start (00:00.970) is after the render's last frame (00:00.960, at 25 fps): it would never show",
    ]


# --- values from --set and rows ------------------------------------------------------------------

TEMPLATE = """version: 1
vars:
  size: {{type: number, default: 20}}
  name: {{type: string, default: x}}
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color}}
text: [{{text: hi, size: "${{size}}"}}]
export: {{path: "out/${{name}}.mp4"}}
"""


@pytest.mark.parametrize("value", ["inf", "-Infinity", "nan", "1e999"])
def test_set_refuses_numbers_that_are_not_finite(project, vbr, redness_model, value):
    path = project(TEMPLATE.format(model=redness_model))
    result = vbr("validate", path, "--set", f"size={value}")
    assert (result.code, lines(result)) == (2, [f"{path}:3:3: variable 'size': {value!r} is not a finite number"])


def test_rows_values_infinite_numbers_fail_their_row_and_null_means_the_default(project, vbr, redness_model, tmp_path):
    template = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    rows = tmp_path / "rows.yaml"
    rows.write_text("- {name: a, size: .nan}\n- {name: b, size: ~}\n- {name: c, size: 1e999}\n- {name: ~}\n", encoding="utf-8")
    result = vbr("batch", "--json", template, rows)
    assert result.code == 2
    errors = {e["row"]: e["message"] for e in result.events if e["event"] == "error"}
    assert errors == {
        1: f"{rows}:1: variable 'size': nan is not a finite number [{template}:3:3]",
        3: f"{rows}:3: variable 'size': '1e999' is not a finite number [{template}:3:3]",
    }
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp4")) == ["b.mp4", "x.mp4"]  # nulls took the defaults
    listed = [(r["line"], r["status"]) for r in json.loads((tmp_path / "batch-manifest.json").read_text())["rows"]]
    assert listed == [(1, "failed"), (2, "rendered"), (3, "failed"), (4, "rendered")]
    assert np.abs(read_video(tmp_path / "out" / "b.mp4").frames[0].astype(int) - read_video(tmp_path / "out" / "x.mp4").frames[0]).max() == 0
