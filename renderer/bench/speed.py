"""`python -m renderer.bench [speed]`: cold vs warm renders vs the codec floor, and memory, in one run.

On the sample clip (its first 3 s, dedup off, MP4 at 480p, a colour
background): a cold render with an empty cache, a warm render with only the
background colour changed, and the codec floor (decoding the same frames and
encoding them with the same settings and the same threads, nothing else).
Warm 720p renders time the matte stages after the cache, and a video
background (the sample behind itself) against a colour.
The int8 model against the float one: each alone on the same frames with
the same threads, timed in turns (int8_speedup), a cold render with each, and
each one's IoU against the quality benchmark's ground truth (int8_iou_delta).
Peak memory is measured in child processes, each a cold render with default
settings: of the clip, and of a clip ten times as long (the sample looped by
remuxing, no re-encode). Ratios are what matter: absolute seconds depend on
the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from renderer.bench import SAMPLE, print_results

PROJECT = """version: 1
source: {source}
model: {{name: {model}, dedup_threshold: 0{temporal}}}
trim: {{start: 0, end: {seconds}}}
background: {background}
export: {{path: {output}, resolution: {resolution}}}
{matte}"""

# The matte stages after the cache (issue 12), timed in warm 720p renders against none of them.
MATTE_STAGES = {
    "plain": (", temporal: off", "matte: {refine: bilinear, foreground: source}\n"),
    "defaults": ("", ""),
    "all": ("", "matte: {refine: guided, foreground: estimate, black: 0.02, white: 0.98, choke: 1, feather: 1}\n"),
}


# A video background for the warm 720p renders: the sample behind itself, from 3 s, so it loops once.
VIDEO_BACKGROUND = "{{type: video, video: {source}, start: 3}}"


def project_text(
    source: Path, seconds: float, color: str, output: Path, resolution: str = "480p", stages: str = "defaults",
    background: str | None = None, model: str = "u2netp",
) -> str:
    temporal, matte = MATTE_STAGES[stages]
    return PROJECT.format(
        source=source, seconds=seconds, output=output, resolution=resolution, temporal=temporal, matte=matte, model=model,
        background=background or f'{{type: color, color: "{color}"}}',
    )


def _render(project: Path, cache: Path) -> tuple[float, Any]:
    import renderer.api as api
    from renderer.graph.execute import render

    began = time.perf_counter()
    graph = api.compile(project, options=api.Options(cache_dir=cache)).graph
    done = render(graph, cache_root=cache, force=True)
    return time.perf_counter() - began, done


def _codec_floor(graph: Any) -> float:
    """Decode the same frames and encode them with the same settings: the floor a warm render approaches."""
    from renderer.graph.execute import QUEUE_FRAMES
    from renderer.graph.prefetch import prefetch
    from renderer.graph.timeline import select_frames
    from renderer.media.decode import decode_video
    from renderer.media.audio import audio_blocks
    from renderer.media.encode import VideoSettings, VideoWriter

    timeline = graph.timeline
    began = time.perf_counter()
    video = VideoSettings(graph.format, graph.width, graph.height, graph.fps, graph.alpha, graph.quality)
    sound = graph.audio
    audio = audio_blocks(Path(sound.path), sound.start, sound.layout) if sound else None
    # A render's codec threads: decoding ahead, conversion ahead of the encoder.
    frames = prefetch(decode_video(Path(timeline.decode.path), timeline.decode.start), QUEUE_FRAMES, "decode")
    selected = select_frames(frames, timeline.start, timeline.fps, timeline.frames, timeline.source_fps)
    converted = prefetch(((frame.rgb(graph.width, graph.height), repeats) for frame, repeats in selected), QUEUE_FRAMES, "frames")
    with VideoWriter(Path(graph.path).with_name("floor.mp4"), video, audio, sound.layout if sound else None) as writer:
        for rgb, repeats in converted:
            for _ in range(repeats):
                writer.write(rgb)
        writer.commit()
    return time.perf_counter() - began


def _model_inputs(graph: Any, frames: int) -> list[Any]:
    """The clip's first frames at the model's size, as the matte stage makes them."""
    from renderer.graph.nodes import Matte
    from renderer.media.decode import decode_video

    width, height = graph.find(Matte).model.input_size
    inputs = []
    for frame in decode_video(Path(graph.timeline.decode.path), Fraction(0)):
        inputs.append(frame.rgb(width, height))
        if len(inputs) == frames:
            break
    return inputs


def _inference_ms(graph: Any, frames: int) -> float:
    """The model alone, in-process, on the clip's own frames (session created beforehand)."""
    from renderer.graph.nodes import Matte
    from renderer.matting.session import Matter

    inputs = _model_inputs(graph, frames)
    run = Matter(graph.find(Matte).model)
    run(inputs[0])  # first run pays one-off allocations
    return _ms_per_frame(run, inputs)


def _ms_per_frame(run: Any, inputs: list[Any]) -> float:
    began = time.perf_counter()
    for rgb in inputs:
        run(rgb)
    return (time.perf_counter() - began) * 1000 / len(inputs)


def _int8_cost(graph: Any, frames: int, rounds: int, truth_frames: int) -> dict[str, Any]:
    """u2netp against u2netp-int8: the same frames, the same threads, timed in turns (the faster of each kept).

    Quality is scored against the quality benchmark's ground truth (its made-up
    subjects over sample frames, drawn at the model's size): each model's IoU
    with the true alpha; int8_iou_delta is int8's minus float's.
    """
    from renderer.bench.groundtruth import default_shots, make_clip
    from renderer.bench.metrics import iou
    from renderer.matting.registry import get_model
    from renderer.matting.session import Matter

    inputs = _model_inputs(graph, frames)
    runs = {name: Matter(get_model(name)) for name in ("u2netp", "u2netp-int8")}
    times: dict[str, float] = {}
    for run in runs.values():
        run(inputs[0])
    for _ in range(rounds):
        for name, run in runs.items():
            took = _ms_per_frame(run, inputs)
            times[name] = min(took, times.get(name, took))
    width, height = runs["u2netp"].spec.input_size
    made, truth = make_clip(default_shots(truth_frames), lambda shot, i: inputs[(shot * 3 + i) % len(inputs)], width, height)
    scores = {
        name: sum(iou(run(rgb).astype(float) / 255, truth.alpha[i]) for i, rgb in enumerate(made)) / len(made)
        for name, run in runs.items()
    }
    return {
        "int8_inference_ms_per_frame": round(times["u2netp-int8"], 1),
        "float_inference_ms_per_frame_same_run": round(times["u2netp"], 1),
        "int8_speedup": round(times["u2netp"] / times["u2netp-int8"], 2),
        "float_iou_vs_truth": round(scores["u2netp"], 4),
        "int8_iou_vs_truth": round(scores["u2netp-int8"], 4),
        "int8_iou_delta": round(scores["u2netp-int8"] - scores["u2netp"], 4),
    }


def measure(seconds: float, source: Path = SAMPLE, truth_frames: int = 16) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vbr-bench-") as tmp:
        work = Path(tmp)
        cache = work / "cache"
        project = work / "bench.yaml"
        output = work / "out.mp4"
        project.write_text(project_text(source, seconds, "#204080", output), encoding="utf-8")
        cold, cold_done = _render(project, cache)
        import renderer.api as api

        graph = api.compile(project, options=api.Options(cache_dir=cache)).graph
        # Right after the cold render, over many frames: a shared machine's speed drifts.
        inference = _inference_ms(graph, min(30, cold_done.inferred_frames))
        int8 = _int8_cost(graph, min(30, cold_done.inferred_frames), 3, truth_frames)
        project.write_text(project_text(source, seconds, "#204080", output, model="u2netp-int8"), encoding="utf-8")
        cold_int8, _ = _render(project, work / "cache-int8")
        project.write_text(project_text(source, seconds, "#c03030", output), encoding="utf-8")
        warm, warm_done = _render(project, cache)
        floor = _codec_floor(graph)
        matte_stages = _matte_stage_cost(project, cache, source, seconds, output)
        backgrounds = _video_background_cost(project, cache, source, seconds, output)
        short_rss = _peak_rss_mb(work / "short", source, seconds)
        long_rss = _peak_rss_mb(work / "long", _looped(source, seconds * LONG_FACTOR, work / "looped.mp4"), seconds * LONG_FACTOR)
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
        "cold_over_floor": round(cold / expected_cold, 2),
        "warm_over_floor": round(warm / floor, 2),
        "cold_over_warm": round(cold / warm, 2),
        "cold_fps": round(cold_done.frames / cold, 2),
        "cold_int8_seconds": round(cold_int8, 3),
        "cold_int8_fps": round(cold_done.frames / cold_int8, 2),
        **int8,
        "peak_rss_mb": round(short_rss, 1),
        "peak_rss_mb_long": round(long_rss, 1),
        "rss_long_over_short": round(long_rss / short_rss, 2),
        **matte_stages,
        **backgrounds,
    }


def _matte_stage_cost(project: Path, cache: Path, source: Path, seconds: float, output: Path) -> dict[str, Any]:
    """Warm 720p renders (masks cached) with no matte stages, the defaults, and every stage on.

    Renders alternate and each is timed twice, the faster kept: the ratios
    compare like with like on a machine whose speed drifts.
    """
    times: dict[str, float] = {}
    for _ in range(2):
        for stages in MATTE_STAGES:
            project.write_text(project_text(source, seconds, "#c03030", output, "720p", stages), encoding="utf-8")
            took, done = _render(project, cache)
            assert done.inferred_frames == 0, "matte stages must run after the cache"
            times[stages] = min(took, times.get(stages, took))
    return {
        "warm_720p_plain_seconds": round(times["plain"], 3),
        "warm_720p_defaults_seconds": round(times["defaults"], 3),
        "warm_720p_all_stages_seconds": round(times["all"], 3),
        "matte_defaults_over_plain": round(times["defaults"] / times["plain"], 2),
        "matte_all_over_plain": round(times["all"] / times["plain"], 2),
    }


def _video_background_cost(project: Path, cache: Path, source: Path, seconds: float, output: Path) -> dict[str, Any]:
    """Warm 720p renders over a colour and over a video (decoded and fitted in its own thread), alternating, the faster of two kept."""
    kinds = {"color": None, "video": VIDEO_BACKGROUND.format(source=source)}
    times: dict[str, float] = {}
    for _ in range(2):
        for kind, background in kinds.items():
            project.write_text(project_text(source, seconds, "#c03030", output, "720p", background=background), encoding="utf-8")
            took, done = _render(project, cache)
            assert done.inferred_frames == 0, "a background must not change the masks"
            times[kind] = min(took, times.get(kind, took))
    import renderer.api as api

    graph = api.compile(project, options=api.Options(cache_dir=cache)).graph
    clip = _clip_alone(graph)
    # The source's frames are as busy as a picture over a moving clip: their codec floor at 720p is
    # the fair floor here (x264 spends far more on a moving picture than on a flat colour).
    floor = _codec_floor(graph)
    return {
        "warm_720p_color_bg_seconds": round(times["color"], 3),
        "warm_720p_video_bg_seconds": round(times["video"], 3),
        "video_bg_over_color": round(times["video"] / times["color"], 2),
        "video_bg_clip_alone_seconds": round(clip, 3),
        "codec_floor_720p_seconds": round(floor, 3),
        "video_bg_over_floor": round(times["video"] / floor, 2),
    }


def _clip_alone(graph: Any) -> float:
    """The video background's own work (decoding, seeking to loop, fitting), alone: its share of a render's CPU."""
    from renderer.graph.nodes import BackgroundVideo
    from renderer.graph.stages import RunContext, background_video

    began = time.perf_counter()
    for _ in background_video(graph.find(BackgroundVideo), RunContext()):
        pass
    return time.perf_counter() - began


LONG_FACTOR = 10

RSS_PROJECT = """version: 1
source: {source}
trim: {{start: 0, end: {seconds}}}
background: {{type: color, color: "#204080"}}
export: {{path: {output}, resolution: 480p}}
"""


def _peak_rss_mb(work: Path, source: Path, seconds: float) -> float:
    """A cold render in a fresh process; its own peak resident memory, in MB."""
    work.mkdir()
    project = work / "p.yaml"
    project.write_text(RSS_PROJECT.format(source=source, seconds=seconds, output=work / "o.mp4"), encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-m", "renderer.bench", "--rss-child", str(project), str(work / "cache")],
        capture_output=True, text=True, check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"memory measurement failed: {child.stderr.strip()}")
    return float(json.loads(child.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def _rss_child(project: str, cache: str) -> None:
    import resource

    import renderer.api as api
    from renderer.graph.execute import render

    graph = api.compile(project, options=api.Options(cache_dir=cache)).graph
    render(graph, cache_root=Path(cache), force=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    print(json.dumps({"peak_rss_mb": peak * scale / 1e6}))


def _looped(source: Path, seconds: float, target: Path) -> Path:
    """The source repeated (packets copied, timestamps shifted) until it lasts `seconds`.

    Each stream is shifted by its own length, so its timestamps run on without a
    gap at the seams (the video keeps its constant rate).
    """
    import math

    import av

    with av.open(str(source)) as src:
        kept = [s for s in src.streams if s.type in ("video", "audio")]
        ends: dict[int, int] = {}
        for packet in src.demux(*kept):
            if packet.pts is not None and packet.duration:
                ends[packet.stream.index] = max(ends.get(packet.stream.index, 0), packet.pts + packet.duration)
        video = src.streams.video[0]
        length = float(ends[video.index] * video.time_base)
    with av.open(str(target), "w") as out:
        streams: dict[int, Any] = {}
        for k in range(math.ceil(seconds / length) + 1):
            with av.open(str(source)) as src:
                for stream in src.streams:
                    if stream.index in ends and stream.index not in streams:
                        streams[stream.index] = out.add_stream_from_template(stream)
                for packet in src.demux(*[s for s in src.streams if s.index in streams]):
                    if packet.dts is None:
                        continue
                    shift = k * ends[packet.stream.index]
                    packet.pts = None if packet.pts is None else packet.pts + shift
                    packet.dts += shift
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench [speed]", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few frames only: proves the benchmark runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--rss-child", nargs=2, metavar=("PROJECT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        _rss_child(*args.rss_child)
        return 0
    print_results(measure(0.2 if args.quick else 3.0, truth_frames=4 if args.quick else 16), args.json)
    return 0
