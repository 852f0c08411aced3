"""`python -m renderer.bench batch`: one 8-row batch with `-j 2` locally and with `--ray` on two nodes.

The rows: name plates (the name as text, a colour backdrop, 480p MP4) on the
sample clip, trimmed short, with u2netp. Two matte groups of four rows: the
sample itself and the same video remuxed into Matroska (same frames, other
bytes: another source to vbr), so both executors run two first rows side by
side, one model thread each, and then the six other rows on cached masks.

Locally, `vbr batch -j 2`: two worker processes on this machine. On Ray, a
two-node cluster on this machine (renderer.bench.cluster), one CPU per node,
`--ray-cpus-per-row 1`, each node with its own empty mask cache. Ray's
start-up (the cluster, and this process joining it) is timed apart from the
batch; the overhead ratio compares the batches alone. Run as root where
`unshare` exists, the benchmark re-runs itself in a private network namespace
so Ray stays on 127.0.0.1. Outputs of both runs are compared byte for byte.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from renderer.bench import SAMPLE, print_results

TEMPLATE = """version: 1
vars:
  name:  {{type: string}}
  color: {{type: color}}
  clip:  {{type: path}}
source: "${{clip}}"
model: u2netp
trim: {{start: 0.5, end: {end}}}
background: {{type: color, color: "${{color}}"}}
text: [{{text: "${{name}}", size: 30, position: bottom-left, margin: 24}}]
export: {{path: "out/${{name}}.mp4", resolution: 480p}}
"""
NAMES = ["ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "john"]
COLORS = ["#2b4162", "#7a1f3d", "#1f5f3a", "#5f4b1f"]


def write_batch(work: Path, seconds: float) -> tuple[Path, Path]:
    """The template and its 8 rows: rows alternate between the two sources."""
    other = _remuxed(SAMPLE, work / "bunny.mkv")
    template = work / "plates.yaml"
    template.write_text(TEMPLATE.format(end=0.5 + seconds), encoding="utf-8")
    rows = work / "rows.csv"
    lines = ["name,color,clip"] + [
        f"{name},{COLORS[i % len(COLORS)]},{SAMPLE if i % 2 == 0 else other}" for i, name in enumerate(NAMES)
    ]
    rows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return template, rows


def _remuxed(source: Path, target: Path) -> Path:
    """The source's video stream copied packet by packet into another container."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        video = src.streams.video[0]
        stream = out.add_stream_from_template(video)
        for packet in src.demux(video):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    return target


def measure(seconds: float, rounds: int) -> dict[str, Any]:
    import renderer.api as api
    from renderer.bench.cluster import start_cluster

    with tempfile.TemporaryDirectory(prefix="vbr-bench-batch-", dir="/tmp") as tmp:
        work = Path(tmp)
        template, rows = write_batch(work, seconds)
        local_times, ray_times = [], []
        began = time.perf_counter()
        nodes = [{"VBR_CACHE_DIR": str(work / f"node{i}" / "cache"), "TMPDIR": str(work / f"node{i}" / "tmp")} for i in (1, 2)]
        cluster = start_cluster(nodes, work / "ray")
        joining = time.perf_counter()
        os.environ["VBR_CACHE_DIR"] = str(work / "cache-driver")  # the driver's (input hashes only); not the nodes'
        try:
            import ray

            ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
            startup, connect = time.perf_counter() - began, time.perf_counter() - joining
            for n in range(rounds):  # alternating, the faster of each kept: a shared machine's speed drifts
                local = api.Options(cache_dir=work / f"cache-local-{n}")
                local_times.append(_timed(api.batch, template, rows, work / f"local-{n}", local, jobs=2))
                on_ray = api.Options(cache_dir=None)  # each node's own (empty) cache
                for node in nodes:
                    _empty(Path(node["VBR_CACHE_DIR"]))
                ray_times.append(_timed(api.batch, template, rows, work / f"ray-{n}", on_ray, executor="ray", cpus_per_row=1))
            identical = _same_outputs(work / "local-0", work / "ray-0")
        finally:
            ray.shutdown()
            cluster.shutdown()
    local_s, ray_s = min(local_times), min(ray_times)
    return {
        "rows": len(NAMES),
        "clip_seconds": seconds,
        "local_seconds": round(local_s, 3),
        "ray_seconds": round(ray_s, 3),
        "local_first_seconds": round(local_times[0], 3),  # -j 2 starts its worker processes every batch;
        "ray_first_seconds": round(ray_times[0], 3),  # Ray's workers start in the first batch and stay
        "local_rows_per_minute": round(len(NAMES) * 60 / local_s, 1),
        "ray_rows_per_minute": round(len(NAMES) * 60 / ray_s, 1),
        "ray_overhead": round(ray_s / local_s, 2),
        "ray_startup_seconds": round(startup, 2),  # the two-node cluster, and this driver joining it
        "ray_connect_seconds": round(connect, 2),  # joining alone: what a batch on a running cluster pays
        "outputs_identical": identical,
    }


def _timed(run: Any, template: Path, rows: Path, out: Path, options: Any, **how: Any) -> float:
    began = time.perf_counter()
    done = run(template, rows, out, options, **how)
    took = time.perf_counter() - began
    if done.rendered != len(NAMES):
        raise RuntimeError(f"the benchmark batch rendered {done.rendered} of {len(NAMES)} rows")
    return took


def _empty(cache: Path) -> None:
    import shutil

    shutil.rmtree(cache, ignore_errors=True)


def _same_outputs(left: Path, right: Path) -> bool:
    files = sorted(p.relative_to(left) for p in left.rglob("*.mp4*"))
    return bool(files) and all((left / f).read_bytes() == (right / f).read_bytes() for f in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench batch", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few frames per row: proves the benchmark runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--isolated", action="store_true", help=argparse.SUPPRESS)  # re-run in a network namespace
    args = parser.parse_args(argv)
    from renderer.bench.cluster import can_isolate, isolated, loopback_up

    if args.isolated:
        loopback_up()
    elif can_isolate():
        again = [sys.executable, "-m", "renderer.bench", "batch", "--isolated", *(["--quick"] if args.quick else [])]
        if args.json:
            again += ["--json", str(Path(args.json).resolve())]
        return subprocess.run(isolated(again), check=False).returncode
    print_results(measure(0.2 if args.quick else 2.0, 1 if args.quick else 2), args.json)
    return 0
