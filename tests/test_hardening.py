"""Bad input, interruption, faults and concurrency: one clear line, the right exit code, nothing half-written."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import frame_index, make_clip, read_video
from renderer.cache.store import Store
from renderer.errors import ProjectError
from renderer.project.load import parse_project

BODY = """version: 1
source: {source}
model: {{name: {model}, dedup_threshold: 0}}
export: {{path: out.webm}}
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_clean_line(result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".vbr-partial" in p.name or p.name.endswith(".vbr-tmp"))


# --- sources -------------------------------------------------------------------------------------


def _truncated_mp4(path: Path, clip: Path) -> Path:
    data = clip.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _audio_only(path: Path, clip: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000, layout="stereo")
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _unknown_codec(path: Path, clip: Path) -> Path:
    """A Matroska file whose video codec ID no FFmpeg decoder claims."""
    mkv = make_clip(path.with_name("known.mkv"), seconds=0.4, audio=False)
    data = mkv.read_bytes()
    assert data.count(b"V_MPEG4/ISO/AVC") == 1
    path.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_VBR/UNKNOWN/X"))
    return path


BAD_SOURCES = {
    "zero-bytes.mp4": (lambda path, clip: (path.write_bytes(b""), path)[1], "cannot read as video (Invalid data found when processing input)"),
    "text.mp4": (lambda path, clip: (path.write_text("hello, I am a text file\n"), path)[1], "cannot read as video"),
    "random.mp4": (lambda path, clip: (path.write_bytes(np.random.default_rng(7).bytes(40_000)), path)[1], "cannot read as video"),
    "truncated.mp4": (_truncated_mp4, "cannot read as video"),  # its index (moov) was at the end
    "audio-only.m4a": (_audio_only, "has no video stream"),
    "unknown-codec.mkv": (_unknown_codec, "the video's codec cannot be decoded by this FFmpeg"),
}


@pytest.mark.parametrize("name", sorted(BAD_SOURCES))
def test_bad_sources_fail_cleanly_and_touch_nothing(name, vbr, redness_model, clip, tmp_path):
    make, message = BAD_SOURCES[name]
    source = make(tmp_path / name, clip)
    (tmp_path / "out.webm").write_bytes(b"an earlier render")
    path = tmp_path / "p.yaml"
    path.write_text(BODY.format(source=name, model=redness_model), encoding="utf-8")
    result = vbr("render", path)
    assert result.code == 1
    assert one_clean_line(result).startswith(f"{path}:2:9: {source}: {message}")
    assert (tmp_path / "out.webm").read_bytes() == b"an earlier render" and leftovers(tmp_path) == []


def test_a_source_that_stops_early_is_an_error_not_a_short_video(vbr, redness_model, tmp_path):
    mkv = make_clip(tmp_path / "whole.mkv", seconds=2.0, audio=False)  # Matroska: playable when cut off
    data = mkv.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    (tmp_path / "out.webm").write_bytes(b"an earlier render")
    path = tmp_path / "p.yaml"
    path.write_text(BODY.format(source="cut.mkv", model=redness_model), encoding="utf-8")
    result = vbr("render", path)
    assert result.code == 1
    line = one_clean_line(result)
    assert line.startswith(f"{tmp_path / 'cut.mkv'}: the video stops at 00:00.")
    assert line.endswith("the file may be truncated or still being written (set trim.end to cut the render short)")
    assert (tmp_path / "out.webm").read_bytes() == b"an earlier render" and leftovers(tmp_path) == []
    # What does decode renders, when the trim stays inside it.
    path.write_text(BODY.format(source="cut.mkv", model=redness_model) + "trim: {end: 0.4}\n", encoding="utf-8")
    assert vbr("render", path).code == 0
    assert len(read_video(tmp_path / "out.webm").frames) == 10


def test_a_container_duration_a_little_long_holds_the_last_frame(vbr, redness_model, tmp_path):
    """Audio 60 ms longer than the video stretches a Matroska file's duration: hold, do not fail."""
    path = make_clip(tmp_path / "long-audio.mkv", seconds=1.0, audio_seconds=1.06)
    project = tmp_path / "p.yaml"
    project.write_text(BODY.format(source=path.name, model=redness_model), encoding="utf-8")
    result = vbr("render", "--json", project)
    assert result.code == 0, result.err
    frames = read_video(tmp_path / "out.webm").frames
    assert len(frames) == result.events[-1]["frames"] >= 26
    assert [frame_index(frame) for frame in frames] == [*range(25), *[24] * (len(frames) - 25)]  # the last frame held


def test_variable_frame_rate_sources_keep_their_timestamps(vbr, redness_model, tmp_path):
    times = [0, 40, 80, 120, 300, 340, 380, 600, 640, 680, 720, 760, 1000]  # ms, with stalls
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        stream.options = {"crf": "4", "preset": "ultrafast"}
        for i, ms in enumerate(times):
            image = np.zeros((48, 64, 3), np.uint8)
            image[:16, :16] = i * 19
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    project = tmp_path / "p.yaml"
    project.write_text(BODY.format(source=path.name, model=redness_model), encoding="utf-8")
    assert vbr("render", project).code == 0
    frames = read_video(tmp_path / "out.webm").frames
    assert len(frames) == 26  # 1.04 s at a constant 25 fps
    shown = [round(frame[2:14, 2:14, :3].mean() / 19) for frame in frames]
    # Each output frame shows the source frame on screen at its time: the last one starting
    # before it (within half a frame), so a stall repeats the frame before it.
    expected = [max(i for i, ms in enumerate(times) if ms < k * 40 + 20) for k in range(26)]
    assert shown == expected


def test_sources_over_the_limits_are_refused_at_validation(vbr, redness_model, clip, tmp_path, monkeypatch):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "clip.mp4").symlink_to(clip)
    path = tmp_path / "p.yaml"
    path.write_text(BODY.format(source="media/clip.mp4", model=redness_model), encoding="utf-8")
    monkeypatch.setenv("VBR_MAX_FRAME_SIZE", "128")
    monkeypatch.setenv("VBR_MAX_DURATION", "0.5")
    result = vbr("validate", path)
    assert result.code == 2 and result.err.splitlines() == [
        f"{path}:2:9: source: 160x96 frames are larger than the limit of 128 pixels a side (VBR_MAX_FRAME_SIZE raises it)",
        f"{path}:2:9: the render would be 00:01.000 long, over the limit of 00:00.500 (trim it, or raise VBR_MAX_DURATION)",
    ]
    monkeypatch.setenv("VBR_MAX_FRAME_SIZE", "lots")
    assert vbr("validate", path).code == 2
    monkeypatch.delenv("VBR_MAX_FRAME_SIZE")
    monkeypatch.delenv("VBR_MAX_DURATION")
    assert vbr("validate", path).code == 0


# --- project files -------------------------------------------------------------------------------


def test_deep_nesting_is_a_located_error_not_a_crash():
    began = time.monotonic()
    with pytest.raises(ProjectError) as info:
        parse_project("version: 1\nsource: " + "[" * 20000 + "]" * 20000 + "\n", "p.yaml")
    assert time.monotonic() - began < 5
    assert info.value.lines()[0].startswith("p.yaml:2:")


def test_tabs_for_indentation_are_a_located_error():
    with pytest.raises(ProjectError) as info:
        parse_project("version: 1\nexport:\n\tpath: o.webm\n", "p.yaml")
    assert info.value.lines()[0].startswith("p.yaml:3:1: ")


def test_whitespace_only_file_is_an_empty_project():
    with pytest.raises(ProjectError) as info:
        parse_project("  \n\n", "p.yaml")
    assert len(info.value.lines()) == 1 and info.value.lines()[0].startswith("p.yaml:1:1: ")


def test_alias_bomb_is_refused_in_bounded_time_and_memory():
    import resource

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    with pytest.raises(ProjectError) as info:
        parse_project(bomb, "p.yaml")
    # Refused by the node count as the expansion passes 100,000 nodes (the bomb holds 10^10), so the
    # time is that of 100,000 nodes: a generous bound, since these machines are shared and noisy.
    assert "document too large (over 100000 nodes, aliases expanded)" in str(info.value)
    assert time.monotonic() - began < 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # kB: well under 200 MB


# --- faults mid-render ------------------------------------------------------------------------------


def _start(tmp_path: Path, seconds: float = 20.0) -> subprocess.Popen:
    """A real-model render of a clip long enough to be caught mid-way (subprocess: signals are real)."""
    clip = make_clip(tmp_path / "long.mp4", size=(96, 64), fps=25, seconds=seconds, audio=False)
    (tmp_path / "out.webm").write_bytes(b"an earlier render")
    path = tmp_path / "p.yaml"
    path.write_text(BODY.format(source=clip.name, model="u2netp"), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "renderer", "render", "-q", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not leftovers(tmp_path):
        time.sleep(0.05)
    assert leftovers(tmp_path), "the render never started writing"
    time.sleep(0.5)
    return proc


def test_sigterm_cleans_up_and_exits_143(tmp_path):
    proc = _start(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.strip() == "vbr: terminated"
    assert leftovers(tmp_path) == [] and (tmp_path / "out.webm").read_bytes() == b"an earlier render"


def test_sigkill_leaves_the_target_alone_and_the_next_run_cleans_up(tmp_path):
    proc = _start(tmp_path)
    proc.kill()
    proc.wait(timeout=30)
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(f".out.webm.{proc.pid}-")
    assert (tmp_path / "out.webm").read_bytes() == b"an earlier render"
    # A partial file of a render still running is left alone; a dead one's goes.
    alive = tmp_path / f".out.webm.{os.getpid()}-abcd.vbr-partial.webm"
    alive.write_bytes(b"someone else's render in progress")
    path = tmp_path / "p.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "trim: {end: 0.12}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "renderer", "render", "-q", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path) == [alive.name]
    assert len(read_video(tmp_path / "out.webm").frames) == 3


def test_a_full_disk_is_one_line_and_leaves_nothing(project, vbr, redness_model, tmp_path, monkeypatch):
    from renderer.media import encode

    calls = {"n": 0}
    real = encode.VideoWriter._mux

    def filling_up(self, packets):
        calls["n"] += 1
        if calls["n"] > 5:
            raise av.error.OSError(errno.ENOSPC, "No space left on device")
        real(self, packets)

    monkeypatch.setattr(encode.VideoWriter, "_mux", filling_up)
    path = project(BODY.format(source="media/clip.mp4", model=redness_model))
    (tmp_path / "out.webm").write_bytes(b"an earlier render")
    result = vbr("render", path)
    assert result.code == 1
    assert one_clean_line(result) == f"{tmp_path / 'out.webm'}: encoding failed (No space left on device)"
    assert leftovers(tmp_path) == [] and (tmp_path / "out.webm").read_bytes() == b"an earlier render"
    assert pipeline_threads() == []


def pipeline_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("vbr-")]


def test_an_exception_inside_a_stage_surfaces_at_once(project, vbr, redness_model, tmp_path, monkeypatch):
    from renderer.graph import stages

    calls = {"n": 0}
    real = stages.composite

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("compositor exploded")
        return real(*args, **kwargs)

    monkeypatch.setattr(stages, "composite", failing)
    path = project(BODY.format(source="media/clip.mp4", model=redness_model).replace("export:", "background: {type: color}\nexport:"))
    began = time.monotonic()
    result = vbr("render", path)
    assert time.monotonic() - began < 30
    assert result.code == 1
    assert one_clean_line(result) == "vbr: internal error: RuntimeError: compositor exploded (run with --debug for the traceback)"
    assert calls["n"] == 5 and not (tmp_path / "out.webm").exists() and leftovers(tmp_path) == []
    assert pipeline_threads() == []  # stopped before the error was reported, not at garbage collection


# --- the cache under stress ------------------------------------------------------------------------


def test_a_full_cache_warns_once_and_the_render_goes_on(project, vbr, redness_model, tmp_path, monkeypatch):
    import renderer.cache.store as store

    class FullDisk:
        @staticmethod
        def mkstemp(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "tempfile", FullDisk)
    path = project(BODY.format(source="media/clip.mp4", model=redness_model))
    result = vbr("render", "-q", path)
    assert result.code == 0
    warnings = result.err.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("vbr: warning: cannot write to the cache at ")
    assert warnings[0].endswith("(No space left on device); continuing without caching")
    assert len(read_video(tmp_path / "out.webm").frames) == 25


def test_two_renders_of_one_project_share_a_cache_safely(tmp_path, isolated_cache):
    make_clip(tmp_path / "clip.mp4", size=(64, 48), fps=10, seconds=0.8, audio=False)
    path = tmp_path / "p.yaml"
    path.write_text(BODY.format(source="clip.mp4", model="u2netp"), encoding="utf-8")
    command = [sys.executable, "-m", "renderer", "render", "--json", "--threads", "1", str(path)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    keys = {line for out, _ in results for line in out.splitlines() if '"event":"done"' in line and '"graph_key"' in line}
    assert len({line.split('"graph_key":"')[1][:64] for line in keys}) == 1
    output = sha(tmp_path / "out.webm")
    entries = [p for p in (isolated_cache / "masks-v1").rglob("*") if p.is_file()]
    store = Store(isolated_cache, "masks")
    assert len(entries) == 8 and all(store.get(p.parent.name + p.name) for p in entries) and store.discarded == 0
    assert leftovers(tmp_path) == [] and not [p for p in isolated_cache.rglob("*.vbr-tmp")]
    # Rendering again from the shared cache gives the same bytes.
    again = subprocess.run([*command, "--force"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and '"inferred_frames":0' in again.stdout
    assert sha(tmp_path / "out.webm") == output


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGINT, 130, "vbr: interrupted"), (signal.SIGTERM, 143, "vbr: terminated")])
def test_a_stopped_parallel_batch_cleans_up_and_keeps_its_manifest(tmp_path, signum, code, said):
    make_clip(tmp_path / "long.mp4", size=(96, 64), fps=25, seconds=20, audio=False)
    (tmp_path / "t.yaml").write_text(
        "version: 1\nvars: {name: {type: string}}\nsource: long.mp4\nmodel: {name: u2netp, dedup_threshold: 0}\n"
        'export: {path: "out/${name}.webm"}\n',
        encoding="utf-8",
    )
    (tmp_path / "rows.csv").write_text("name\na\nb\nc\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "renderer", "batch", "-j", "2", str(tmp_path / "t.yaml"), str(tmp_path / "rows.csv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal would deliver it
    )
    out = tmp_path / "out"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and leftovers(out)):
        time.sleep(0.05)
    assert out.is_dir() and leftovers(out), "the batch never started writing"
    time.sleep(0.5)
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C reaches the whole process group
    else:
        proc.send_signal(signum)  # a supervisor stops the batch process alone; it stops its workers
    began = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - began < 20
    assert proc.returncode == code and err.strip().endswith(said)
    assert leftovers(out) == [] and list(out.glob("*.webm")) == []
    manifest = (tmp_path / "batch-manifest.json").read_text(encoding="utf-8")
    assert '"rendered": 0' in manifest
