"""The installed command as a user runs it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from renderer import __version__


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "renderer", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"vbr {__version__}"


def test_usage_errors_exit_2():
    result = run("render")
    assert result.returncode == 2
    assert "the following arguments are required: PROJECT" in result.stderr
    assert "Traceback" not in result.stderr
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2


def test_broken_project_prints_positions_and_exits_2(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nsource: missing.mp4\nexport:\n  path: out.webm\n  fps: fast\n", encoding="utf-8")
    result = run("render", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{path}:5:8: export.fps: 'fast' is not one of: original, 30, 24, 15"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.webm").exists()


def test_debug_shows_the_traceback_for_unexpected_errors(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("source: x\n", encoding="utf-8")
    result = run("--debug", "render", str(path))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_ctrl_c_exits_130_and_leaves_nothing_behind(tmp_path: Path):
    import signal
    import time

    bunny = Path(__file__).resolve().parent.parent / "projects" / "media" / "bigbuckbunny-720p.mp4"
    (tmp_path / "out.webm").write_bytes(b"earlier render")
    path = tmp_path / "p.yaml"
    path.write_text(f"source: {bunny}\nmodel: {{name: u2netp, dedup_threshold: 0}}\nexport: {{path: out.webm}}\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "renderer", "render", "-q", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As a terminal delivers it: a shell's background job (`.ci/run &`) starts with SIGINT
        # ignored, which children inherit, and Python then never turns it into KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(".vbr-partial" in p.name for p in tmp_path.iterdir()):
        time.sleep(0.05)
    assert any(".vbr-partial" in p.name for p in tmp_path.iterdir()), "render never started writing"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "vbr: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webm", "p.yaml"]
    assert (tmp_path / "out.webm").read_bytes() == b"earlier render"


def run_into_closed_pipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run vbr with its stdout a pipe whose reader has already gone (`vbr ... | head -c 0`)."""
    import os

    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "renderer", *args], stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120,
            env={**os.environ, **(env or {})},
        )
    finally:
        os.close(writer)


def test_a_closed_stdout_is_a_quiet_exit_141_for_every_command(tmp_path: Path):
    from helpers import make_clip

    make_clip(tmp_path / "clip.mp4", size=(64, 48), seconds=0.2, audio=False)
    path = tmp_path / "p.yaml"
    path.write_text("source: clip.mp4\nbackground: {type: color}\nexport: {path: out/o.mp4}\n", encoding="utf-8")
    cache = {"VBR_CACHE_DIR": str(tmp_path / "cache")}
    commands = [
        ("models", "list", "--json"), ("models", "list"), ("models", "path", "birefnet"), ("schema",),
        ("validate", str(path)), ("plan", str(path), "--json"), ("plan", str(path)), ("cache", "info", "--json"),
        ("render", str(path), "--json"),
    ]
    for command in commands:
        result = run_into_closed_pipe(*command, env=cache)
        assert (result.returncode, result.stderr) == (141, ""), command
    # The render's first event could not be written: it stopped there, and left nothing behind.
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    # Errors still go to stderr, with their own exit code.
    result = run_into_closed_pipe("validate", str(tmp_path / "missing.yaml"))
    assert (result.returncode, result.stderr) == (2, f"{tmp_path / 'missing.yaml'}: no such file\n")
