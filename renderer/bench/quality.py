"""`python -m renderer.bench quality`: vbr's matte and composite against a known truth, per setting.

The truth is made in code (groundtruth.py): a subject with hair-like strands
and a see-through veil moving over the sample footage, with a hard cut,
written to a lossless file. Each variant (the defaults, then one setting
changed) is a real project file, compiled and evaluated by the renderer's own
graph up to the finished frames (as previews are): transparent to score the
alpha and its straight colours, over a solid colour to score the composite.
All variants share one mask cache, so the model runs once per frame.

With --pairs DIR, photographs with measured mattes (NAME_rgb.png +
NAME_alpha.png) are scored the same way, each a still over a sample frame.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import yaml

from renderer.bench import SAMPLE
from renderer.bench.groundtruth import Truth, composite_source, default_shots, make_clip
from renderer.bench.metrics import Scores, edge_band
from renderer.compose.background import hex_to_rgb
from renderer.errors import UsageError

FPS = 25
COLOUR = "#c020a0"  # the solid background: far from the footage's greens, blues and greys
SIZES = {False: (960, 540, 100), True: (480, 270, 16)}  # --quick: width, height, frames
SECOND_SHOT_FROM = 70  # sample frame the second shot's background starts at

# name -> the YAML that differs from the defaults. Variants whose keys this
# version's project format lacks are skipped (and say so).
VARIANTS: dict[str, str] = {
    "defaults": "",
    "temporal: off (per frame)": 'model: {temporal: "off"}',
    "ema_alpha: 1 (per frame, as before)": "model: {ema_alpha: 1}",
    "temporal: ema (ema_alpha 0.75, the old default)": "model: {temporal: ema, ema_alpha: 0.75}",
    "temporal: ema, cut_threshold: 1 (the old EMA exactly)": "model: {temporal: ema, ema_alpha: 0.75, cut_threshold: 1}",
    "temporal: adaptive": "model: {temporal: adaptive}",
    "cut_threshold: 1 (no cut detection)": "model: {cut_threshold: 1}",
    "dedup_threshold: 0": "model: {dedup_threshold: 0}",
    "keyframes: 2": "model: {keyframes: 2}",
    "keyframes: 3": "model: {keyframes: 3}",
    "keyframes: 4": "model: {keyframes: 4}",
    "keyframes: 2, temporal: off": 'model: {keyframes: 2, temporal: "off"}',
    "refine: bilinear": "matte: {refine: bilinear}",
    "refine: guided": "matte: {refine: guided}",
    "foreground: source": "matte: {foreground: source}",
    "foreground: estimate": "matte: {foreground: estimate}",
    "black: 0.1, white: 0.9": "matte: {black: 0.1, white: 0.9}",
    "choke: 1": "matte: {choke: 1}",
    "choke: -1": "matte: {choke: -1}",
    "feather: 1": "matte: {feather: 1}",
    "guided + estimate": "matte: {refine: guided, foreground: estimate}",
    "guided + estimate, temporal: off": 'model: {temporal: "off"}\nmatte: {refine: guided, foreground: estimate}',
    "guided + estimate, temporal: ema 0.75": "model: {temporal: ema, ema_alpha: 0.75}\nmatte: {refine: guided, foreground: estimate}",
    "model: u2netp-int8": "model: {name: u2netp-int8}",
}


def unknown_keys(settings: dict[str, Any], model: Any = None, prefix: str = "") -> list[str]:
    """Keys of `settings` the project format (renderer.project.models) does not have."""
    from pydantic import BaseModel

    from renderer.project.models import Project

    model = model or Project
    missing = []
    for key, value in settings.items():
        info = model.model_fields.get(key)
        if info is None:
            missing.append(prefix + key)
            continue
        if isinstance(value, dict):
            nested = [t for t in _types(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
            if nested:
                missing += unknown_keys(value, nested[0], f"{prefix}{key}.")
    return missing


def _types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types(arg)


def merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass
class Case:
    """A source with its truth, and where its projects and outputs go."""

    name: str
    source: Path
    truth: Truth
    bands: list[np.ndarray]
    work: Path


def _graph(case: Case, settings: dict[str, Any], transparent: bool, cache: Path) -> Any:
    """Write the variant's project file and compile it, as `vbr render` would."""
    import renderer.api as api

    background = {"type": "transparent"} if transparent else {"type": "color", "color": COLOUR}
    output = case.work / ("out.webm" if transparent else "out.mp4")
    project = merged(
        {"version": 1, "source": str(case.source), "model": {"name": "u2netp"}, "background": background,
         "export": {"path": str(output), "audio": False}},
        settings,
    )
    file = case.work / "project.yaml"
    file.write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    return api.compile(file, options=api.Options(cache_dir=cache)).graph


def _evaluated(graph: Any, cache: Path, counts: list[int]) -> Iterator[Any]:
    """The graph's finished frames before encoding (as previews get them); adds the frames inferred to `counts`."""
    from renderer.graph.execute import evaluate, open_cache
    from renderer.graph.stages import RunContext

    ctx = RunContext(cache=open_cache(cache, lambda event: None))
    try:
        yield from evaluate(graph.frames, ctx)
    finally:
        ctx.pipeline.stop()
        counts.append(ctx.counts.inferred)


def score_variant(case: Case, graphs: tuple[Any, Any], cache: Path) -> tuple[dict[str, Any], int]:
    """Scores of one variant's (transparent, solid colour) graphs, and the frames the model ran on."""
    truth, bands = case.truth, case.bands
    scores = Scores(truth.shots)
    inferred: list[int] = []
    for frame in _evaluated(graphs[0], cache, inferred):
        i, image = frame.index, frame.image
        scores.add_matte(i, image[..., 3].astype(np.float32) / 255, truth.alpha[i], bands[i])
        scores.add_foreground(image[..., :3], truth.foreground[i], truth.alpha[i], bands[i])
    for frame in _evaluated(graphs[1], cache, inferred):
        i = frame.index
        scores.add_composite(frame.image, truth.foreground[i], truth.alpha[i], bands[i], hex_to_rgb(COLOUR))
    return scores.summary(), sum(inferred)


def reference_rows(case: Case, frames: list[np.ndarray]) -> dict[str, dict[str, Any]]:
    """Composites with the TRUE alpha (no model): what the colour stage alone costs, with and without estimation."""
    from renderer.compose.composite import composite

    try:
        from renderer.compose.foreground import estimate_foreground
    except ImportError:
        estimate_foreground = None
    colour = np.asarray(hex_to_rgb(COLOUR), np.uint8)
    ways: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {"true alpha, source colours": lambda rgb, a: rgb}
    if estimate_foreground is not None:
        ways["true alpha, estimated foreground"] = estimate_foreground
    scores = {name: Scores(case.truth.shots) for name in ways}
    truth = case.truth
    for i, rgb in enumerate(frames):
        a = np.rint(truth.alpha[i] * 255).astype(np.uint8)
        for name, colours in ways.items():
            image = composite(colours(rgb, a), a, np.broadcast_to(colour, rgb.shape))
            scores[name].add_composite(image, truth.foreground[i], truth.alpha[i], case.bands[i], hex_to_rgb(COLOUR))
    return {name: {"composite_band_levels": s.summary()["composite_band_levels"]} for name, s in scores.items()}


def still_matte_dtssd(truth: Truth) -> float:
    """dtSSD x1e2 of a matte that never changes: the truth's own change, which a filter of a
    model's matte cannot undercut by smoothing alone (it has to follow that change)."""
    scores = Scores(truth.shots)
    still = np.zeros_like(truth.alpha[0])
    for i, alpha in enumerate(truth.alpha):
        scores.add_matte(i, still, alpha, np.zeros(alpha.shape, bool))
    return scores.summary()["dtssd_e2"]


def run_variants(case: Case, names: list[str], cache: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every variant this version's project format can express; a graph equal to an earlier one is not run again."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for name in names:
        snippet = VARIANTS[name]
        settings = yaml.safe_load(snippet) or {}
        missing = unknown_keys(settings)
        if missing:
            rows.append({"variant": name, "settings": snippet, "skipped": f"no {', '.join(missing)}"})
            continue
        began = time.perf_counter()
        graphs = (_graph(case, settings, True, cache), _graph(case, settings, False, cache))
        key = graphs[0].frames.key()
        row: dict[str, Any] = {"variant": name, "settings": snippet}
        if key in seen:
            row |= {k: v for k, v in seen[key].items() if k not in row and k != "seconds"}
            row |= {"same_as": seen[key]["variant"], "inferred_frames": 0}
        else:
            scores, inferred = score_variant(case, graphs, cache)
            row |= {**scores, "inferred_frames": inferred}
            seen[key] = row
        row["seconds"] = round(time.perf_counter() - began, 1)
        log(f"{case.name}: {name}: {row['seconds']} s, {row['inferred_frames']} frames inferred")
        rows.append(row)
    return rows


def _crop(frame: Any, width: int, height: int, bottom: bool) -> np.ndarray:
    """The top-right (or bottom-right, mirrored) quarter of a sample frame, scaled so it covers width x height.

    The sample's subject (the rabbit) stays in its left half, so the crops
    are scenery: trees and sky, or grass.
    """
    cover = max(width, -(-height * 16 // 9))
    cover_h = -(-cover * 9 // 16)
    rgb = frame.rgb(2 * cover, 2 * cover_h)
    if bottom:
        return np.ascontiguousarray(rgb[2 * cover_h - height :, 2 * cover - width :][:, ::-1])
    return rgb[:height, 2 * cover - width :]


def synthetic_case(work: Path, quick: bool) -> tuple[Case, list[np.ndarray], dict[str, Any]]:
    """The made-up clip, written losslessly, and how exactly it decodes back."""
    from renderer.media.decode import decode_video
    from renderer.media.lossless import write_lossless

    width, height, count = SIZES[quick]
    shots = default_shots(count)
    first, second = shots[0].frames, shots[1].frames
    backgrounds: list[list[np.ndarray]] = [[], []]
    for i, frame in enumerate(decode_video(SAMPLE)):
        if i < first:
            backgrounds[0].append(_crop(frame, width, height, False))
        if SECOND_SHOT_FROM <= i < SECOND_SHOT_FROM + second:
            backgrounds[1].append(_crop(frame, width, height, True))
        if len(backgrounds[0]) == first and len(backgrounds[1]) == second:
            break
    frames, truth = make_clip(shots, lambda shot, i: backgrounds[shot][i], width, height)
    source = write_lossless(work / "clip.mkv", frames, FPS)
    decoded = [f.rgb(width, height) for f in decode_video(source)]
    error = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(frames, decoded))
    info = {
        "width": width, "height": height, "frames": count, "fps": FPS, "cuts_before": list(truth.shots[1:]),
        "decoded_frames": len(decoded), "lossless_max_error": error, "background": COLOUR,
    }
    case = Case("clip", source, truth, [edge_band(a) for a in truth.alpha], work)
    return case, frames, info


def shifted_case(case: Case, frames: list[np.ndarray], by: int) -> Case:
    """The clip without the first `by` frames of each shot: model.keyframes then infers other frames.

    Which frames are keyframes is luck for a score: u2netp fails on single frames
    of this clip, and a carried frame inherits its keyframe's failure. Keyframes
    restart at each cut, so each shot is shifted; scores over every phase of the
    keyframe interval take that luck out.
    """
    from renderer.media.lossless import write_lossless

    shots = case.truth.shots
    ends = shots[1:] + (len(frames),)
    kept = [i for start, end in zip(shots, ends) for i in range(start + by, end)]
    work = case.work / f"from-{by}"
    work.mkdir(exist_ok=True)
    source = write_lossless(work / "clip.mkv", [frames[i] for i in kept], FPS)
    starts = tuple(int(np.cumsum([0] + [end - start - by for start, end in zip(shots, ends)])[k]) for k in range(len(shots)))
    truth = Truth(case.truth.alpha[kept], case.truth.foreground[kept], starts)
    return Case(f"clip, each shot from its frame {by}", source, truth, [case.bands[i] for i in kept], work)


def keyframe_phases(
    case: Case, frames: list[np.ndarray], rows: list[dict[str, Any]], cache: Path, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Each keyframes: N variant and the defaults, averaged over the clip started at frames 0 .. N - 1."""
    intervals = {row["variant"]: int(row["variant"].split(": ")[1]) for row in rows
                 if re.fullmatch(r"keyframes: \d+", row["variant"]) and "skipped" not in row}
    if not intervals:
        return []
    main = {row["variant"]: row for row in rows}
    shifted = {
        by: {row["variant"]: row for row in run_variants(
            shifted_case(case, frames, by), ["defaults"] + [name for name, n in intervals.items() if n > by], cache, log,
        )}
        for by in range(1, max(intervals.values()))
    }
    means = []
    for name, n in intervals.items():
        for variant in (name, "defaults"):
            runs = [main[variant]] + [shifted[by][variant] for by in range(1, n)]
            mean = {"variant": f"{variant} (mean of {n} phases)" if variant == name else f"defaults, the same {n} clips"}
            for _, key in COLUMNS:
                values = [run[key] for run in runs if run.get(key) is not None]
                mean[key] = round(float(np.mean(values)), 4) if values else None
            mean["inferred_frames"] = sum(run["inferred_frames"] for run in runs if "same_as" not in run)
            means.append(mean)
    return means


def pair_names(folder: Path) -> list[str]:
    """NAMEs with both NAME_rgb.png and NAME_alpha.png in the folder."""
    names = sorted(p.name[: -len("_rgb.png")] for p in folder.glob("*_rgb.png"))
    names = [name for name in names if (folder / f"{name}_alpha.png").is_file()]
    if not names:
        raise UsageError(f"--pairs {folder}: no NAME_rgb.png with a NAME_alpha.png beside it")
    return names


def pair_cases(folder: Path, names: list[str], work: Path) -> Iterator[Case]:
    """Each pair as a one-frame lossless clip: the photo over a sample frame through its alpha (sides cut to even).

    The photo's own pixels are the foreground colour: at soft edges they hold
    some of the photo's background, but the clip is made from them, so they
    are the exact truth for it.
    """
    from renderer.media.decode import decode_video
    from renderer.media.image import read_image
    from renderer.media.lossless import write_lossless

    backdrop = next(iter(decode_video(SAMPLE)))
    for name in names:
        rgb = read_image(folder / f"{name}_rgb.png")[..., :3]
        alpha = read_image(folder / f"{name}_alpha.png")[..., 0]
        height, width = (min(rgb.shape[0], alpha.shape[0]) // 2 * 2, min(rgb.shape[1], alpha.shape[1]) // 2 * 2)
        fg, a = rgb[:height, :width], alpha[:height, :width].astype(np.float32) / 255
        frame = composite_source(fg, a, _crop(backdrop, width, height, False))
        work_dir = work / name
        work_dir.mkdir()
        source = write_lossless(work_dir / "still.mkv", [frame], FPS)
        yield Case(name, source, Truth(a[None], fg[None], (0,)), [edge_band(a)], work_dir)


COLUMNS = [("IoU", "iou"), ("MAD ×1e3", "mad_e3"), ("edge-band ×1e3", "edge_band_e3"), ("dtSSD ×1e2", "dtssd_e2"),
           ("dtSSD still ×1e2", "dtssd_still_e2"), ("composite-band (levels)", "composite_band_levels")]


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| variant | " + " | ".join(title for title, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        if "skipped" in row:
            continue
        name = row["variant"] + (f" (= {row['same_as']})" if "same_as" in row else "")
        lines.append(f"| {name} | " + " | ".join(cell(row, key) for _, key in columns) + " |")
    return "\n".join(lines)


def pair_means(per_pair: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each variant's scores averaged over the pairs."""
    first = next(iter(per_pair.values()))
    rows = []
    for k, row in enumerate(first):
        if "skipped" in row:
            rows.append(row)
            continue
        mean = {"variant": row["variant"], **({"same_as": row["same_as"]} if "same_as" in row else {})}
        for _, key in COLUMNS + [("", "foreground_band_levels")]:
            values = [rows_[k][key] for rows_ in per_pair.values() if rows_[k].get(key) is not None]
            mean[key] = round(float(np.mean(values)), 4) if values else None
        rows.append(mean)
    return rows


def measure(quick: bool, pairs: Path | None, log: Callable[[str], None], only: list[str] | None = None) -> dict[str, Any]:
    """`only`: run just these variants (and the defaults, which every other is read against)."""
    began = time.perf_counter()
    chosen = [name for name in VARIANTS if not only or name == "defaults" or name in only]
    names = pair_names(pairs) if pairs is not None else []
    with tempfile.TemporaryDirectory(prefix="vbr-quality-") as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        case, frames, clip = synthetic_case(work, quick)
        log(f"clip: {clip['frames']} frames {clip['width']}x{clip['height']}, decodes back within "
            f"{clip['lossless_max_error']} level(s); {time.perf_counter() - began:.1f} s")
        results: dict[str, Any] = {"clip": clip, "variants": run_variants(case, chosen, cache, log)}
        results["keyframe_phases"] = keyframe_phases(case, frames, results["variants"], cache, log)
        results["references"] = reference_rows(case, frames)
        results["still_matte_dtssd_e2"] = still_matte_dtssd(case.truth)
        if pairs is not None:
            # Stills: the temporal settings cannot matter, only the matte's (and the model's).
            still = [name for name in chosen if set((yaml.safe_load(VARIANTS[name]) or {}).get("model", {})) <= {"name"}]
            per_pair = {pair.name: run_variants(pair, still, cache, log) for pair in pair_cases(pairs, names, work)}
            results["pairs"] = {"folder": str(pairs), "per_pair": per_pair, "means": pair_means(per_pair)}
    results["seconds"] = round(time.perf_counter() - began, 1)
    return results


def report(results: dict[str, Any]) -> str:
    clip = results["clip"]
    parts = [
        f"Synthetic clip: {clip['frames']} frames, {clip['width']}x{clip['height']}, cut before frame "
        f"{', '.join(map(str, clip['cuts_before']))}; composite over {clip['background']}.",
        "",
        table(results["variants"], COLUMNS),
    ]
    if results.get("keyframe_phases"):
        parts += ["", "Keyframes over every phase (each shot from its frame 0, 1, ...: each frame a keyframe once), means:", ""]
        parts.append(table(results["keyframe_phases"], COLUMNS))
    refs = results["references"]
    if refs:
        parts += ["", "With the true alpha (no model), composite-band error in levels:"]
        parts += [f"- {name}: {row['composite_band_levels']}" for name, row in refs.items()]
    parts += ["", f"dtSSD x1e2 of a matte that never changes (the truth's own change): {results['still_matte_dtssd_e2']}"]
    skipped = [row for row in results["variants"] if "skipped" in row]
    if skipped:
        listed = "; ".join(f"{row['variant']} ({row['skipped']})" for row in skipped)
        parts += ["", f"Skipped (not in this version's project format): {listed}"]
    if "pairs" in results:
        count = len(results["pairs"]["per_pair"])
        parts += ["", f"Image + alpha pairs ({count}, means; stills over a sample frame):", ""]
        parts.append(table(results["pairs"]["means"], [c for c in COLUMNS if not c[1].startswith("dtssd")]))
    parts += ["", f"took {results['seconds']} s"]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.bench quality", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, short clip: proves the benchmark runs")
    parser.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    parser.add_argument("--pairs", metavar="DIR", help="also score NAME_rgb.png + NAME_alpha.png pairs from DIR")
    parser.add_argument("--only", metavar="VARIANT", action="append", choices=list(VARIANTS),
                        help="run only this variant (repeatable; the defaults always run)")
    args = parser.parse_args(argv)
    try:
        pairs = Path(args.pairs) if args.pairs else None
        results = measure(args.quick, pairs, lambda line: print(line, file=sys.stderr), args.only)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0
