"""End-to-end renders with the tiny redness model: decode what vbr wrote, check pixels."""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from helpers import GREEN, RED, frame_index, make_clip, make_image, project_body, read_audio, read_video, save_png

# Codec tolerance for colours that went through 4:2:0 YUV and a lossy encoder.
TOL = 16


body = project_body


def subject_box(frame: np.ndarray, margin: int = 4) -> tuple[slice, slice]:
    """Inside the red square of make_clip's frame (found by colour, shrunk by `margin` px).

    The margin covers the soft edge a low-resolution mask has once upscaled.
    """
    red = (frame[..., 0] > 150) & (frame[..., 1] < 90)
    ys, xs = np.nonzero(red)
    return slice(ys.min() + margin, ys.max() + 1 - margin), slice(xs.min() + margin, xs.max() + 1 - margin)


def test_transparent_webm_alpha_round_trip(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model))
    result = vbr("render", "--json", path)
    assert result.code == 0, result.err
    video = read_video(tmp_path / "out/o.webm")
    assert video.codec == "vp9" and video.pix_fmt == "yuva420p"
    assert len(video.frames) == 25
    for i in (0, 12, 24):
        frame = video.frames[i]
        alpha = frame[..., 3]
        # Straight RGB carries the subject's estimated colour wherever alpha > 0, so the red
        # reaches a few pixels past the opaque core: look well inside it.
        ys, xs = subject_box(frame, margin=10)
        save_png(frame, tmp_path / f"frame{i}.png")
        # The alpha plane is coded lossily (VP9, crf 31): a few levels off, more with older libvpx builds.
        assert alpha[ys, xs].min() >= 247, f"subject not opaque in frame {i}"
        assert alpha[60:, :30].max() <= 8, f"background not transparent in frame {i}"
        # Straight alpha: colours are kept where alpha is 0 as well.
        assert np.abs(frame[ys, xs, :3].astype(int) - RED).mean() < TOL
        assert np.abs(frame[70:, 10:30, :3].astype(int) - GREEN).mean() < TOL
    sound = read_audio(tmp_path / "out/o.webm")
    assert sound is not None and sound.codec == "opus" and sound.channels == 2
    assert abs(sound.seconds - 1.0) <= 1 / 25


def test_color_background_mp4_with_aac(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{type: color, color: '#2040c0'}", "{path: out/o.mp4}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.mp4")
    assert video.codec == "h264" and video.pix_fmt == "yuv420p" and not video.has_alpha
    frame = video.frames[10]
    ys, xs = subject_box(frame)
    assert np.abs(frame[ys, xs].astype(int) - RED).mean() < TOL
    assert np.abs(frame[70:, 10:30].astype(int) - (0x20, 0x40, 0xC0)).mean() < TOL
    sound = read_audio(tmp_path / "out/o.mp4")
    assert sound is not None and sound.codec == "aac"
    assert abs(sound.seconds - 1.0) <= 1 / 25


def test_blur_background_smooths_the_backdrop_but_not_the_subject(project, vbr, redness_model, tmp_path):
    clip = make_clip(tmp_path / "stripes.mp4", stripes=True, audio=False)
    path = project(body(redness_model, "{type: blur, radius: 6}", "{path: out/o.mp4}"), source=clip)
    assert vbr("render", "-q", path).code == 0
    source = read_video(clip).frames[5]
    frame = read_video(tmp_path / "out/o.mp4").frames[5]
    band = (slice(80, 94), slice(10, 150))  # below the square: background only
    assert source[band][..., 1].std() > 40  # the stripes are there in the source
    assert frame[band][..., 1].std() < 8  # and blurred away in the output
    assert abs(float(frame[band][..., 1].mean()) - float(source[band][..., 1].mean())) < 12
    ys, xs = subject_box(frame)
    assert np.abs(frame[ys, xs].astype(int) - RED).mean() < TOL


@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_image_background(project, vbr, redness_model, tmp_path, fit):
    backdrop = np.zeros((40, 40, 3), dtype=np.uint8)
    backdrop[:, :20] = (250, 250, 0)  # left half yellow
    backdrop[:, 20:] = (0, 200, 250)  # right half cyan
    make_image(tmp_path / "backdrop.png", backdrop)
    path = project(
        body(redness_model, f"{{type: image, image: backdrop.png, fit: {fit}}}", "{path: out/o.mp4}")
    )
    assert vbr("render", "-q", path).code == 0, "render failed"
    frame = read_video(tmp_path / "out/o.mp4").frames[0]
    save_png(frame, tmp_path / f"{fit}.png")
    if fit == "cover":  # 40x40 scaled to 160 wide, cropped top and bottom: halves at x < 80, x >= 80
        assert np.abs(frame[85:, 5:30].astype(int) - (250, 250, 0)).mean() < TOL
        assert np.abs(frame[85:, 130:155].astype(int) - (0, 200, 250)).mean() < TOL
    else:  # 96x96 in the middle, black bars left and right of it
        assert frame[:, :25].max() < TOL
        assert frame[:, -25:].max() < TOL
        assert np.abs(frame[85:, 35:60].astype(int) - (250, 250, 0)).mean() < TOL


def test_trim_is_frame_accurate(project, vbr, redness_model, tmp_path):
    clip = make_clip(tmp_path / "two.mp4", seconds=2.0)
    path = project(body(redness_model, extra="trim: {start: 0.4, end: '00:01.200'}\n"), source=clip)
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    assert len(video.frames) == 20  # 0.8 s at 25 fps
    assert [frame_index(f) for f in video.frames] == list(range(10, 30))
    sound = read_audio(tmp_path / "out/o.webm")
    assert sound is not None and abs(sound.seconds - 0.8) <= 1 / 25


def test_trim_keeps_audio_in_sync(project, vbr, redness_model, tmp_path):
    """A click at 0.6 s in the source must land at 0.2 s in a render trimmed from 0.4 s."""
    import av

    clip = tmp_path / "click.mp4"
    make_clip(clip, seconds=1.0, audio=False)
    # Re-mux with an audio track that is silent except for a burst at 0.6 s.
    withclick = tmp_path / "withclick.mp4"
    with av.open(str(clip)) as src, av.open(str(withclick), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=48000, layout="mono")
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
        samples = np.zeros(48000, dtype=np.float32)
        samples[int(0.6 * 48000) : int(0.62 * 48000)] = 0.8
        for start in range(0, 48000, 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + 1024].copy(), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            for packet in aout.encode(frame):
                dst.mux(packet)
        for packet in aout.encode(None):
            dst.mux(packet)
    path = project(body(redness_model, export="{path: out/o.mp4}", background="{type: color}", extra="trim: {start: 0.4}\n"), source=withclick)
    assert vbr("render", "-q", path).code == 0
    sound = read_audio(tmp_path / "out/o.mp4")
    assert sound is not None and sound.channels == 1
    onset = int(np.argmax(np.abs(sound.samples[0]) > 0.3)) / sound.rate
    assert abs(onset - 0.2) < 0.01


@pytest.mark.parametrize("fps,frames", [(30, 30), (24, 24), (15, 15)])
def test_frame_rate_change(project, vbr, redness_model, tmp_path, fps, frames):
    path = project(body(redness_model, export=f"{{path: out/o.mp4, fps: {fps}}}", background="{type: color}"))
    result = vbr("render", "--json", path)
    assert result.code == 0
    video = read_video(tmp_path / "out/o.mp4")
    assert video.rate == fps
    assert abs(len(video.frames) - frames) <= 1
    shown = [frame_index(f) for f in video.frames]
    # Output frame i shows the source frame nearest to i / fps (ties to the earlier one).
    expected = [math.ceil(Fraction(i * 25, fps) - Fraction(1, 2)) for i in range(len(video.frames))]
    assert shown == expected
    done = result.events[-1]
    # Only frames that reach the output are inferred; a held frame is inferred once.
    assert done["inferred_frames"] == len(set(shown))
    sound = read_audio(tmp_path / "out/o.mp4")
    assert sound is not None and abs(sound.seconds - len(video.frames) / fps) <= 1 / fps


@pytest.mark.parametrize("resolution,size", [("480p", (800, 480)), ("original", (160, 96))])
def test_resolution(project, vbr, redness_model, tmp_path, resolution, size):
    path = project(body(redness_model, export=f"{{path: out/o.webm, resolution: {resolution}}}"))
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    assert (video.width, video.height) == size
    frame = video.frames[3]
    scale = size[1] / 96
    ys, xs = subject_box(frame, margin=round(4 * scale))
    assert frame[ys, xs, 3].min() >= 250 and frame[-round(20 * scale) :, : round(30 * scale), 3].max() <= 5


def test_resolution_keeps_aspect_and_even_width(project, vbr, redness_model, tmp_path):
    clip = make_clip(tmp_path / "odd.mp4", size=(202, 90), seconds=0.2, audio=False)
    path = project(body(redness_model, export="{path: out/o.mp4, resolution: 480p}", background="{type: color}"), source=clip)
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.mp4")
    assert video.height == 480 and video.width % 2 == 0
    assert abs(video.width / video.height - 202 / 90) < 0.01


def test_audio_absent_or_disabled(project, vbr, redness_model, tmp_path):
    silent = make_clip(tmp_path / "silent.mp4", audio=False)
    path = project(body(redness_model), source=silent)
    assert vbr("render", "-q", path).code == 0
    assert read_audio(tmp_path / "out/o.webm") is None
    assert len(read_video(tmp_path / "out/o.webm").frames) == 25


def test_audio_false_drops_the_track(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, export="{path: out/o.mp4, audio: false}", background="{type: color}"))
    assert vbr("render", "-q", path).code == 0
    assert read_audio(tmp_path / "out/o.mp4") is None


def test_mono_source_stays_mono(project, vbr, redness_model, tmp_path):
    mono = make_clip(tmp_path / "mono.mp4", audio_channels=1)
    path = project(body(redness_model), source=mono)
    assert vbr("render", "-q", path).code == 0
    sound = read_audio(tmp_path / "out/o.webm")
    assert sound is not None and sound.channels == 1


def test_json_events_and_dedup(project, vbr, redness_model, tmp_path):
    static = make_clip(tmp_path / "static.mp4", moving=False, audio=False)
    text = body(redness_model).replace("dedup_threshold: 0", "dedup_threshold: 0.05")
    path = project(text, source=static)
    result = vbr("render", "--json", path)
    assert result.code == 0
    events = result.events
    assert events[0]["event"] == "start" and events[0]["frames"] == 25
    assert any(e["event"] == "progress" for e in events)
    done = events[-1]
    assert done["event"] == "done"
    assert done["frames"] == 25
    # Only the frame-number blocks change (under 3.5% of pixels): one inference, 24 reuses.
    assert done["inferred_frames"] == 1 and done["reused_frames"] == 24
    assert Path(done["output"]) == (tmp_path / "out/o.webm").resolve()
    assert done["seconds"] > 0


def test_dedup_compares_with_the_last_inferred_frame(project, vbr, redness_model, tmp_path):
    """The square moves 1 px a frame (~3% of the model's 64x64 input): each step alone
    is below a 5% threshold, but drift against the last *inferred* frame crosses it,
    so the mask is refreshed every few frames instead of going stale."""
    drifting = make_clip(tmp_path / "drift.mp4", step=1, counter=False, audio=False)
    text = body(redness_model).replace("dedup_threshold: 0", "dedup_threshold: 0.05")
    result = vbr("render", "--json", project(text, source=drifting))
    done = result.events[-1]
    assert 6 <= done["inferred_frames"] <= 16
    assert done["inferred_frames"] + done["reused_frames"] == 25
    video = read_video(tmp_path / "out/o.webm")
    frame = video.frames[-1]
    ys, xs = subject_box(frame, margin=6)
    assert frame[ys, xs, 3].min() >= 250  # the mask follows the square to the end


def test_dedup_off_infers_every_frame(project, vbr, redness_model, tmp_path):
    static = make_clip(tmp_path / "static.mp4", moving=False, audio=False)
    result = vbr("render", "--json", project(body(redness_model), source=static))
    assert result.events[-1]["inferred_frames"] == 25 and result.events[-1]["reused_frames"] == 0


def test_summary_line(project, vbr, redness_model):
    result = vbr("render", project(body(redness_model)))
    assert result.code == 0
    assert "25 frames, 25 inferred on CPUExecutionProvider, 0 from cache, 0 reused by dedup" in result.out
    again = vbr("render", project(body(redness_model)))
    assert again.code == 0 and again.out.startswith("up to date: ")


def test_same_project_same_bytes(project, vbr, redness_model, tmp_path):
    """Cold in one cache, cold in another, warm: three renders, one sha256."""
    path = project(body(redness_model))
    output = tmp_path / "out/o.webm"
    digests = []
    for cache, expect_inferred in (("a", 25), ("b", 25), ("a", 0)):
        result = vbr("render", "--json", "--force", "--cache-dir", tmp_path / cache, path)
        assert result.code == 0 and result.events[-1]["inferred_frames"] == expect_inferred
        digests.append(hashlib.sha256(output.read_bytes()).hexdigest())
    assert digests[0] == digests[1] == digests[2]


def test_invalid_project_exit_2_no_output(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, export="{path: out/o.webm, fps: 25}"))
    result = vbr("render", path)
    assert result.code == 2
    assert result.err.strip() == f"{path}:5:33: export.fps: 25 is not one of: original, 30, 24, 15"
    assert not (tmp_path / "out").exists()


def test_failure_mid_render_leaves_target_untouched(project, vbr, redness_model, tmp_path):
    (tmp_path / "not-an-image.png").write_bytes(b"this is text, not a PNG")
    (tmp_path / "out").mkdir()
    (tmp_path / "out/o.mp4").write_bytes(b"previous render")
    path = project(body(redness_model, "{type: image, image: not-an-image.png}", "{path: out/o.mp4}"))
    result = vbr("render", path)
    assert result.code == 1
    assert "not-an-image.png" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert (tmp_path / "out/o.mp4").read_bytes() == b"previous render"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["o.mp4"]


def test_unreadable_source_is_a_runtime_error(project, vbr, redness_model, tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    result = vbr("render", project(body(redness_model), source=garbage))
    assert result.code == 1
    assert result.err.startswith(f"{tmp_path / 'project.yaml'}:2:9: ")
    assert not (tmp_path / "out").exists()


def test_json_error_event(project, vbr, redness_model):
    result = vbr("render", "--json", project(body(redness_model, export="{path: out/o.mp4}")))
    assert result.code == 2
    assert result.events[-1]["event"] == "error" and result.events[-1]["exit_code"] == 2
    assert "MP4" in result.events[-1]["message"]


def test_phone_rotation_is_honoured(project, vbr, redness_model, tmp_path):
    """A portrait phone clip: landscape frames stored with a -90 degree display rotation."""
    phone = make_clip(tmp_path / "phone.mp4", rotation=-90, audio=False, seconds=0.2)
    path = project(body(redness_model, export="{path: out/o.webm}"), source=phone)
    assert vbr("render", "-q", path).code == 0
    video = read_video(tmp_path / "out/o.webm")
    assert (video.width, video.height) == (96, 160)
    frame = video.frames[0]
    save_png(frame, tmp_path / "upright.png")
    # Turned clockwise: the stored frame's top row (the frame-number blocks) is now the right column.
    stored = np.rot90(frame, 1)  # undo: a counter-clockwise quarter turn gives the stored frame back
    assert frame_index(stored) == 0 and frame_index(np.rot90(video.frames[4], 1)) == 4
    ys, xs = subject_box(frame)
    assert frame[ys, xs, 3].min() >= 250 and frame[-20:, :, 3].max() <= 5


def test_unwritable_output_directory_is_a_clear_error(project, vbr, redness_model, tmp_path):
    (tmp_path / "blocker").write_text("a file where a directory should be")
    result = vbr("render", project(body(redness_model, export="{path: blocker/out/o.webm}")))
    assert result.code == 1
    assert result.err.startswith(f"{tmp_path / 'blocker/out/o.webm'}: cannot write here (")
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("container", ["webm", "mp4"])
def test_quality_presets(project, vbr, redness_model, tmp_path, container):
    """Same frames and audio in every preset; draft is the furthest from high (sizes say little on a tiny clip)."""
    background = "{type: transparent}" if container == "webm" else "{type: color, color: '#3060a0'}"
    sizes, decoded = {}, {}
    for quality in ("draft", "standard", "high"):
        path = project(body(redness_model, background, f"{{path: out/{quality}.{container}, quality: {quality}}}"))
        assert vbr("render", path).code == 0
        output = tmp_path / "out" / f"{quality}.{container}"
        sizes[quality] = output.stat().st_size
        decoded[quality] = read_video(output)
        assert len(decoded[quality].frames) == 25 and read_audio(output) is not None
        assert decoded[quality].has_alpha == (container == "webm")
    assert len(set(sizes.values())) == 3
    if container == "mp4":  # x264 writes its settings into the stream
        for quality, crf in (("draft", b"crf=28.0"), ("standard", b"crf=20.0"), ("high", b"crf=16.0")):
            assert crf in (tmp_path / "out" / f"{quality}.mp4").read_bytes()
    # Over the whole clip: one frame can land either way (x264 spends bits unevenly in time).
    error = {q: np.mean([np.abs(a[..., :3].astype(int) - b[..., :3]).mean() for a, b in zip(decoded[q].frames, decoded["high"].frames)]) for q in sizes}
    assert error["draft"] > error["standard"] > 0
