"""`python -m renderer.bench long`: a 5-minute 1080p30 render to MP4 and to transparent WebM, in flat memory.

The source is made in code (renderer.media.synthetic: a red disc moving over a
grainy textured field, stereo AAC) and kept in the work folder between runs,
named by its parameters. The model is a tiny ONNX stand-in built in code
(renderer.bench.standin, which needs `onnx`, in the `dev` extra), given to the
project as a custom model, so the whole pipeline runs (decode, matte stage and
mask cache, refine, composite, encode, audio) and the model is not the floor.
Dedup is off: every frame is inferred and cached.

Each output is a cold render (a fresh, empty mask cache) in a fresh process at
`quality: draft`, whose resident memory is sampled every 0.5 s. Reported per
output: frames, seconds, fps, peak RSS (the kernel's high-water mark), RSS
around 10 %, 50 % and 90 % of the frames (the highest sample within 5 % of
frames either side) and the growth from 10 % to 90 %, against the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from renderer.bench import print_results

SIZE, FPS = (1920, 1080), 30
QUICK_SIZE, QUICK_SECONDS = (320, 180), 2.0
MODEL_SIZE = 64
SOURCE_VERSION = 1  # bump when renderer.media.synthetic draws other pictures
PEAK_TARGET_MB = 1000.0
GROWTH_TARGET_PERCENT = 5.0
MARKS = (10, 50, 90)  # percent of frames
WINDOW = 5  # percent of frames either side of a mark whose samples count for it
SAMPLE_SECONDS = 0.5

PROJECT = """version: 1
source: {source}
model: {{path: {model}, input_size: {size}, activation: sigmoid, dedup_threshold: 0}}
background: {background}
export: {{path: {output}, quality: draft}}
"""
# Output format -> background: an opaque MP4 over a colour, a WebM with alpha.
OUTPUTS = {"mp4": '{type: color, color: "#204080"}', "webm": "{type: transparent}"}


def source_clip(work: Path, size: tuple[int, int], seconds: float) -> Path:
    """The made-up source, written once per set of parameters and reused."""
    from renderer.media.synthetic import write_moving_subject

    width, height = size
    path = work / f"source-{width}x{height}-{FPS}fps-{seconds:g}s-v{SOURCE_VERSION}.mp4"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        write_moving_subject(path, width=width, height=height, fps=FPS, seconds=seconds)
    return path


def measure(work: Path, size: tuple[int, int], seconds: float) -> dict[str, Any]:
    from renderer.bench.standin import build_redness_model

    began = time.perf_counter()
    source = source_clip(work, size, seconds)
    results: dict[str, Any] = {
        "source": f"{size[0]}x{size[1]} {FPS} fps, {seconds:g} s",
        "source_mb": round(source.stat().st_size / 1e6, 1),
        "source_seconds": round(time.perf_counter() - began, 1),  # 0 when it was made by an earlier run
    }
    with tempfile.TemporaryDirectory(prefix="vbr-bench-long-", dir=work) as tmp:
        run = Path(tmp)
        model = build_redness_model(run / "standin.onnx", MODEL_SIZE)
        for fmt, background in OUTPUTS.items():
            project = run / f"{fmt}.yaml"
            output = run / f"long.{fmt}"
            project.write_text(
                PROJECT.format(source=source, model=model, size=MODEL_SIZE, background=background, output=output), encoding="utf-8"
            )
            report = _in_child(project, run / f"cache-{fmt}")
            report["output_mb"] = round(output.stat().st_size / 1e6, 1)
            output.unlink()  # minutes of 1080p: not kept
            results.update({f"{fmt}_{key}": value for key, value in report.items()})
            shutil.rmtree(run / f"cache-{fmt}", ignore_errors=True)
    return results


def _in_child(project: Path, cache: Path) -> dict[str, Any]:
    """One cold render in a fresh process: its memory is the render's own, not earlier renders'."""
    child = subprocess.run(
        [sys.executable, "-m", "renderer.bench", "long", "--child", str(project), str(cache)],
        capture_output=True, text=True, check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the long render failed: {child.stderr.strip()}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS: now, VmHWM: the peak), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no {field} in /proc/self/status")


class Sampler:
    """RSS every SAMPLE_SECONDS, and at each progress event that crosses a mark, with the fraction of frames done."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (percent of frames done, RSS MB)
        self.done = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vbr-bench-rss", daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.samples.append((self.done, _status_mb("VmRSS")))

    def on_event(self, event: Any) -> None:
        from renderer.events import Progress

        if isinstance(event, Progress) and event.frames:
            before, self.done = self.done, 100 * event.frames_done / event.frames
            if any(before < mark <= self.done for mark in MARKS):
                self.samples.append((self.done, _status_mb("VmRSS")))

    def at(self, mark: int) -> float:
        """The highest RSS sampled within WINDOW percent of frames of `mark` (the crossing's own sample is one)."""
        return max(rss for done, rss in self.samples if abs(done - mark) <= WINDOW)


def render_child(project: str, cache: str) -> dict[str, Any]:
    import renderer.api as api

    compiled = api.compile(project, options=api.Options(cache_dir=cache))
    load = os.getloadavg()[0]
    with Sampler() as sampler:
        began = time.perf_counter()
        done = api.render(compiled, sampler.on_event, force=True)
        seconds = time.perf_counter() - began
    # The kernel's high-water mark lags its per-thread counters a little: no lower than any sample.
    peak = max(_status_mb("VmHWM"), *(rss for _, rss in sampler.samples))
    at = {mark: sampler.at(mark) for mark in MARKS}
    growth = 100 * (at[90] - at[10]) / at[10]
    return {
        "frames": done.frames,
        "inferred_frames": done.inferred_frames,
        "seconds": round(seconds, 1),
        "fps": round(done.frames / seconds, 2),
        "load_average": round(load, 2),  # the machine's 1-minute load when the render started
        "peak_rss_mb": round(peak, 1),
        **{f"rss_mb_at_{mark}": round(at[mark], 1) for mark in MARKS},
        "growth_10_to_90_percent": round(growth, 2),
        "rss_samples": len(sampler.samples),
        "peak_under_1gb": peak < PEAK_TARGET_MB,
        "growth_under_5_percent": growth < GROWTH_TARGET_PERCENT,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench long", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s at {QUICK_SIZE[0]}x{QUICK_SIZE[1]}: proves it runs")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the 1080p source (default 5)")
    parser.add_argument("--work", metavar="DIR", default=str(Path(tempfile.gettempdir()) / "vbr-bench-long"),
                        help="where the made-up source is kept between runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--child", nargs=2, metavar=("PROJECT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(render_child(*args.child)))
        return 0
    if args.minutes <= 0:
        parser.error("--minutes must be more than 0")
    size, seconds = (QUICK_SIZE, QUICK_SECONDS) if args.quick else (SIZE, args.minutes * 60)
    print_results(measure(Path(args.work), size, seconds), args.json)
    return 0
