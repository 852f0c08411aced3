"""Same bytes whatever the load: renders beside busy processes, with cold, warm and damaged caches.

These run the CLI in subprocesses (a crash must not take pytest down) on the
real sample footage at 1280x720, with the tiny test model so inference is fast
and the matte thread runs far ahead of compositing: the situation in which a
frame shared between threads used to be converted by two of them at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from helpers import read_audio, read_video

ROOT = Path(__file__).resolve().parent.parent
BUNNY = ROOT / "projects" / "media" / "bigbuckbunny-720p.mp4"
BUSY = 3  # CPU-bound processes beside each render under load (the machine has 2 cores)
FRAMES = 20  # 0.8 s of the 25 fps sample

EXPORTS = {
    "mp4-audio": "background: {type: color, color: '#000000'}\nexport: {path: out.mp4, resolution: 480p, audio: true}\n",
    "webm-alpha": "background: {type: transparent}\nexport: {path: out.webm, resolution: 480p, audio: true}\n",
}


@contextmanager
def under_load() -> Iterator[None]:
    """CPU-bound processes competing with whatever runs inside; each stops by itself within four minutes."""
    spin = "import time\nend = time.monotonic() + 240\nwhile time.monotonic() < end:\n    pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(BUSY)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _project(tmp_path: Path, model: Path, export: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"version: 1\nsource: {BUNNY}\ntrim: {{start: 0, end: {FRAMES / 25}}}\n"
        f"model: {{path: {model}, input_size: 64, activation: sigmoid}}\n{export}",
        encoding="utf-8",
    )
    return path


def _command(project: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "renderer", "render", "--json", "--force", "--cache-dir", str(cache), str(project)]


def _render(project: Path, cache: Path) -> tuple[str, dict]:
    """(sha256 of the output, the done event); fails the test on any exit but 0, a SIGSEGV included."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    result = subprocess.run(_command(project, cache), capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-3000:]}"
    done = json.loads(result.stdout.strip().splitlines()[-1])
    return hashlib.sha256(Path(done["output"]).read_bytes()).hexdigest(), done


def _entries(cache: Path, namespace: str) -> list[Path]:
    return sorted(p for p in (cache / f"{namespace}-v1").rglob("*") if p.is_file())


def _damage(cache: Path) -> None:
    """Every dedup chain and one mask truncated: decisions are remade, one mask is inferred again."""
    for entry in _entries(cache, "chains"):
        entry.write_bytes(entry.read_bytes()[:7])
    masks = _entries(cache, "masks")
    masks[len(masks) // 2].write_bytes(masks[len(masks) // 2].read_bytes()[:7])


# Two threads convert one decoded frame at once, at the sizes the matte and compose stages ask for.
_SHARED_FRAME_SCRIPT = """
import sys, threading
from fractions import Fraction
from pathlib import Path
import numpy as np
from renderer.media.decode import decode_video
frames = [f for _, f in zip(range(3), decode_video(Path(sys.argv[1]), Fraction(0)))]
sizes = [(320, 320, True), (854, 480, False), (64, 64, True)]
expected = {(i, s): frames[i].rgb(s[0], s[1], downscale=s[2]) for i in range(3) for s in sizes}
bad = []
def work(offset):
    for n in range(60):
        i, size = n % 3, sizes[(n + offset) % 3]
        if not np.array_equal(frames[i].rgb(size[0], size[1], downscale=size[2]), expected[i, size]):
            bad.append((i, size))
threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(bad))
"""


def test_one_frame_converted_by_several_threads_at_once_gives_the_same_pixels():
    result = subprocess.run(
        [sys.executable, "-c", _SHARED_FRAME_SCRIPT, str(BUNNY)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"}, cwd=ROOT,
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.strip() == "0", "conversions racing on one frame gave other pixels"


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_same_bytes_under_load_cold_warm_and_damaged(export, tmp_path, redness_model_file):
    project = _project(tmp_path, redness_model_file, EXPORTS[export])
    reference, done = _render(project, tmp_path / "quiet")  # cold, before any load
    assert done["frames"] == FRAMES and done["inferred_frames"] > 0
    output = Path(done["output"])
    video = read_video(output)
    assert len(video.frames) == FRAMES and video.has_alpha == (export == "webm-alpha")
    sound = read_audio(output)
    assert sound is not None and abs(sound.seconds - FRAMES / 25) <= 0.03

    cache = tmp_path / "loaded"
    with under_load():
        digest, done = _render(project, cache)
        assert digest == reference, "cold render under load differs"
        digest, done = _render(project, cache)
        assert digest == reference and done["inferred_frames"] == 0, "warm render under load differs"
        for trial in range(2):
            _damage(cache)
            digest, done = _render(project, cache)
            assert done["inferred_frames"] == 1
            assert digest == reference, f"render from a damaged cache under load differs (trial {trial})"


def test_a_render_after_a_sigkilled_one_completes_with_the_same_bytes(tmp_path, redness_model_file):
    """A killed render leaves masks but not its segment's dedup chain; the next one remakes the decisions.

    That is the path on which the matte thread thumbnails a reference frame the
    compose thread is already scaling (it used to end in SIGSEGV, exit 139).
    """
    project = _project(tmp_path, redness_model_file, EXPORTS["mp4-audio"])
    reference, _ = _render(project, tmp_path / "quiet")
    with under_load():
        for trial in range(2):
            cache = tmp_path / f"killed{trial}"
            proc = subprocess.Popen(_command(project, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and len(_entries(cache, "masks")) < FRAMES // 2:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            assert proc.returncode == -signal.SIGKILL, "the render finished before it could be killed"
            assert _entries(cache, "masks") and not _entries(cache, "chains")
            digest, done = _render(project, cache)
            assert digest == reference, f"render after a SIGKILL differs (trial {trial})"
            assert done["cached_frames"] > 0
