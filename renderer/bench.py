"""`python -m renderer.bench`: cold vs warm renders vs the codec floor, measured in one run.

On the sample clip (its first 3 s, dedup off, MP4 at 480p, a colour
background): a cold render with an empty cache, a warm render with only the
background colour changed, and the codec floor (decoding the same frames and
encoding them with the same settings, nothing else). Ratios are what matter:
absolute seconds depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parent.parent / "projects" / "media" / "bigbuckbunny-720p.mp4"

PROJECT = """version: 1
source: {source}
model: {{name: u2netp, dedup_threshold: 0}}
trim: {{start: 0, end: {seconds}}}
background: {{type: color, color: "{color}"}}
export: {{path: {output}, resolution: 480p}}
"""


def _render(project: Path, cache: Path) -> tuple[float, Any]:
    from renderer.cli.common import compile_file
    from renderer.graph.execute import render

    began = time.perf_counter()
    _, graph = compile_file(str(project), cache, lambda message: None)
    done = render(graph, cache_root=cache, force=True)
    return time.perf_counter() - began, done


def _codec_floor(graph: Any) -> float:
    """Decode the same frames and encode them with the same settings: the floor a warm render approaches."""
    from renderer.graph.timeline import select_frames
    from renderer.media.decode import decode_video
    from renderer.media.audio import audio_blocks
    from renderer.media.encode import VideoSettings, VideoWriter

    timeline = graph.timeline
    began = time.perf_counter()
    video = VideoSettings(graph.format, graph.width, graph.height, graph.fps, graph.alpha)
    sound = graph.audio
    audio = audio_blocks(Path(sound.path), sound.start, sound.layout) if sound else None
    frames = decode_video(Path(timeline.decode.path), timeline.decode.start)
    with VideoWriter(Path(graph.path).with_name("floor.mp4"), video, audio, sound.layout if sound else None) as writer:
        for frame, repeats in select_frames(frames, timeline.start, timeline.fps, timeline.frames, timeline.source_fps):
            rgb = frame.rgb(graph.width, graph.height)
            for _ in range(repeats):
                writer.write(rgb)
        writer.commit()
    return time.perf_counter() - began


def _inference_ms(graph: Any, frames: int) -> float:
    """The model alone, in-process, on the clip's own frames (session created beforehand)."""
    from renderer.matting.session import Matter
    from renderer.media.decode import decode_video

    from renderer.graph.nodes import Matte

    matte = graph.find(Matte)
    width, height = matte.model.input_size
    inputs = []
    for frame in decode_video(Path(graph.timeline.decode.path), Fraction(0)):
        inputs.append(frame.rgb(width, height, downscale=True))
        if len(inputs) == frames:
            break
    run = Matter(matte.model)
    run(inputs[0])  # first run pays one-off allocations
    began = time.perf_counter()
    for rgb in inputs:
        run(rgb)
    return (time.perf_counter() - began) * 1000 / len(inputs)


def measure(seconds: float, source: Path = SAMPLE) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vbr-bench-") as tmp:
        work = Path(tmp)
        cache = work / "cache"
        project = work / "bench.yaml"
        output = work / "out.mp4"
        project.write_text(PROJECT.format(source=source, seconds=seconds, color="#204080", output=output), encoding="utf-8")
        cold, cold_done = _render(project, cache)
        project.write_text(PROJECT.format(source=source, seconds=seconds, color="#c03030", output=output), encoding="utf-8")
        warm, warm_done = _render(project, cache)
        from renderer.cli.common import compile_file

        _, graph = compile_file(str(project), cache, lambda message: None)
        floor = _codec_floor(graph)
        inference = _inference_ms(graph, min(10, cold_done.inferred_frames))
    expected_cold = cold_done.inferred_frames * inference / 1000 + floor
    return {
        "clip_seconds": seconds,
        "frames": cold_done.frames,
        "inferred_frames": cold_done.inferred_frames,
        "warm_inferred_frames": warm_done.inferred_frames,
        "inference_ms_per_frame": round(inference, 1),
        "cold_seconds": round(cold, 3),
        "warm_seconds": round(warm, 3),
        "codec_floor_seconds": round(floor, 3),
        "cold_over_warm": round(cold / warm, 2),
        "warm_over_floor": round(warm / floor, 2),
        "cold_over_floor": round(cold / expected_cold, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few frames only: proves the benchmark runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = measure(0.4 if args.quick else 3.0)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
