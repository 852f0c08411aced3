"""`vbr batch`: rows checked before anything renders, inference shared, re-runs incremental."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from helpers import make_clip, read_video
from renderer.cache.store import Store

TEMPLATE = """version: 1
vars:
  name: {{type: string}}
  color: {{type: color, default: "#0000ff"}}
  clip: {{type: path, default: media/clip.mp4}}
source: "${{clip}}"
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color, color: "${{color}}"}}
export: {{path: "out/${{name}}.mp4"}}
"""


@pytest.fixture
def template(project, redness_model):
    return project(TEMPLATE.format(model=redness_model), name="t.yaml")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def background(path: Path) -> np.ndarray:
    """The mean colour of the bottom rows of the first frame (green in the source: background there)."""
    return read_video(path).frames[0][-6:, :, :3].reshape(-1, 3).mean(axis=0)


def by_kind(events: list[dict]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for event in events:
        kinds.setdefault(event["event"], []).append(event)
    return kinds


def test_three_rows_on_one_source_infer_its_frames_once(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name,color\nred,#ff0000\nwhite,#ffffff\nblue,\n")
    result = vbr("batch", "--json", template, rows)
    assert result.code == 0, result.err
    events = by_kind(result.events)
    done = sorted(events["done"], key=lambda e: e["row"])
    assert [e["row"] for e in done] == [2, 3, 4]
    # The clip has 25 frames; with dedup off every one is inferred once, by whichever row ran first.
    assert sum(e["inferred_frames"] for e in done) == 25
    assert [e["inferred_frames"] + e["cached_frames"] for e in done] == [25, 25, 25]
    assert events["batch"] == [
        {"event": "batch", "rendered": 3, "skipped": 0, "failed": 0, "cancelled": 0,
         "seconds": events["batch"][0]["seconds"], "manifest": str(tmp_path / "batch-manifest.json")}
    ]
    expected = {"red": (255, 0, 0), "white": (255, 255, 255), "blue": (0, 0, 255)}  # blue: the default
    for name, colour in expected.items():
        assert np.abs(background(tmp_path / "out" / f"{name}.mp4") - colour).max() < 12, name
    manifest = json.loads((tmp_path / "batch-manifest.json").read_text())
    assert [(r["line"], r["status"], r["output"]) for r in manifest["rows"]] == [
        (2, "rendered", "out/red.mp4"), (3, "rendered", "out/white.mp4"), (4, "rendered", "out/blue.mp4")
    ]
    assert all(r["sha256"] == sha(tmp_path / r["output"]) and r["error"] is None for r in manifest["rows"])


def test_bad_rows_are_reported_by_line_and_the_good_rows_render(template, vbr, tmp_path):
    rows = write(
        tmp_path / "rows.csv",
        "name,color\n"
        "ok1,#ff0000\n"
        "bad,red\n"  # line 3: not a colour
        "../../escaped,\n"  # line 4: writes outside the output directory
        ",#00ff00\n"  # line 5: required name missing
        "\n"  # blank lines are not rows, but count as lines
        "ok2,\n",  # line 7
    )
    result = vbr("batch", rows.parent / "t.yaml", rows)
    assert result.code == 2
    lines = result.err.splitlines()
    assert f"{rows}:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red' [{template}:4:3]" in lines
    escaped = (tmp_path / "out" / "../../escaped.mp4").resolve()
    assert f"{rows}:4: export path {escaped} is outside the output directory {tmp_path} (see --out-dir)" in lines
    assert f"{rows}:5: variable 'name' has no value: give it with --set name=... or a rows column [{template}:3:3]" in lines
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp4")) == ["ok1.mp4", "ok2.mp4"]
    assert not escaped.exists()
    manifest = json.loads((tmp_path / "batch-manifest.json").read_text())
    assert [(r["line"], r["status"]) for r in manifest["rows"]] == [
        (2, "rendered"), (3, "failed"), (4, "failed"), (5, "failed"), (7, "rendered")
    ]
    assert manifest["rows"][1]["error"].startswith(f"{rows}:3: variable 'color'")


def test_yaml_and_json_rows_report_their_own_lines(template, vbr, tmp_path):
    rows = write(
        tmp_path / "rows.yaml",
        "- name: a\n"
        "- name: b\n"
        "  colour: '#ff0000'\n"  # the row starting on line 2 has a key no variable has
        "- just text\n"  # line 4
        "- {name: 2024, color: '#00ff00'}\n",  # a number is fine as a string variable's text
    )
    result = vbr("batch", "--json", template, rows)
    assert result.code == 2
    events = by_kind(result.events)
    assert [(e["row"], e["message"]) for e in events["error"]] == [
        (2, f"{rows}:2: 'colour' names no variable of the template"),
        (4, f"{rows}:4: a row is a mapping of variable names to values"),
    ]
    assert sorted(e["row"] for e in events["done"]) == [1, 5]
    assert (tmp_path / "out" / "2024.mp4").is_file()

    as_json = write(tmp_path / "rows.json", '[\n  {"name": "j1"},\n  {"name": "j2", "color": 7}\n]\n')
    result = vbr("batch", "--json", template, as_json)
    assert result.code == 2
    assert [(e["row"], e["event"]) for e in result.events[:-1]] == [(3, "error"), (2, "done")]


def test_unknown_column_or_a_broken_template_stops_the_whole_batch(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name,colour\na,#ff0000\n")
    result = vbr("batch", template, rows)
    assert result.code == 2
    assert result.err.strip() == f"{rows}:1:6: column 'colour' names no variable of the template (variables: clip, color, name)"
    empty = write(tmp_path / "empty.csv", "name\n")
    result = vbr("batch", template, empty)
    assert result.code == 2 and result.err.strip() == f"{empty}:1:1: the rows file has no rows"
    broken = write(tmp_path / "broken.yaml", "version: 1\nvars:\n  name: {type: strin}\n")
    result = vbr("batch", broken, write(tmp_path / "ok.csv", "name\na\n"))
    assert result.code == 2 and result.err.startswith(f"{broken}:3:")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "batch-manifest.json").exists()


def test_absolute_and_symlinked_escapes_are_row_errors(template, vbr, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(outside, target_is_directory=True)
    # An absolute export path: the template itself can route a variable into one.
    absolute = write(tmp_path / "abs.yaml", TEMPLATE.format(model="test-redness").replace('"out/${name}.mp4"', '"${name}.mp4"'))
    rows = write(tmp_path / "rows.csv", f"name\n{outside}/abs\n")
    result = vbr("batch", absolute, rows)
    assert result.code == 2
    assert result.err.splitlines()[0] == f"{rows}:2: export path {outside}/abs.mp4 is outside the output directory {tmp_path} (see --out-dir)"
    rows = write(tmp_path / "rows2.csv", "name\nlink/x\ninside\n")
    result = vbr("batch", template, rows)
    assert result.code == 2
    assert result.err.splitlines()[0] == f"{rows}:2: export path {outside}/x.mp4 is outside the output directory {tmp_path} (see --out-dir)"
    assert list(outside.iterdir()) == []
    assert (tmp_path / "out" / "inside.mp4").is_file()


def test_two_rows_with_one_output_are_errors_before_anything_renders(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name,color\nsame,#ff0000\nother,\nsame,#00ff00\n")
    result = vbr("batch", "--json", template, rows)
    assert result.code == 2
    events = result.events
    out = tmp_path / "out" / "same.mp4"
    assert [(e["event"], e["row"]) for e in events[:3]] == [("error", 2), ("error", 4), ("done", 3)]
    assert events[0]["message"] == f"{rows}:2: output {out} is also the output of line 4"
    assert events[1]["message"] == f"{rows}:4: output {out} is also the output of line 2"
    assert not out.exists()


def test_fail_fast_stops_at_the_first_bad_row(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name,color\ngood,\nbad,#zz\nlater,#nope\n")
    result = vbr("batch", "--fail-fast", "--json", template, rows)
    assert result.code == 2
    events = by_kind(result.events)
    assert [e["row"] for e in events["error"]] == [3]  # line 4 is never looked at
    assert "done" not in events
    assert events["batch"][0]["cancelled"] == 2 and events["batch"][0]["failed"] == 1
    assert not (tmp_path / "out").exists()


def test_editing_one_row_renders_only_that_row(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name,color\na,#ff0000\nb,#00ff00\nc,#ffffff\n")
    assert vbr("batch", template, rows).code == 0
    outputs = {name: tmp_path / "out" / f"{name}.mp4" for name in "abc"}
    before = {name: (sha(path), path.stat().st_mtime_ns) for name, path in outputs.items()}
    write(rows, "name,color\na,#ff0000\nb,#ffff00\nc,#ffffff\n")
    result = vbr("batch", "--json", template, rows)
    assert result.code == 0
    events = by_kind(result.events)
    assert {e["row"]: (e["skipped"], e["inferred_frames"]) for e in events["done"]} == {2: (True, 0), 3: (False, 0), 4: (True, 0)}
    assert (events["batch"][0]["rendered"], events["batch"][0]["skipped"]) == (1, 2)
    for name in "ac":
        assert (sha(outputs[name]), outputs[name].stat().st_mtime_ns) == before[name]
    assert sha(outputs["b"]) != before["b"][0]
    assert np.abs(background(outputs["b"]) - (255, 255, 0)).max() < 12
    statuses = [r["status"] for r in json.loads((tmp_path / "batch-manifest.json").read_text())["rows"]]
    assert statuses == ["skipped", "rendered", "skipped"]
    # --force renders every row again, from cached masks.
    forced = by_kind(vbr("batch", "--json", "--force", template, rows).events)
    assert [(e["skipped"], e["inferred_frames"]) for e in forced["done"]] == [(False, 0)] * 3


def test_out_dir_receives_relative_outputs_and_the_manifest(template, vbr, tmp_path):
    rows = write(tmp_path / "rows.csv", "name\nx\n")
    target = tmp_path / "renders"
    result = vbr("batch", "--out-dir", target, template, rows)
    assert result.code == 0, result.err
    assert (target / "out" / "x.mp4").is_file() and (target / "batch-manifest.json").is_file()
    assert not (tmp_path / "out").exists()
    assert vbr("batch", "-j", "0", template, rows).code == 2


def test_rows_that_cannot_render_do_not_stop_the_others(template, vbr, tmp_path):
    (tmp_path / "media" / "broken.mp4").write_bytes(b"not a video at all")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "blocker").write_text("a file where a directory would have to be")
    rows = write(tmp_path / "rows.csv", "name,clip\nfine,\nbroken,media/broken.mp4\nblocker/x,\n")
    result = vbr("batch", "--json", template, rows)
    assert result.code == 1  # runtime failures, no invalid row
    errors = {e["row"]: e for e in result.events if e["event"] == "error"}
    assert sorted(errors) == [3, 4] and all(e["exit_code"] == 1 for e in errors.values())
    assert errors[3]["message"].startswith(f"{rows}:3: {template}:6:9: ")  # found while checking the row
    assert errors[4]["message"].startswith(f"{rows}:4: {tmp_path}/out/blocker/x.mp4: cannot write here")  # while rendering it
    assert (tmp_path / "out" / "fine.mp4").is_file()
    statuses = [(r["line"], r["status"]) for r in json.loads((tmp_path / "batch-manifest.json").read_text())["rows"]]
    assert statuses == [(2, "rendered"), (3, "failed"), (4, "failed")]


def _cache_entries(root: Path) -> list[Path]:
    return [p for p in (root / "masks-v1").rglob("*") if p.is_file()]


def test_parallel_workers_share_the_cache(project, vbr, tmp_path, isolated_cache):
    """-j 2 with the real model (workers are separate processes: only registered models reach them)."""
    other = make_clip(tmp_path / "media-b.mp4", size=(64, 48), fps=10, seconds=0.5, audio=False, step=5)
    first = make_clip(tmp_path / "media-a.mp4", size=(64, 48), fps=10, seconds=0.5, audio=False)
    template = project(TEMPLATE.format(model="u2netp").replace("default: media/clip.mp4", f"default: {first}"), name="t.yaml")
    rows = write(tmp_path / "rows.csv", f"name,clip\na1,\na2,\nb1,{other}\na3,\nb2,{other}\n")
    result = vbr("batch", "-j", "2", "--json", template, rows)
    assert result.code == 0, result.err
    done = {e["row"]: e for e in result.events if e["event"] == "done"}
    assert sorted(done) == [2, 3, 4, 5, 6]
    # Each source's 5 frames are inferred once, by the first row of its group; the others read them.
    assert sum(done[row]["inferred_frames"] for row in (2, 3, 5)) == 5
    assert sum(done[row]["inferred_frames"] for row in (4, 6)) == 5
    entries = _cache_entries(isolated_cache)
    assert len(entries) == 10
    store = Store(isolated_cache, "masks")
    assert all(store.get(p.parent.name + p.name) is not None for p in entries) and store.discarded == 0
    for name in ("a1", "a2", "a3", "b1", "b2"):
        assert len(read_video(tmp_path / "out" / f"{name}.mp4").frames) == 5
    # The same outputs, byte for byte, whether rendered in parallel or one by one.
    parallel = {name: sha(tmp_path / "out" / f"{name}.mp4") for name in ("a1", "b1")}
    again = vbr("batch", "--force", "--json", template, rows)
    assert all(e["inferred_frames"] == 0 for e in again.events if e["event"] == "done")
    assert parallel == {name: sha(tmp_path / "out" / f"{name}.mp4") for name in ("a1", "b1")}


def manifest_rows(path: Path) -> tuple[list[tuple[int, str, str | None]], dict]:
    manifest = json.loads(path.read_text())
    counts = {k: manifest[k] for k in ("rendered", "skipped", "failed", "cancelled")}
    return [(r["line"], r["status"], r["output"]) for r in manifest["rows"]], counts


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fail_fast_on_a_bad_row_lists_every_row_as_cancelled(template, vbr, tmp_path, jobs):
    """The rows after the bad one were never looked at; they are in the manifest all the same."""
    rows = write(tmp_path / "rows.csv", "name,color\nbad,#zz\nlater,\n\nlast,#nope\n")
    result = vbr("batch", "--fail-fast", "-j", jobs, "--json", template, rows)
    assert result.code == 2
    listed, counts = manifest_rows(tmp_path / "batch-manifest.json")
    assert listed == [(2, "failed", None), (3, "cancelled", None), (5, "cancelled", None)]
    assert counts == {"rendered": 0, "skipped": 0, "failed": 1, "cancelled": 2}
    assert by_kind(result.events)["batch"][0]["cancelled"] == 2
    assert not (tmp_path / "out").exists()


CUSTOM_MODEL_TEMPLATE = """version: 1
vars:
  name: {{type: string}}
source: media/clip.mp4
model: {{path: {model}, input_size: 64, activation: sigmoid, dedup_threshold: 0}}
background: {{type: color}}
export: {{path: "out/${{name}}.mp4"}}
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fail_fast_on_a_failed_render_lists_every_row(project, redness_model_file, vbr, tmp_path, jobs):
    """Row 3 validates but cannot be written; the rows not rendered by then are cancelled, and counted."""
    template = project(CUSTOM_MODEL_TEMPLATE.format(model=redness_model_file), name="t.yaml")  # reaches worker processes
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "blocker").write_text("a file where a directory would have to be")
    rows = write(tmp_path / "rows.csv", "name\nfirst\nblocker/x\nthird\nfourth\nfifth\n")
    result = vbr("batch", "--fail-fast", "-j", jobs, "--json", template, rows)
    assert result.code == 1, result.err
    assert not multiprocessing.active_children()  # the batch ends after its workers (and their clean-up)
    listed, counts = manifest_rows(tmp_path / "batch-manifest.json")
    assert [line for line, _, _ in listed] == [2, 3, 4, 5, 6]
    statuses = {line: status for line, status, _ in listed}
    assert (statuses[2], statuses[3]) == ("rendered", "failed")  # the first row of a source runs before the others
    if jobs == "1":
        assert [statuses[line] for line in (4, 5, 6)] == ["cancelled"] * 3
    assert statuses[6] == "cancelled"  # -j 2: never started (rows 3 and 4 ran beside each other)
    assert counts == {status: list(statuses.values()).count(status) for status in ("rendered", "skipped", "failed", "cancelled")}
    assert by_kind(result.events)["batch"][0]["cancelled"] == counts["cancelled"]
    for line, status, output in listed:
        assert (tmp_path / output).is_file() == (status == "rendered"), (line, status)
    assert not list((tmp_path / "out").glob("*partial*"))
