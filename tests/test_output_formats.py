"""ProRes 4444 MOV and PNG sequences, end to end: what the writers take, what vbr writes, how a sequence is published.

Renders use the tiny redness model; what vbr wrote is decoded with PyAV and
compared with the frames `api.preview` gives (the export's frames before
encoding): exactly for PNG (lossless), within a level of alpha for ProRes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import make_clip, make_image, project_body, read_audio

RATE = 48_000


def body(model: str, export: str, background: str = "{type: transparent}", extra: str = "") -> str:
    return project_body(model, background, export, extra)


def read_pngs(folder: Path) -> dict[str, tuple[str, np.ndarray]]:
    """Every PNG in a folder: name -> (pixel format, pixels in that format)."""
    found = {}
    for path in sorted(folder.glob("*.png")):
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            found[path.name] = (frame.format.name, frame.to_ndarray(format=frame.format.name))
    return found


def read_mov(path: Path) -> tuple[av.codec.context.CodecContext, Fraction, list[np.ndarray]]:
    """The video stream's decoder context, its frame rate and every frame as 8-bit RGBA."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgba") for frame in container.decode(stream)]
        return stream.codec_context, Fraction(stream.average_rate), frames


def pcm(path: Path) -> tuple[str, int, int, int]:
    """A file's audio: (codec, sample format, rate, channels) and how many samples it lasts."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        ctx = stream.codec_context
        return ctx.name, ctx.format.name, ctx.sample_rate, ctx.channels, samples


def quicktime_times(path: Path) -> list[int]:
    """The creation and modification times of every movie, track and media header (mvhd, tkhd, mdhd)."""
    data = path.read_bytes()
    times = []
    for atom in (b"mvhd", b"tkhd", b"mdhd"):
        at = data.find(atom)
        while at != -1:
            version = data[at + 4]
            width = 8 if version == 1 else 4
            start = at + 8
            times += [int.from_bytes(data[start : start + width], "big"), int.from_bytes(data[start + width : start + 2 * width], "big")]
            at = data.find(atom, at + 4)
    return times


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative name: to show it was left exactly as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "vbr-partial" in p.name)


def previewed(path: Path, frames: int = 25) -> list[np.ndarray]:
    """The export's frames before encoding, as `vbr preview` computes them."""
    import renderer.api as api

    return [still.image for still in api.preview(api.compile(path), frames=range(frames)).frames]


# --- the writers, fed directly ---------------------------------------------------------------------


def settings(fmt: str, *, alpha: bool = False, content: str = "composite", size: tuple[int, int] = (64, 48)):
    from renderer.media.encode import VideoSettings

    return VideoSettings(fmt, size[0], size[1], Fraction(25), alpha, "standard", content)


def ramp_rgba(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Colours and an alpha that covers every level: a horizontal ramp, shifted per frame."""
    x = np.arange(width)[None, :].repeat(height, 0)
    y = np.arange(height)[:, None].repeat(width, 1)
    image = np.empty((height, width, 4), np.uint8)
    image[..., 0] = (x * 4 + i) % 256
    image[..., 1] = (y * 5) % 256
    image[..., 2] = 200 - y
    image[..., 3] = (x * 4 + y + i * 3) % 256
    return image


def tone(layout: str):
    """Endless planar float blocks: a 440 Hz tone (what the audio stage hands a writer)."""
    channels = 1 if layout == "mono" else 2
    start = 0
    while True:
        t = (start + np.arange(1024)) / RATE
        yield np.repeat((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None], channels, axis=0)
        start += 1024


def test_the_mov_writer_keeps_the_alpha_within_one_level_and_tags_bt709(tmp_path):
    from renderer.media.encode import VideoWriter

    frames = [ramp_rgba(i) for i in range(10)]
    with VideoWriter(tmp_path / "o.mov", settings("mov", alpha=True), tone("stereo"), "stereo") as writer:
        assert writer.vstream.pix_fmt == "yuva444p10le"
        for frame in frames:
            writer.write(frame)
        writer.commit()
    ctx, rate, decoded = read_mov(tmp_path / "o.mov")
    assert (ctx.name, ctx.profile, ctx.codec_tag) == ("prores", "4444", "ap4h")
    assert ctx.pix_fmt.startswith("yuva444p")  # FFmpeg's decoder gives 12 bits; the encoder was handed 10
    assert (ctx.width, ctx.height, rate, len(decoded)) == (64, 48, 25, 10)
    assert (ctx.color_primaries, ctx.color_trc, ctx.colorspace) == (1, 1, 1)  # BT.709 each
    for made, back in zip(frames, decoded):
        assert np.abs(back[..., 3].astype(int) - made[..., 3]).max() <= 1
        assert np.abs(back[..., :3].astype(int) - made[..., :3]).mean() < 1.5
    assert pcm(tmp_path / "o.mov") == ("pcm_s16le", "s16", RATE, 2, RATE * 10 // 25)  # exactly the video's 0.4 s


def test_prores_quality_presets_trade_size_for_fidelity_and_never_touch_the_alpha(tmp_path):
    from dataclasses import replace

    from renderer.media.encode import VideoWriter

    frames = [ramp_rgba(i) for i in range(4)]
    sizes, errors = [], []
    for quality in ("draft", "standard", "high"):
        target = tmp_path / f"{quality}.mov"
        with VideoWriter(target, replace(settings("mov", alpha=True), quality=quality)) as writer:
            for frame in frames:
                writer.write(frame)
            writer.commit()
        _, _, decoded = read_mov(target)
        assert all(np.abs(b[..., 3].astype(int) - f[..., 3]).max() <= 1 for b, f in zip(decoded, frames))
        sizes.append(target.stat().st_size)
        errors.append(np.mean([np.abs(b[..., :3].astype(int) - f[..., :3]).mean() for b, f in zip(decoded, frames)]))
    assert sizes[0] < sizes[1] < sizes[2] and errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize("fmt", ["webm", "mp4", "mov"])
def test_a_grey_matte_frame_is_encoded_exactly_as_the_rgb_picture_of_its_levels(tmp_path, fmt):
    """Full-range grey -> limited-range Y by the very conversion RGB takes: the same bytes."""
    from renderer.media.encode import VideoWriter

    greys = [ramp_rgba(i)[..., 3] for i in range(6)]
    for name, frames, content in (("grey", greys, "matte"), ("rgb", [np.dstack([g, g, g]) for g in greys], "composite")):
        with VideoWriter(tmp_path / f"{name}.{fmt}", settings(fmt, content=content)) as writer:
            for frame in frames:
                writer.write(frame)
            writer.commit()
    assert (tmp_path / f"grey.{fmt}").read_bytes() == (tmp_path / f"rgb.{fmt}").read_bytes()
    if fmt == "mov":  # an opaque grey picture: alpha 255, R = G = B = the level
        _, _, decoded = read_mov(tmp_path / "grey.mov")
        for grey, back in zip(greys, decoded):
            assert back[..., 3].min() == 255
            off = np.abs(back[..., :3].astype(int) - grey[..., None])
            assert off.mean() < 1 and off.max() <= 4  # ProRes at quantiser 4 on a hard ramp


@pytest.mark.parametrize(
    "alpha, content, frame_of, mode",
    [
        (True, "composite", lambda i: ramp_rgba(i), "rgba"),
        (False, "composite", lambda i: ramp_rgba(i)[..., :3], "rgb24"),
        (False, "matte", lambda i: ramp_rgba(i)[..., 3], "gray"),
    ],
)
def test_the_png_writer_writes_numbered_lossless_frames_and_a_wav_as_long_as_them(tmp_path, alpha, content, frame_of, mode):
    from renderer.media.sequence import SequenceWriter

    frames = [frame_of(i) for i in range(7)]
    target = tmp_path / "seq"
    with SequenceWriter(target, settings("png", alpha=alpha, content=content), "f_%03d.png", tone("mono"), "mono") as writer:
        for frame in frames:
            writer.write(frame)
        writer.commit()
    pngs = read_pngs(target)
    assert sorted(p.name for p in target.iterdir()) == ["audio.wav"] + [f"f_{i:03d}.png" for i in range(7)]
    for i, frame in enumerate(frames):
        found, pixels = pngs[f"f_{i:03d}.png"]
        assert found == mode and np.array_equal(pixels, frame)
    assert pcm(target / "audio.wav") == ("pcm_s16le", "s16", RATE, 1, RATE * 7 // 25)
    assert partials(tmp_path) == []


def test_a_png_writer_left_without_commit_leaves_nothing(tmp_path):
    from renderer.media.sequence import SequenceWriter

    with pytest.raises(RuntimeError):
        with SequenceWriter(tmp_path / "seq", settings("png"), "frame_%05d.png") as writer:
            writer.write(ramp_rgba(0)[..., :3])
            assert partials(tmp_path)  # it was writing beside the target
            raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


# --- renders -------------------------------------------------------------------------------------------


def test_transparent_prores_keeps_the_composites_alpha_and_pcm_audio(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/o.mov}"))
    result = vbr("render", "--json", path)
    assert result.code == 0, result.err
    ctx, rate, frames = read_mov(tmp_path / "out/o.mov")
    assert (ctx.name, ctx.profile, ctx.codec_tag, ctx.width, ctx.height, rate, len(frames)) == (
        "prores", "4444", "ap4h", 160, 96, 25, 25
    )
    for i, still in enumerate(previewed(path)):
        assert np.abs(frames[i][..., 3].astype(int) - still[..., 3]).max() <= 1, f"frame {i}"
        seen = still[..., 3] > 0  # straight alpha: colours matter where the subject is
        assert np.abs(frames[i][seen, :3].astype(int) - still[seen, :3]).mean() < 2
    assert frames[12][..., 3].max() == 255 and frames[12][..., 3].min() == 0  # subject and background both there
    assert pcm(tmp_path / "out/o.mov") == ("pcm_s16le", "s16", RATE, 2, RATE)  # 25 frames at 25 fps
    assert result.events[-1]["output"] == str(tmp_path / "out/o.mov")
    times = quicktime_times(tmp_path / "out/o.mov")
    assert len(times) == 2 * 5 and set(times) == {0}  # movie, 2 tracks, 2 media: no wall-clock time anywhere


def test_opaque_prores_has_an_opaque_alpha_plane(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/o.mov, audio: false}", "{type: color, color: '#2040c0'}"))
    assert vbr("render", "-q", path).code == 0
    ctx, _, frames = read_mov(tmp_path / "out/o.mov")
    assert ctx.pix_fmt.startswith("yuva444p") and len(frames) == 25
    assert all(frame[..., 3].min() == 255 for frame in frames)
    assert np.abs(frames[10][70:, 10:30, :3].astype(int) - (0x20, 0x40, 0xC0)).max() <= 3
    assert read_audio(tmp_path / "out/o.mov") is None


def test_a_transparent_png_sequence_is_the_previewed_frames_exactly(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/seq, format: png}"))
    result = vbr("render", "--json", path)
    assert result.code == 0, result.err
    folder = tmp_path / "out/seq"
    names = [f"frame_{i:05d}.png" for i in range(25)]
    assert sorted(p.name for p in folder.iterdir()) == ["audio.wav", *names]
    pngs = read_pngs(folder)
    for name, still in zip(names, previewed(path)):
        mode, pixels = pngs[name]
        assert mode == "rgba" and pixels.shape == (96, 160, 4)
        assert np.array_equal(pixels, still), name
    assert pcm(folder / "audio.wav") == ("pcm_s16le", "s16", RATE, 2, RATE)
    manifest = json.loads((tmp_path / "out/seq.manifest.json").read_text())
    assert manifest["output"] == "seq" and manifest["pattern"] == "frame_%05d.png" and manifest["frames"] == 25
    pairs = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in folder.iterdir())
    expected = hashlib.sha256(json.dumps([list(pair) for pair in pairs], separators=(",", ":")).encode()).hexdigest()
    assert manifest["output_sha256"] == expected
    assert result.events[-1]["output"] == str(folder) and partials(tmp_path / "out") == []


def test_an_opaque_png_sequence_from_a_pattern_is_rgb(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: 'frames/shot_%03d.png', audio: false}", "{type: color, color: '#2040c0'}"))
    result = vbr("render", path)
    assert result.code == 0, result.err
    folder = tmp_path / "frames"
    assert sorted(p.name for p in folder.iterdir()) == [f"shot_{i:03d}.png" for i in range(25)]
    assert result.out.startswith(f"wrote {folder}/ (shot_000.png to shot_024.png): 25 frames")
    pngs = read_pngs(folder)
    for i, still in enumerate(previewed(path)):
        mode, pixels = pngs[f"shot_{i:03d}.png"]
        assert mode == "rgb24" and np.array_equal(pixels, still[..., :3])
    assert (tmp_path / "frames.manifest.json").is_file()


def test_a_matte_png_sequence_is_grey(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/matte, format: png, content: matte}", background="").replace("background: \n", ""))
    result = vbr("render", "-q", path)
    assert result.code == 0, result.err
    pngs = read_pngs(tmp_path / "out/matte")
    assert len(pngs) == 25 and {mode for mode, _ in pngs.values()} == {"gray"}
    grey = pngs["frame_00012.png"][1]
    assert grey.shape == (96, 160) and grey.max() == 255 and grey.min() == 0  # the subject white, the rest black


@pytest.mark.parametrize("export", ["{path: out/o.mov}", "{path: out/seq, format: png}"])
def test_up_to_date_outputs_are_skipped_and_forced_renders_are_byte_identical(project, vbr, redness_model, tmp_path, export):
    path = project(body(redness_model, export))
    assert vbr("render", "-q", path).code == 0
    output = tmp_path / "out" / ("o.mov" if "mov" in export else "seq")
    first = snapshot(tmp_path / "out")
    again = vbr("render", "--json", path)
    assert again.code == 0 and again.events[-1]["skipped"] is True
    forced = vbr("render", "--json", "--force", path)
    assert forced.code == 0 and forced.events[-1]["skipped"] is False
    assert snapshot(tmp_path / "out") == first  # no timestamp, no thread timing: the same bytes
    assert output.exists()


def test_a_changed_or_missing_frame_makes_the_sequence_render_again(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/seq, format: png}"))
    assert vbr("render", "-q", path).code == 0
    folder = tmp_path / "out/seq"
    first = snapshot(folder)
    frame = folder / "frame_00007.png"
    frame.write_bytes(frame.read_bytes()[:-1] + b"\x00")
    changed = vbr("render", "--json", path)
    assert changed.code == 0 and changed.events[-1]["skipped"] is False
    assert snapshot(folder) == first
    (folder / "frame_00003.png").unlink()
    missing = vbr("render", "--json", path)
    assert missing.code == 0 and missing.events[-1]["skipped"] is False
    assert snapshot(folder) == first


def _earlier_sequence(project, vbr, model: str, tmp_path: Path, source: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A longer project rendered once with a blue background: the sequence a later render must not disturb."""
    path = project(body(model, "{path: out/seq, format: png}", "{type: color, color: '#0000ff'}"), source=source)
    assert vbr("render", "-q", path).code == 0
    path.write_text(body(model, "{path: out/seq, format: png}", "{type: color, color: '#ff00ff'}"), encoding="utf-8")
    return path, tmp_path / "out/seq", snapshot(tmp_path / "out")


def test_a_cancelled_render_leaves_the_earlier_sequence_as_it_was(project, vbr, redness_model, tmp_path):
    import renderer.api as api
    from renderer.events import Progress

    longer = make_clip(tmp_path / "long.mp4", seconds=2.0)
    path, folder, before = _earlier_sequence(project, vbr, redness_model, tmp_path, longer)
    cancel = threading.Event()
    seen: list[int] = []

    def stop_midway(event):
        if isinstance(event, Progress):
            seen.append(event.frames_done)
            if event.frames_done == 20:
                cancel.set()

    with pytest.raises(api.Cancelled):
        api.render(api.compile(path), on_event=stop_midway, cancel=cancel)
    assert 20 <= max(seen) < 50
    assert snapshot(tmp_path / "out") == before and partials(tmp_path / "out") == []


def test_a_render_failing_midway_leaves_the_earlier_sequence_as_it_was(project, vbr, redness_model, tmp_path, monkeypatch):
    from renderer.media.sequence import SequenceWriter

    longer = make_clip(tmp_path / "long.mp4", seconds=2.0)
    path, folder, before = _earlier_sequence(project, vbr, redness_model, tmp_path, longer)
    save = SequenceWriter._save

    def disk_full_at_frame_30(self, packets):
        if self.frames >= 30:
            raise OSError(28, "No space left on device")
        save(self, packets)

    monkeypatch.setattr(SequenceWriter, "_save", disk_full_at_frame_30)
    result = vbr("render", path)
    assert result.code == 1
    assert result.err == f"{folder}: encoding failed (No space left on device)\n"
    assert snapshot(tmp_path / "out") == before and partials(tmp_path / "out") == []


def test_a_finished_render_replaces_the_earlier_sequence_whole(project, vbr, redness_model, tmp_path, monkeypatch):
    """Also where paths cannot be swapped in one step: the earlier folder is renamed aside, then deleted."""
    from renderer import publish

    path, folder, before = _earlier_sequence(project, vbr, redness_model, tmp_path, make_clip(tmp_path / "c.mp4"))
    (folder / "frame_00024.png").unlink()  # the new sequence has its own 25 frames, not the old ones
    for swap in (True, False):
        if not swap:
            monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
            path.write_text(body(redness_model, "{path: out/seq, format: png}", "{type: color, color: '#00ffff'}"), encoding="utf-8")
        assert vbr("render", "-q", path).code == 0
        pngs = read_pngs(folder)
        assert len(pngs) == 25 and partials(tmp_path / "out") == []
        colour = (255, 0, 255) if swap else (0, 255, 255)
        assert np.abs(pngs["frame_00024.png"][1][70:, 10:30].astype(int) - colour).max() <= 2
    assert snapshot(tmp_path / "out") != before


def test_stale_partial_folders_are_swept_but_not_a_live_renders(tmp_path):
    from renderer.publish import remove_stale_partials

    target = tmp_path / "seq"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale, live = tmp_path / f".seq.{dead}-abcd.vbr-partial", tmp_path / f".seq.{os.getpid()}-efgh.vbr-partial"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "frame_00000.png").write_bytes(b"x")
    other = tmp_path / f".seqx.{dead}-abcd.vbr-partial"  # another target's
    other.mkdir()
    remove_stale_partials(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


# --- what may be replaced -------------------------------------------------------------------------------


def test_a_folder_vbr_did_not_write_is_refused_and_left_intact(project, vbr, redness_model, tmp_path):
    folder = tmp_path / "out/seq"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    path = project(body(redness_model, "{path: out/seq, format: png}"))
    for command in ("validate", "render"):
        result = vbr(command, path)
        assert (result.code, result.err) == (2, (
            f"{path}:5:16: export.path is a folder vbr did not write (it holds notes.txt): a PNG sequence replaces "
            "only an empty folder or an earlier sequence of vbr's\n"
        )), command
    assert snapshot(folder) == {"notes.txt": b"mine"}
    # An earlier sequence of vbr's is replaceable until something else is put in it.
    folder.joinpath("notes.txt").unlink()
    assert vbr("render", "-q", path).code == 0
    (folder / "extra.png").write_bytes(b"not a frame")
    assert vbr("validate", path).code == 2
    assert (folder / "extra.png").read_bytes() == b"not a frame"


@pytest.mark.parametrize(
    "export, message",
    [
        ("{path: 'frame_%05d.png'}", "export.path would hold the project file ({file}): a PNG sequence's folder holds its frames alone"),
        ("{path: assets, format: png}", "export.path would hold the background image ({image}): a PNG sequence's folder holds its frames alone"),
        ("{path: project.yaml, format: png}", "export.path is a file, not a folder: a PNG sequence is written into a folder of its own ({file})"),
    ],
)
def test_a_sequence_folder_holding_an_input_is_refused(project, vbr, redness_model, tmp_path, export, message):
    (tmp_path / "assets").mkdir()
    image = make_image(tmp_path / "assets/bg.png", np.zeros((8, 8, 3), np.uint8)) if "assets" in export else None
    background = "{type: image, image: assets/bg.png}" if image else "{type: transparent}"
    path = project(body(redness_model, export, background))
    result = vbr("validate", path)
    assert result.code == 2
    shown = message.format(file=path.resolve(), image=image)
    assert result.err.split(": ", 1)[1] == shown + "\n", result.err


def test_a_file_where_the_sequence_folder_goes_is_refused(project, vbr, redness_model, tmp_path):
    (tmp_path / "seq").write_text("a file", encoding="utf-8")
    path = project(body(redness_model, "{path: seq, format: png}"))
    result = vbr("validate", path)
    assert (result.code, result.err) == (
        2, f"{path}:5:16: export.path is a file, not a folder: a PNG sequence is written into a folder of its own ({tmp_path / 'seq'})\n"
    )


def test_a_still_is_not_written_into_the_sequence_folder(project, vbr, redness_model, tmp_path):
    path = project(body(redness_model, "{path: out/seq, format: png}"))
    result = vbr("preview", path, "--at", "0", "-o", tmp_path / "out/seq/still.png")
    assert (result.code, result.err) == (2, (
        f"vbr preview: -o {tmp_path / 'out/seq/still.png'} is inside the export's PNG sequence folder (export.path), "
        "which holds the sequence alone\n"
    ))


def test_the_encoder_size_limits_of_mov_and_png():
    from renderer.media.frame_size import size_problem

    assert size_problem(65535, 16, "mov", 10**6) is None
    assert size_problem(65536, 16, "mov", 10**6) == "larger than ProRes (MOV) takes (65535 pixels a side)"
    assert size_problem(65536, 16, "png", 10**6) is None
    assert size_problem(9000, 16, "png", 8192) == "over the limit of 8192 pixels a side (VBR_MAX_FRAME_SIZE raises it)"


# --- batches, the studio -----------------------------------------------------------------------------------

TEMPLATE = """version: 1
vars:
  name: {{type: string}}
  colour: {{type: color, default: "#2040c0"}}
source: media/clip.mp4
model: {{path: {model}, input_size: 64, activation: sigmoid}}
background: {{type: color, color: "${{colour}}"}}
export: {{path: "out/${{name}}", format: png}}
"""


def test_a_local_batch_writes_png_sequences_in_two_workers(project, vbr, redness_model_file, tmp_path):
    template = project(TEMPLATE.format(model=redness_model_file), name="t.yaml")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,colour\nA,#ff0000\nB,#00ff00\nC,#0000ff\n", encoding="utf-8")
    result = vbr("batch", template, rows, "-j", "2", "--json")
    assert result.code == 0, result.err
    for name in "ABC":
        assert len(list((tmp_path / "out" / name).glob("frame_*.png"))) == 25
        assert (tmp_path / "out" / name / "audio.wav").is_file() and (tmp_path / "out" / f"{name}.manifest.json").is_file()
    batch = json.loads((tmp_path / "batch-manifest.json").read_text())
    assert [row["output"] for row in batch["rows"]] == ["out/A", "out/B", "out/C"]
    assert partials(tmp_path / "out") == []
    again = vbr("batch", template, rows, "-j", "2", "--json")
    assert [e["skipped"] for e in again.events if e["event"] == "done"] == [True] * 3


def test_a_batch_row_writing_into_another_rows_sequence_folder_fails_with_it(project, vbr, redness_model_file, tmp_path):
    template = project(TEMPLATE.format(model=redness_model_file), name="t.yaml")
    rows = tmp_path / "rows.csv"
    rows.write_text("name\nA\nA/B\nC\n", encoding="utf-8")
    result = vbr("batch", template, rows, "--json")
    assert result.code == 2
    errors = {e["row"]: e["message"] for e in result.events if e["event"] == "error"}
    out = tmp_path / "out"
    assert errors == {
        2: f"{rows}:2: output {out / 'A'} is a PNG sequence's folder that would hold the output of line 3",
        3: f"{rows}:3: output {out / 'A/B'} is inside the PNG sequence folder of line 2",
    }
    assert sorted(p.name for p in out.iterdir()) == ["C", "C.manifest.json"]


def test_a_batch_row_whose_sequence_folder_holds_another_rows_input_fails(project, vbr, redness_model_file, tmp_path):
    """A frame of an earlier sequence used as another row's backdrop: re-rendering the sequence would replace it."""
    template = project(TEMPLATE.format(model=redness_model_file).replace(
        'background: {type: color, color: "${colour}"}', 'background: {type: image, image: "${backdrop}"}'
    ).replace("vars:\n", "vars:\n  backdrop: {type: path, default: sky.png}\n"), name="t.yaml")
    make_image(tmp_path / "sky.png", np.full((96, 160, 3), 200, np.uint8))
    rows = tmp_path / "rows.csv"
    rows.write_text("name\nA\n", encoding="utf-8")
    assert vbr("batch", template, rows).code == 0
    rows.write_text("name,backdrop\nA,\nB,out/A/frame_00003.png\n", encoding="utf-8")
    before = snapshot(tmp_path / "out/A")
    result = vbr("batch", template, rows, "--json", "--force")
    assert result.code == 2
    errors = {e["row"]: e["message"] for e in result.events if e["event"] == "error"}
    assert errors == {
        2: f"{rows}:2: output {tmp_path / 'out/A'} (a PNG sequence's folder) would hold the background image of line 3"
    }
    assert snapshot(tmp_path / "out/A") == before  # B rendered over its frame; A was not redone
    assert len(list((tmp_path / "out/B").glob("*.png"))) == 25


@pytest.mark.parametrize("export, playable", [("{path: out/o.mov}", False), ("{path: out/seq, format: png}", False), ("{path: out/o.webm}", True)])
def test_the_studio_says_where_an_export_it_cannot_play_is(project, vbr, redness_model, tmp_path, export, playable):
    import renderer.api as api
    from renderer.studio.session import output_json

    path = project(body(redness_model, export))
    compiled = api.compile(path)
    target = str(compiled.loaded.export)
    assert output_json(compiled) == {"exists": False, "path": target, "playable": playable, "frames": None}
    assert vbr("render", "-q", path).code == 0
    assert output_json(compiled) == {"exists": True, "path": target, "playable": playable, "frames": 25}
