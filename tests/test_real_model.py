"""The embedded u2netp on the real sample footage: the rabbit kept, the meadow removed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers import read_video, save_png
from renderer.matting.registry import MODELS, load_weights

ROOT = Path(__file__).resolve().parent.parent
BUNNY = ROOT / "projects" / "media" / "bigbuckbunny-720p.mp4"

# Boxes in 854x480 output pixels around 2.6-3.0 s, where the rabbit stands and stretches.
RABBIT = (slice(170, 330), slice(250, 360))
MEADOW = (slice(350, 470), slice(600, 850))
SKY = (slice(0, 90), slice(720, 850))
GRASS_LEFT = (slice(400, 470), slice(0, 150))


def write_project(tmp_path: Path, background: str, export: str, trim: str) -> Path:
    path = tmp_path / "bunny.yaml"
    path.write_text(
        f"version: 1\nsource: {BUNNY}\ntrim: {trim}\nmodel: {{name: u2netp, dedup_threshold: 0}}\n"
        f"background: {background}\nexport: {export}\n",
        encoding="utf-8",
    )
    return path


def test_embedded_weights_ship_with_the_package_and_verify():
    spec = MODELS["u2netp"]
    data = load_weights(spec)
    assert len(data) == 4_574_861
    from importlib import resources

    weights = resources.files("renderer.matting.weights")
    assert "Apache License" in weights.joinpath("LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    assert spec.sha256 in weights.joinpath("NOTICE.md").read_text(encoding="utf-8")


def test_u2netp_separates_the_rabbit_from_the_meadow(tmp_path: Path, vbr):
    path = write_project(tmp_path, "{type: transparent}", "{path: out.webm, resolution: 480p}", "{start: 2.6, end: 3.0}")
    result = vbr("render", "--json", path)
    assert result.code == 0, result.err
    done = result.events[-1]
    assert done["frames"] == 10 and done["inferred_frames"] == 10
    video = read_video(tmp_path / "out.webm")
    assert len(video.frames) == 10 and video.has_alpha and (video.width, video.height) == (854, 480)
    for i in (0, 5, 9):
        alpha = video.frames[i][..., 3]
        save_png(video.frames[i], tmp_path / f"frame{i}.png")
        assert alpha[RABBIT].mean() > 240, f"rabbit not opaque in frame {i}"
        for name, box in (("meadow", MEADOW), ("sky", SKY), ("grass", GRASS_LEFT)):
            assert alpha[box].mean() < 10, f"{name} not transparent in frame {i}"
        subject = np.count_nonzero(alpha > 128) / alpha.size
        assert 0.08 < subject < 0.35, f"implausible subject area {subject:.2f} in frame {i}"
    # Audio kept and as long as the video.
    from helpers import read_audio

    sound = read_audio(tmp_path / "out.webm")
    assert sound is not None and abs(sound.seconds - 0.4) <= 0.04


def test_blurred_background_keeps_the_rabbit_sharp(tmp_path: Path, vbr):
    path = write_project(tmp_path, "{type: blur, radius: 20}", "{path: out.mp4, resolution: 480p, audio: false}", "{start: 2.8, end: 3.0}")
    assert vbr("render", "-q", path).code == 0
    out = read_video(tmp_path / "out.mp4")
    assert len(out.frames) == 5 and not out.has_alpha
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        f"source: {BUNNY}\ntrim: {{start: 2.8, end: 3.0}}\nmodel: {{name: u2netp, dedup_threshold: 0}}\n"
        "background: {type: color, color: '#000000'}\nexport: {path: plain.mp4, resolution: 480p, audio: false}\n",
        encoding="utf-8",
    )
    frame = out.frames[2].astype(int)

    def roughness(image: np.ndarray) -> float:
        return float(np.abs(np.diff(image, axis=1)).mean())

    # The meadow loses its texture; the rabbit keeps detail comparable to the source's.
    source = read_video(BUNNY)
    src = source.frames[72]  # 2.88 s in the 25 fps source, at 1280x720
    assert roughness(frame[MEADOW]) < 0.4 * roughness(src[470:630, 800:1130].astype(int))
    assert roughness(frame[RABBIT]) > 0.5 * roughness(src[227:440, 333:480].astype(int))


def test_real_model_output_is_identical_cold_warm_and_across_caches(tmp_path: Path, vbr):
    import hashlib

    path = write_project(tmp_path, "{type: color, color: '#336699'}", "{path: out.mp4, resolution: 480p}", "{start: 1.0, end: 1.2}")
    digests = []
    for cache, inferred in (("one", 5), ("two", 5), ("one", 0)):
        result = vbr("render", "--json", "--force", "--cache-dir", tmp_path / cache, path)
        assert result.code == 0, result.err
        assert result.events[-1]["inferred_frames"] == inferred
        digests.append(hashlib.sha256((tmp_path / "out.mp4").read_bytes()).hexdigest())
    assert digests[0] == digests[1] == digests[2]
