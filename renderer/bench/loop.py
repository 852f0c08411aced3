"""`python -m renderer.bench loop`: vbr against the plain frame loop a script would be, on the sample.

The plain loop is what a user writes with PyAV and onnxruntime and the same
weights: decode every frame, scale it to 320x320 RGB, run the float `u2netp`
(renderer's `Matter`, on every usable core as vbr's default), scale the mask to
the frame's size (bilinear), put it in as straight alpha and encode a
transparent WebM (VP9 `yuva420p`) through vbr's own VideoWriter at the export's
quality (`standard`, the default), so codec options and threads are the same
and only the pipeline differs. No dedup, no cache, no keyframes, no temporal filter, no
threads of its own, and no audio: it writes none, while vbr's default export
copies the sample's sound into Opus (work only vbr does).

Against it, cold vbr renders of the same clip to the same output (its default
export: a transparent WebM at the source's size) with an empty cache each:
the defaults (u2netp), `u2netp-int8`, `keyframes: 2`, and both. Every run,
the loop included, is one fresh process whose imports are done before the
clock starts; the time covers compiling the project (vbr) or creating the
model session (loop) through the finished file. CPU seconds are the process's
user + system time over the same span, all threads together (getrusage in the
child): the machine may be shared, and CPU time is inflated far less than wall
time by other work. `loop_over_vbr_*` is loop seconds / vbr seconds: how many
times faster vbr is (`_cpu`: the same in CPU seconds). With `--rounds N` the
runs take turns and each one's fastest time (and, apart, its least CPU) is kept.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from renderer.bench import SAMPLE, print_results

# vbr runs: name -> the project's model line (empty: the defaults).
VBR_RUNS = {
    "defaults": "",
    "int8": "model: {name: u2netp-int8}\n",
    "keyframes2": "model: {keyframes: 2}\n",
    "int8_keyframes2": "model: {name: u2netp-int8, keyframes: 2}\n",
}
LOOP_MODEL = "u2netp"
# --quick: 5 frames at the smallest preset and draft quality (both sides alike): 10 frames took
# 37-54 s in all on 2 cores at a load of 4, over the test's minute; the model dominates (~1 s a frame then).
QUICK_SECONDS, QUICK_RESOLUTION, QUICK_QUALITY = 0.2, "480p", "draft"


def project_text(source: Path, output: Path, model: str, quick: bool) -> str:
    """A vbr project with the default export (a transparent WebM); --quick trims it and makes it small."""
    if not quick:
        return f"version: 1\nsource: {source}\n{model}export: {{path: {output}}}\n"
    return (
        f"version: 1\nsource: {source}\n{model}trim: {{start: 0, end: {QUICK_SECONDS}}}\n"
        f"export: {{path: {output}, resolution: {QUICK_RESOLUTION}, quality: {QUICK_QUALITY}}}\n"
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain_loop(source: Path, output: Path, width: int, height: int, fps: Fraction, frames: int, quality: str = "standard") -> int:
    """Decode, infer, composite, encode, one frame after the other: the naive script. Returns frames written."""
    from renderer.compose.composite import composite
    from renderer.matting.registry import get_model
    from renderer.matting.session import Matter
    from renderer.media.decode import decode_video
    from renderer.media.encode import VideoSettings, VideoWriter
    from renderer.media.scale import scale_plane

    spec = get_model(LOOP_MODEL)
    matter = Matter(spec)  # threads: every usable core, as a vbr render without --threads
    model_w, model_h = spec.input_size
    written = 0
    with VideoWriter(output, VideoSettings("webm", width, height, fps, alpha=True, quality=quality)) as writer:
        for frame in decode_video(source):
            if written == frames:
                break
            mask = matter(frame.rgb(model_w, model_h))
            rgba = composite(frame.rgb(width, height), scale_plane(mask, width, height), None)
            writer.write(rgba)
            written += 1
        writer.commit()
    return written


def _loop_child(job: dict[str, Any]) -> dict[str, Any]:
    import onnxruntime  # noqa: F401  (imports before the clock, as in vbr's child)

    import renderer.compose.composite  # noqa: F401
    import renderer.matting.session  # noqa: F401
    import renderer.media.decode  # noqa: F401
    import renderer.media.encode  # noqa: F401

    began, cpu = time.perf_counter(), _cpu_seconds()
    frames = plain_loop(
        Path(job["source"]), Path(job["output"]), job["width"], job["height"], Fraction(job["fps"]), job["frames"],
        job["quality"],
    )
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "frames": frames, "inferred_frames": frames}


def _vbr_child(job: dict[str, Any]) -> dict[str, Any]:
    import onnxruntime  # noqa: F401  (imports before the clock, as in the loop's child)

    import renderer.api as api
    import renderer.graph.compile  # noqa: F401
    import renderer.graph.execute  # noqa: F401
    import renderer.matting.session  # noqa: F401

    began, cpu = time.perf_counter(), _cpu_seconds()
    compiled = api.compile(job["project"], options=api.Options(cache_dir=job["cache"]))
    done = api.render(compiled, force=True)
    return {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": _cpu_seconds() - cpu,
        "frames": done.frames,
        "inferred_frames": done.inferred_frames,
        "reused_frames": done.reused_frames,
    }


def _in_child(job: dict[str, Any]) -> dict[str, Any]:
    """One run in a fresh process: no session, import or cache carries over from an earlier one."""
    child = subprocess.run(
        [sys.executable, "-m", "renderer.bench", "loop", "--child", json.dumps(job)],
        capture_output=True, text=True, check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the {job['kind']} run failed: {child.stderr.strip()}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def measure(work: Path, quick: bool, rounds: int, source: Path = SAMPLE) -> dict[str, Any]:
    import renderer.api as api

    jobs: dict[str, dict[str, Any]] = {}
    for name, model in VBR_RUNS.items():
        project = work / f"vbr-{name}.yaml"
        project.write_text(project_text(source, work / f"vbr-{name}.webm", model, quick), encoding="utf-8")
        jobs[f"vbr_{name}"] = {"kind": "vbr", "project": str(project), "cache": str(work / f"cache-{name}")}
    # The loop writes what the default vbr render writes: its size, rate and frame count.
    graph = api.compile(jobs["vbr_defaults"]["project"], options=api.Options(cache_dir=work / "cache-plan")).graph
    shutil.rmtree(work / "cache-plan", ignore_errors=True)
    loop = {
        "kind": "loop", "source": str(source), "output": str(work / "loop.webm"),
        "width": graph.width, "height": graph.height, "fps": str(graph.fps), "frames": graph.timeline.frames,
        "quality": graph.quality,
    }
    jobs = {"loop": loop, **jobs}
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for name, job in jobs.items():
            if job["kind"] == "vbr":
                shutil.rmtree(job["cache"], ignore_errors=True)  # cold: an empty cache every time
            result = _in_child(job)
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
            best[name]["cpu_seconds"] = min(result["cpu_seconds"], best[name]["cpu_seconds"])
    results: dict[str, Any] = {
        "clip": f"{source.name}, {f'first {QUICK_SECONDS:g} s' if quick else 'whole'}, "
        f"{graph.width}x{graph.height}, {graph.quality}",
        "frames": loop["frames"],
        "rounds": rounds,
    }
    for name, run in best.items():
        if run["frames"] != loop["frames"]:
            raise RuntimeError(f"{name} wrote {run['frames']} frames, the loop {loop['frames']}")
        results.update({
            f"{name}_seconds": round(run["seconds"], 3),
            f"{name}_fps": round(run["frames"] / run["seconds"], 2),
            f"{name}_cpu_seconds": round(run["cpu_seconds"], 2),
            f"{name}_inferred_frames": run["inferred_frames"],
        })
    for name in VBR_RUNS:
        results[f"loop_over_vbr_{name}"] = round(best["loop"]["seconds"] / best[f"vbr_{name}"]["seconds"], 2)
    for name in VBR_RUNS:
        results[f"loop_over_vbr_{name}_cpu"] = round(best["loop"]["cpu_seconds"] / best[f"vbr_{name}"]["cpu_seconds"], 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench loop", description=__doc__.splitlines()[0])
    quick = f"the first {QUICK_SECONDS:g} s at {QUICK_RESOLUTION}, {QUICK_QUALITY}: proves it runs (the tests do this)"
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each, taking turns; the fastest kept (default 1)")
    parser.add_argument("--out", metavar="DIR", help="keep the projects and outputs (loop.webm, vbr-*.webm) in DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--child", metavar="JOB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        job = json.loads(args.child)
        print(json.dumps(_loop_child(job) if job["kind"] == "loop" else _vbr_child(job)))
        return 0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.out:
        work = Path(args.out)
        work.mkdir(parents=True, exist_ok=True)
        print_results(measure(work, args.quick, args.rounds), args.json)
        return 0
    with tempfile.TemporaryDirectory(prefix="vbr-bench-loop-") as tmp:
        print_results(measure(Path(tmp), args.quick, args.rounds), args.json)
    return 0
