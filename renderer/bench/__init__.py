"""`python -m renderer.bench [speed | quality]`: render speed against the codec floor, and matte quality."""

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent.parent / "projects" / "media" / "bigbuckbunny-720p.mp4"
