"""`python -m renderer.bench [speed | quality | batch | long | gpu | loop]`: render speed against the codec floor, matte quality, batches on Ray, a long render's memory, GPU batches, vbr against a plain frame loop."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent.parent / "projects" / "media" / "bigbuckbunny-720p.mp4"


def print_results(results: dict, json_file: str | None) -> None:
    """One `name  value` line per figure (the speed and batch benchmarks' output), and the same as JSON if asked."""
    import json

    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if json_file:
        Path(json_file).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
