"""The mask cache: what is reused, what is recomputed, and that output bytes never depend on it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from helpers import make_clip, read_video
from renderer.matting import registry

BASE = """version: 1
source: media/clip.mp4
model: {{name: {model}, ema_alpha: 0.8, dedup_threshold: {dedup}}}
trim: {trim}
background: {background}
export: {export}
"""


def text(model: str, *, dedup: float = 0, trim: str = "{start: 0, end: 2}", background: str = "{type: transparent}",
         export: str = "{path: out/o.webm}") -> str:
    return BASE.format(model=model, dedup=dedup, trim=trim, background=background, export=export)


@pytest.fixture
def long_clip(tmp_path: Path) -> Path:
    """3 s: long enough for two dedup segments."""
    return make_clip(tmp_path / "long.mp4", seconds=3.0)


def done(result) -> dict:
    assert result.code == 0, result.err
    event = result.events[-1]
    assert event["event"] == "done"
    return event


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_changing_only_background_or_export_infers_nothing(project, vbr, redness_model, long_clip, tmp_path):
    path = project(text(redness_model), source=long_clip)
    cold = done(vbr("render", "--json", path))
    assert cold["inferred_frames"] == 50 and cold["cached_frames"] == 0
    variants = [
        text(redness_model, background="{type: color, color: '#ff00ff'}"),
        text(redness_model, background="{type: blur, radius: 4}", export="{path: out/o.mp4}"),
        text(redness_model, export="{path: out/o.webm, resolution: 480p}"),
        text(redness_model, export="{path: out/o.webm, fps: 15}"),
        text(redness_model, export="{path: out/o.webm, fps: 30, audio: false}"),
        text(redness_model, export="{path: out/o.webm, quality: draft}"),
        text(redness_model, export="{path: out/other.webm, format: webm}"),
    ]
    for body in variants:
        path.write_text(body, encoding="utf-8")
        warm = done(vbr("render", "--json", path))
        assert warm["inferred_frames"] == 0, body
        assert warm["cached_frames"] > 0


def test_trim_moves_within_computed_frames_and_widening(project, vbr, redness_model, long_clip):
    path = project(text(redness_model, trim="{start: 0.4, end: 2.4}"), source=long_clip)
    assert done(vbr("render", "--json", path))["inferred_frames"] == 50
    for trim in ("{start: 0.8, end: 2.0}", "{start: 0.4, end: 1.0}", "{start: 1.0, end: 2.4}"):
        path.write_text(text(redness_model, trim=trim), encoding="utf-8")
        event = done(vbr("render", "--json", path))
        assert event["inferred_frames"] == 0, trim
    path.write_text(text(redness_model, trim="{start: 0.0, end: 2.8}"), encoding="utf-8")
    widened = done(vbr("render", "--json", path))
    assert widened["inferred_frames"] == 10 + 10  # 0.0-0.4 and 2.4-2.8: only the new frames
    assert widened["cached_frames"] == 50


def test_dedup_decisions_do_not_depend_on_the_trim(project, vbr, redness_model, tmp_path):
    """With dedup on, a moved trim must find the same reference frames, hence 0 inferences."""
    drifting = make_clip(tmp_path / "drift.mp4", seconds=3.0, step=1, counter=False, audio=False)
    path = project(text(redness_model, dedup=0.05, trim="{start: 0, end: 3}"), source=drifting)
    cold = done(vbr("render", "--json", path))
    assert 0 < cold["inferred_frames"] < 75 and cold["reused_frames"] > 0
    for trim in ("{start: 0.52, end: 2.2}", "{start: 1.36, end: 3}", "{start: 2.04, end: 2.5}"):
        path.write_text(text(redness_model, dedup=0.05, trim=trim), encoding="utf-8")
        event = done(vbr("render", "--json", "--force", path))
        assert event["inferred_frames"] == 0, trim


def test_dedup_output_is_the_same_cold_or_warm(project, vbr, redness_model, tmp_path):
    drifting = make_clip(tmp_path / "drift.mp4", seconds=3.0, step=1, counter=False, audio=False)
    path = project(text(redness_model, dedup=0.05, trim="{start: 0.6, end: 2.6}"), source=drifting)
    output = tmp_path / "out/o.webm"
    # Warm the cache with a different trim first, so the second render mixes cached and new work.
    path.write_text(text(redness_model, dedup=0.05, trim="{start: 1.0, end: 3.0}"), encoding="utf-8")
    done(vbr("render", "--json", path))
    path.write_text(text(redness_model, dedup=0.05, trim="{start: 0.6, end: 2.6}"), encoding="utf-8")
    mixed = done(vbr("render", "--json", path))
    assert mixed["cached_frames"] > 0 and mixed["inferred_frames"] > 0
    warm_digest = sha(output)
    cold = done(vbr("render", "--json", "--force", "--cache-dir", tmp_path / "fresh", path))
    assert cold["cached_frames"] == 0
    assert sha(output) == warm_digest


def _respec(monkeypatch, name: str, **changes) -> None:
    spec = registry.MODELS[name]
    monkeypatch.setitem(registry.MODELS, name, registry.ModelSpec(**{**spec.__dict__, **changes}))


def test_model_or_preprocessing_change_recomputes(project, vbr, redness_model, monkeypatch):
    path = project(text(redness_model, trim="{start: 0}"))
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    _respec(monkeypatch, redness_model, mean=(0.5, 0.5, 0.5))
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    _respec(monkeypatch, redness_model, input_size=(48, 48))
    # (the tiny model's input is fixed at 64x64, so this only checks the key: the render fails)
    result = vbr("render", "--json", path)
    assert result.code == 1


def test_other_weights_recompute(project, vbr, redness_model, monkeypatch, tmp_path):
    path = project(text(redness_model, trim="{start: 0}"))
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    weights = registry.MODELS[redness_model].path
    copy = tmp_path / "redness-copy.onnx"
    copy.write_bytes(Path(weights).read_bytes())  # same bytes, new file: the sha256 decides, not the path
    _respec(monkeypatch, redness_model, path=copy)
    assert done(vbr("render", "--json", path))["inferred_frames"] == 0
    _respec(monkeypatch, redness_model, sha256="0" * 64)
    assert vbr("render", "--json", path).code == 1  # wrong sha: refused, not silently used


def test_source_bytes_change_recomputes(project, vbr, redness_model, tmp_path):
    source = make_clip(tmp_path / "src.mp4", seconds=1.0)
    path = project(text(redness_model, trim="{start: 0}"), source=source)
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    make_clip(source, seconds=1.0, step=3)  # same path, different pictures
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    moved = tmp_path / "moved.mp4"
    source.rename(moved)
    (tmp_path / "media" / "clip.mp4").unlink()
    (tmp_path / "media" / "clip.mp4").symlink_to(moved)
    assert done(vbr("render", "--json", "--force", path))["inferred_frames"] == 0  # moved, same bytes


def test_corrupt_entries_are_recomputed_and_the_output_is_unchanged(project, vbr, redness_model, isolated_cache, tmp_path):
    path = project(text(redness_model, trim="{start: 0}"))
    assert done(vbr("render", "--json", path))["inferred_frames"] == 25
    first = sha(tmp_path / "out/o.webm")
    entries = sorted((isolated_cache / "masks-v1").glob("*/*"))
    assert len(entries) == 25
    entries[0].write_bytes(entries[0].read_bytes()[:40])  # truncated
    entries[1].write_bytes(b"garbage" * 100)  # garbage
    blob = bytearray(entries[2].read_bytes())
    blob[-1] ^= 0xFF  # one flipped bit in the payload
    entries[2].write_bytes(bytes(blob))
    again = done(vbr("render", "--json", "--force", path))
    assert again["inferred_frames"] == 3 and again["cached_frames"] == 22
    assert sha(tmp_path / "out/o.webm") == first


def test_manifest_and_skip(project, vbr, redness_model, tmp_path):
    path = project(text(redness_model, trim="{start: 0}"))
    first = done(vbr("render", "--json", path))
    output = tmp_path / "out/o.webm"
    manifest = json.loads((tmp_path / "out/o.webm.manifest.json").read_text())
    assert manifest == first["manifest"]
    assert manifest["graph_key"] == first["graph_key"] and len(manifest["graph_key"]) == 64
    assert manifest["output_sha256"] == sha(output)
    assert manifest["project_sha256"] == sha(path)
    assert manifest["source_sha256"] == sha(tmp_path / "media/clip.mp4")
    assert manifest["model"]["weights_sha256"] == registry.MODELS[redness_model].sha256
    assert set(manifest["versions"]) >= {"vbr", "av", "libavcodec", "onnxruntime"}
    skipped = done(vbr("render", "--json", path))
    assert skipped["skipped"] is True and skipped["graph_key"] == first["graph_key"]
    assert skipped["frames"] == 0 and skipped["inferred_frames"] == 0
    forced = done(vbr("render", "--json", "--force", path))
    assert forced["skipped"] is False and forced["frames"] == 25
    output.write_bytes(b"edited by hand")  # a changed output is not 'up to date'
    assert done(vbr("render", "--json", path))["skipped"] is False
    assert sha(output) == manifest["output_sha256"]


def test_plan_shows_what_is_cached(project, vbr, redness_model):
    path = project(text(redness_model, trim="{start: 0.2, end: 0.8}"))
    before = vbr("plan", "--json", path)
    assert before.code == 0
    plan = before.events[0]
    assert plan["frames"] == 15 and plan["frames_to_infer"] == 15 and plan["exact"] is True
    stages = {n["stage"]: n for n in plan["nodes"]}
    assert list(stages) == ["decode", "timeline", "matte", "scale", "refine", "composite", "audio", "encode"]
    assert stages["matte"]["status"] == "stale" and stages["encode"]["status"] == "stale"
    assert stages["composite"]["status"] == "cheap"
    assert not (Path(path).parent / "out").exists()  # plan never renders
    assert done(vbr("render", "--json", path))["inferred_frames"] == 15
    after = vbr("plan", "--json", path).events[0]
    assert after["frames_to_infer"] == 0
    assert {n["stage"]: n["status"] for n in after["nodes"]}["matte"] == "cached"
    assert {n["stage"]: n["status"] for n in after["nodes"]}["encode"] == "cached"
    assert after["graph_key"] == plan["graph_key"]
    Path(path).write_text(text(redness_model, trim="{start: 0, end: 0.8}"), encoding="utf-8")
    widened = vbr("plan", "--json", path).events[0]
    assert widened["frames_to_infer"] == 5
    human = vbr("plan", path)
    assert "matte" in human.out and "5 frames to infer" in human.out and "stale" in human.out


def test_plan_is_exact_with_dedup_once_chains_are_cached(project, vbr, redness_model, tmp_path):
    drifting = make_clip(tmp_path / "drift.mp4", seconds=2.0, step=1, counter=False, audio=False)
    path = project(text(redness_model, dedup=0.05, trim="{start: 0, end: 2}"), source=drifting)
    cold_plan = vbr("plan", "--json", path).events[0]
    assert cold_plan["exact"] is False and cold_plan["frames_to_infer"] == 50
    rendered = done(vbr("render", "--json", path))
    Path(path).write_text(text(redness_model, dedup=0.05, trim="{start: 0, end: 1.5}") , encoding="utf-8")
    warm_plan = vbr("plan", "--json", path).events[0]
    assert warm_plan["exact"] is True and warm_plan["frames_to_infer"] == 0
    assert warm_plan["masks_cached"] <= rendered["inferred_frames"]


def test_cache_commands(project, vbr, redness_model, isolated_cache, tmp_path):
    path = project(text(redness_model, trim="{start: 0}"))
    done(vbr("render", "--json", path))
    info = vbr("cache", "info", "--json")
    assert info.code == 0
    data = info.events[0]
    assert data["location"] == str(isolated_cache)
    assert data["namespaces"]["masks-v1"] == 25 and data["entries"] >= 26
    per_mask = data["bytes"] / data["entries"]
    assert 0 < per_mask < 64 * 64  # compressed below the raw 64x64 bytes
    text_info = vbr("cache", "info")
    assert f"location: {isolated_cache}" in text_info.out
    assert vbr("cache", "prune", "--max-size", "1GB").out.startswith("pruned 0 entries")
    pruned = vbr("cache", "prune", "--max-size", "0")
    assert pruned.code == 0 and vbr("cache", "info", "--json").events[0]["entries"] == 0
    done(vbr("render", "--json", "--force", path))
    assert vbr("cache", "clear").out.startswith("cleared ")
    assert vbr("cache", "info", "--json").events[0]["entries"] == 0
    assert vbr("cache", "prune", "--max-size", "lots").code == 2


def test_prune_drops_the_least_recently_used(project, vbr, redness_model, isolated_cache, tmp_path):
    import os
    import time

    a = project(text(redness_model, trim="{start: 0, end: 0.4}"), name="a.yaml")
    b = project(text(redness_model, trim="{start: 0.6, end: 1.0}", export="{path: out/b.webm}"), name="b.yaml")
    done(vbr("render", "--json", a))
    stamp = time.time() - 100
    for entry in (isolated_cache / "masks-v1").glob("*/*"):
        os.utime(entry, (stamp, stamp))  # a's masks are old...
    done(vbr("render", "--json", b))
    done(vbr("render", "--json", "--force", a))  # ...until a is rendered again: read hits touch them
    masks = sorted((isolated_cache / "masks-v1").glob("*/*"))
    assert len(masks) == 20
    keep = sum(p.stat().st_size for p in masks) // 2 + 1
    vbr("cache", "prune", "--max-size", str(keep))
    assert done(vbr("render", "--json", "--force", a))["inferred_frames"] == 0
    assert done(vbr("render", "--json", "--force", b))["inferred_frames"] > 0


def test_unusable_cache_warns_once_and_renders(project, vbr, redness_model, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("VBR_CACHE_DIR", str(blocker))
    path = project(text(redness_model, trim="{start: 0}"))
    result = vbr("render", "-q", path)
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "cache" in warnings[0]
    assert len(read_video(tmp_path / "out/o.webm").frames) == 25


def test_cache_dir_flag_and_env(project, vbr, redness_model, tmp_path, monkeypatch):
    path = project(text(redness_model, trim="{start: 0, end: 0.2}"))
    done(vbr("render", "--json", "--cache-dir", tmp_path / "flag", path))
    assert len(list((tmp_path / "flag" / "masks-v1").glob("*/*"))) == 5
    monkeypatch.setenv("VBR_CACHE_DIR", str(tmp_path / "env"))
    assert vbr("cache", "info", "--json").events[0]["location"] == str(tmp_path / "env")


# --- what cache maintenance may delete (issue 11) ---------------------------------------------------

SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
REFUSED = "is not marked as vbr's cache (no CACHEDIR.TAG) and holds other files (notes.txt, photos-v1, thesis-v2)"


def add_user_files(root: Path) -> dict[Path, str]:
    """A user's own things, two of them in folders named like vbr's namespaces (`name-vN`)."""
    files = {root / "photos-v1/2023/img.jpg": "a photo", root / "thesis-v2/ch1.tex": "a chapter", root / "notes.txt": "notes"}
    for path, body in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return files


def unchanged(files: dict[Path, str]) -> bool:
    return all(path.is_file() and path.read_text(encoding="utf-8") == body for path, body in files.items())


def masks(root: Path) -> int:
    return len(list((root / "masks-v1").glob("*/*")))


def test_an_unmarked_folder_of_other_files_is_never_pruned_or_cleared(project, vbr, redness_model, tmp_path):
    stuff = tmp_path / "stuff"
    files = add_user_files(stuff)
    path = project(text(redness_model, trim="{start: 0, end: 0.2}"))
    # The automatic prune after a render (and after a batch) warns and leaves the folder alone.
    rendered = vbr("render", "-q", "--cache-dir", stuff, "--cache-max-size", "1", path)
    assert rendered.code == 0 and unchanged(files)
    assert rendered.err == f"vbr: warning: cache not pruned: {stuff} {REFUSED}; " \
        "vbr deletes nothing there: give vbr a cache directory of its own (--cache-dir, VBR_CACHE_DIR)\n"
    assert len(read_video(tmp_path / "out/o.webm").frames) == 5 and masks(stuff) == 5
    template = tmp_path / "t.yaml"
    template.write_text(text(redness_model, trim="{start: 0.2, end: 0.4}", export='{path: "${name}.webm"}')
                        + "vars: {name: {type: string}}\n", encoding="utf-8")
    (tmp_path / "rows.csv").write_text("name\nb\n", encoding="utf-8")
    batch = vbr("batch", "-q", "--cache-dir", stuff, "--cache-max-size", "1", template, tmp_path / "rows.csv")
    assert batch.code == 0 and batch.err.startswith(f"vbr: warning: cache not pruned: {stuff} {REFUSED}")
    assert masks(stuff) == 10
    # The commands refuse, with a usage error.
    for action in (["prune", "--max-size", "1000"], ["clear"]):
        result = vbr("cache", *action, "--cache-dir", stuff)
        assert result.code == 2 and result.out == "" and result.err.startswith(f"vbr cache {action[0]}: {stuff} {REFUSED}")
    assert unchanged(files) and masks(stuff) == 10
    assert not (stuff / "CACHEDIR.TAG").exists()  # never marked: backup tools keep backing it up


def test_vbr_marks_its_cache_and_deletes_only_the_namespaces_it_knows(project, vbr, redness_model, tmp_path):
    root = tmp_path / "new" / "cache"
    path = project(text(redness_model, trim="{start: 0, end: 0.2}"))
    done(vbr("render", "--json", "--cache-dir", root, path))
    assert (root / "CACHEDIR.TAG").read_text(encoding="ascii").startswith(SIGNATURE + "\n")
    files = add_user_files(root)  # put there later, by hand
    assert vbr("cache", "prune", "--max-size", "0", "--cache-dir", root).code == 0
    assert masks(root) == 0 and unchanged(files)
    done(vbr("render", "--json", "--force", "--cache-dir", root, path))
    cleared = vbr("cache", "clear", "--cache-dir", root)
    assert cleared.code == 0 and cleared.out.startswith("cleared ")
    assert unchanged(files) and sorted(p.name for p in root.iterdir()) == ["CACHEDIR.TAG", "notes.txt", "photos-v1", "thesis-v2"]


def test_a_cache_from_before_tags_is_adopted(project, vbr, redness_model, tmp_path):
    """An unmarked directory holding vbr's namespaces and nothing else is an older vbr's cache."""
    root = tmp_path / "old"
    path = project(text(redness_model, trim="{start: 0, end: 0.2}"))
    done(vbr("render", "--json", "--cache-dir", root, path))
    (root / "CACHEDIR.TAG").unlink()
    assert vbr("cache", "prune", "--max-size", "0", "--cache-dir", root).code == 0
    assert masks(root) == 0 and (root / "CACHEDIR.TAG").read_text(encoding="ascii").startswith(SIGNATURE + "\n")
