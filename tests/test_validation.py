"""Every way a project file can be wrong reports FILE:LINE:COL and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.errors import ProjectError
from renderer.project.load import load_project, parse_project

GOOD = """version: 1
source: media/clip.mp4
export:
  path: out/o.webm
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ProjectError) as info:
        parse_project(text, "p.yaml")
    return info.value.lines()


def test_minimal_project_is_valid():
    project, _ = parse_project(GOOD, "p.yaml")
    assert project.export.path == "out/o.webm"
    assert project.background.type == "transparent"
    assert project.model_settings.name == "u2netp"
    settings = project.model_settings
    assert settings.temporal is None and settings.ema_alpha is None and settings.dedup_threshold == 0.02
    assert project.matte.refine == "bilinear" and project.matte.foreground == "source" and project.matte.choke == 0
    assert project.export.resolution == "original" and project.export.fps == "original" and project.export.audio


def test_model_as_a_name_or_a_mapping_mean_the_same():
    by_name, _ = parse_project(GOOD + "model: u2netp\n", "p.yaml")
    by_map, _ = parse_project(GOOD + "model: {name: u2netp}\n", "p.yaml")
    assert by_name.model_settings == by_map.model_settings


def test_unknown_key_points_at_the_key_and_suggests():
    assert problems(GOOD + "backgrund: {type: color}\n") == [
        "p.yaml:5:1: backgrund: unknown key; did you mean 'background'?"
    ]
    assert problems(GOOD.replace("  path:", "  colour: red\n  path:")) == [
        "p.yaml:4:3: export.colour: unknown key (allowed: aspect, audio, content, format, fps, path, quality, reframe, resolution)"
    ]


def test_all_errors_reported_at_once_in_file_order():
    text = """version: 2
source: 5
model: {name: u2netp, ema_alpha: 0}
trim: {start: "1:2:3:4"}
background: {type: color, color: red}
export: {path: out/o.webm, resolution: 4k}
"""
    assert problems(text) == [
        "p.yaml:1:10: version: unsupported version 2 (this vbr reads version 1)",
        "p.yaml:2:9: source: expected a string, got a number 5",
        "p.yaml:3:34: model.ema_alpha: 0 must be greater than 0",
        'p.yaml:4:15: trim.start: \'1:2:3:4\' is not a timecode: seconds or "[HH:]MM:SS[.fff]"',
        "p.yaml:5:34: background.color: 'red' is not a colour \"#rrggbb\"",
        "p.yaml:6:40: export.resolution: '4k' is not one of: original, 1080p, 720p, 480p",
    ]


def test_missing_required_keys():
    assert problems("version: 1\nexport: {format: webm}\n") == [
        "p.yaml:1:1: source: required key is missing",
        "p.yaml:2:9: export.path: required key is missing",
    ]


def test_background_union_is_narrowed_by_type():
    assert problems(GOOD + "background: {type: blur, radius: -3}\n") == [
        "p.yaml:5:34: background.radius: -3 must be greater than 0"
    ]
    assert problems(GOOD + "background: {type: plaid}\n") == [
        "p.yaml:5:20: background.type: 'plaid' is not one of: transparent, color, blur, image, video"
    ]
    assert problems(GOOD + "background: {color: '#ffffff'}\n") == [
        "p.yaml:5:13: background: missing 'type' (one of: transparent, color, blur, image, video)"
    ]
    assert problems(GOOD + "background: {type: image}\n") == ["p.yaml:5:13: background.image: required key is missing"]
    assert problems(GOOD + "background: {type: color, radius: 3}\n") == [
        "p.yaml:5:27: background.radius: unknown key (allowed: color, type)"
    ]


def test_model_union_errors():
    assert problems(GOOD + "model: 7\n") == ["p.yaml:5:8: model: expected a mapping or a string, got a number 7"]
    assert problems(GOOD + "model: {name: u2netp, dedup_threshold: 1.5}\n") == [
        "p.yaml:5:40: model.dedup_threshold: 1.5 must be less than 1"
    ]


def test_yaml_syntax_error_has_a_position():
    lines = problems("version: 1\nsource: [unclosed\nexport: {path: a.webm}\n")
    assert len(lines) == 1 and lines[0].startswith("p.yaml:3:")


def test_duplicate_keys_are_errors():
    assert problems(GOOD + "source: other.mp4\n") == ["p.yaml:5:1: duplicate key 'source'"]


def test_empty_and_non_mapping_documents():
    assert problems("") == ["p.yaml:1:1: the file is empty"]
    assert problems("# only a comment\n") == ["p.yaml:1:1: the file is empty"]
    assert problems("- a\n- b\n") == [
        "p.yaml:1:1: a project file is a mapping of keys (version, source, export, ...)"
    ]


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghij":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    lines = problems(bomb)
    assert len(lines) == 1 and "too large" in lines[0]


def test_cross_field_rules():
    assert problems(GOOD.replace("o.webm", "o.mp4")) == [
        "p.yaml:4:9: a transparent background needs alpha, which MP4 (H.264) cannot carry: export to .webm, .mov or a PNG sequence, or pick a background"
    ]
    assert problems(GOOD.replace("o.webm", "o.mp4") + "background: {type: transparent}\n") == [
        "p.yaml:5:20: a transparent background needs alpha, which MP4 (H.264) cannot carry: export to .webm, .mov or a PNG sequence, or pick a background"
    ]
    assert problems(GOOD + "trim: {start: 2, end: '00:01.500'}\n") == ["p.yaml:5:23: trim end must be after trim start"]
    assert problems(GOOD.replace("o.webm", "o.avi")) == [
        "p.yaml:4:9: cannot tell the format from '.avi': use .webm, .mp4, .mov or a .png pattern, or set export.format"
    ]
    assert problems(GOOD.replace("  path: out/o.webm", "  path: out/o.webm\n  format: mp4") + "background: {type: color}\n") == [
        "p.yaml:5:11: format mp4 does not match the extension .webm of export.path"
    ]


def test_format_from_extension_or_explicit():
    project, _ = parse_project(GOOD.replace("o.webm", "o.MP4") + "background: {type: color}\n", "p.yaml")
    assert project.export.format is None
    project, _ = parse_project(GOOD.replace("o.webm", "clip.out") + "  format: webm\n", "p.yaml")
    assert project.export.format == "webm"


def file_problems(path: Path) -> list[str]:
    with pytest.raises(ProjectError) as info:
        load_project(path)
    return info.value.lines()


def test_missing_source_and_image(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "source: nowhere.mp4\nbackground: {type: image, image: gone.png}\nexport: {path: o.webm}\n", encoding="utf-8"
    )
    lines = file_problems(path)
    assert lines[0].startswith(f"{path}:1:9: source: no such file: ")
    assert lines[1].startswith(f"{path}:2:34: background.image: no such file: ")


def test_export_onto_the_source_or_the_project(project, tmp_path: Path):
    path = project("source: media/clip.mp4\nbackground: {type: color}\nexport: {path: media/clip.mp4}\n")
    assert file_problems(path) == [f"{path}:3:16: export.path is the source file: it would be overwritten"]
    path = project("source: media/clip.mp4\nexport: {path: project.webm, format: webm}\n")
    path.rename(tmp_path / "project.webm")
    assert file_problems(tmp_path / "project.webm") == [
        f"{tmp_path / 'project.webm'}:2:16: export.path is the project file: it would be overwritten"
    ]


def test_export_onto_a_directory(project, tmp_path: Path):
    (tmp_path / "out.webm").mkdir()
    path = project("source: media/clip.mp4\nexport: {path: out.webm}\n")
    assert file_problems(path) == [f"{path}:2:16: export.path is a directory: {tmp_path / 'out.webm'}"]


def test_trim_beyond_the_source_reported_at_trim(project):
    path = project(GOOD + "trim: {start: 0.5, end: 3}\n")
    assert file_problems(path) == [f"{path}:5:25: trim end 00:03.000 is past the end of the source (00:01.000)"]
    path = project(GOOD + "trim:\n  start: '00:01.000'\n")
    assert file_problems(path) == [
        f"{path}:6:10: trim start 00:01.000 is at or past the end of the source (00:01.000)"
    ]


def test_unknown_model_reported_at_its_name(project):
    path = project(GOOD + "model: {name: nosuchmodel}\n")
    available = "birefnet, birefnet-lite, birefnet-portrait, isnet-general-use, rmbg-1.4, u2net_human_seg, u2netp, u2netp-int8"
    assert file_problems(path) == [f"{path}:5:15: model: unknown model 'nosuchmodel' (available: {available}; or give model.path)"]


def test_non_utf8_and_directory(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\nsource: caf\xe9.mp4\n")
    assert file_problems(path) == [f"{path}:2:12: the file is not valid UTF-8"]
    assert file_problems(tmp_path) == [f"{tmp_path}: is a directory, not a project file"]
    assert file_problems(tmp_path / "absent.yaml") == [f"{tmp_path / 'absent.yaml'}: no such file"]


def test_validate_command_exit_codes(project, vbr, tmp_path: Path):
    good = project(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "zzz: 1\n", encoding="utf-8")
    result = vbr("validate", good)
    assert result.code == 0 and result.out.strip() == f"{good}: ok"
    result = vbr("validate", good, bad)
    assert result.code == 2
    assert result.out.strip() == f"{good}: ok"
    assert result.err.strip() == f"{bad}:5:1: zzz: unknown key (allowed: background, export, fade, grade, matte, model, source, text, trim, vars, version)"
    assert not (tmp_path / "out").exists()


def test_editing_keys_are_validated_with_positions():
    text = GOOD + """grade: {brightness: 1.5, tint: -2}
text:
  - {text: Hi, color: '#fff', start: 2, end: 1}
  - {text: '', position: middle, size: 0}
  - {text: Ok, position: {x: 1.2, y: 0.5}, color: '#11223344'}
fade: {in: 6, out: -1}
"""
    assert problems(text) == [
        "p.yaml:5:21: grade.brightness: 1.5 is above the maximum, 1",
        "p.yaml:5:32: grade.tint: -2 is below the minimum, -1",
        "p.yaml:7:23: text[0].color: '#fff' is not a colour \"#rrggbb\" or \"#rrggbbaa\"",
        "p.yaml:8:12: text[1].text: '' should be non-empty",
        "p.yaml:8:26: text[1].position: 'middle' is not one of: top-left, top, top-right, left, center, right, bottom-left, bottom, bottom-right",
        "p.yaml:8:40: text[1].size: 0 must be greater than 0",
        "p.yaml:9:30: text[2].position.x: 1.2 is above the maximum, 1",
        "p.yaml:10:12: fade.in: 6 is above the maximum, 5",
        "p.yaml:10:20: fade.out: -1 is below the minimum, 0",
    ]
    assert problems(GOOD + "text:\n  - {text: Hi, start: 2, end: '00:01'}\n") == [
        "p.yaml:6:31: text[0].end must be after its start"
    ]
