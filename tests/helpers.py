"""Media made and read back by the tests: PyAV clips in, decoded pixels out."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

GREEN = (0, 160, 0)
BITS = 8
RED = (220, 30, 30)


def project_body(model: str, background: str = "{type: transparent}", export: str = "{path: out/o.webm}", extra: str = "") -> str:
    """A project over make_clip's clip (media/clip.mp4): the model per frame (no filter, no dedup), then `extra` lines."""
    return f"""version: 1
source: media/clip.mp4
model: {{name: {model}, ema_alpha: 1.0, dedup_threshold: 0}}
background: {background}
export: {export}
{extra}"""


def make_clip(
    path: Path,
    *,
    size: tuple[int, int] = (160, 96),
    fps: int = 25,
    seconds: float = 1.0,
    audio: bool = True,
    moving: bool = True,
    stripes: bool = False,
    audio_channels: int = 2,
    step: int = 2,
    counter: bool = True,
    rotation: int = 0,
    audio_seconds: float | None = None,
    sar: Fraction | None = None,
    loudness: float = 0.3,
    audio_codec: str = "aac",
) -> Path:
    """A green field with a red square (the 'subject'); frame i carries i in its top row.

    Eight 8x8 blocks along the top-left edge spell i in binary (white = 1), so
    tests can tell which source frame an output frame shows, through any codec.
    `sar` stores the frames anamorphic (shown `sar` times as wide as stored).
    Audio is a 440 Hz tone of peak `loudness` on every channel (`audio_channels`: 1, 2, 4
    quad, 6 for 5.1, 8 for 7.1), as long as the video unless `audio_seconds` says otherwise.
    """
    width, height = size
    frames = round(seconds * fps)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "4", "preset": "ultrafast"}
        if rotation:
            stream.set_display_rotation(rotation)  # counter-clockwise, as phones record portrait
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        astream = None
        if audio:
            layout = {1: "mono", 2: "stereo", 4: "quad", 6: "5.1", 8: "7.1"}[audio_channels]
            astream = container.add_stream(audio_codec, rate=48000, layout=layout)
        for i in range(frames):
            image = np.empty((height, width, 3), dtype=np.uint8)
            image[...] = GREEN
            if stripes:
                image[:, (np.arange(width) // 8) % 2 == 0] = (0, 60, 0)
            side = height // 2
            x = (width // 4 + (i * step if moving else 0)) % (width - side)
            y = height // 4
            image[y : y + side, x : x + side] = RED
            for bit in range(BITS if counter else 0):
                image[:8, bit * 8 : bit * 8 + 8] = 255 if i >> bit & 1 else 0
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if astream is not None:
            write_tone(container, astream, seconds if audio_seconds is None else audio_seconds, 440, loudness)
    return path


def write_tone(container: av.container.OutputContainer, astream: av.audio.stream.AudioStream, seconds: float,
               hertz: float, loudness: float) -> None:
    """A sine of peak `loudness` on every channel of `astream`, 48 kHz, `seconds` long, then the encoder flushed."""
    total = round(seconds * 48000)
    wave = (loudness * np.sin(2 * np.pi * hertz * np.arange(total) / 48000)).astype(np.float32)
    channels = astream.layout.nb_channels
    for start in range(0, total, 1024):
        # Interleaved: PyAV's from_ndarray cannot take 8 planes.
        block = np.repeat(wave[start : start + 1024], channels)[None]
        aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout=astream.layout.name)
        aframe.sample_rate = 48000
        aframe.pts = start
        for packet in astream.encode(aframe):
            container.mux(packet)
    for packet in astream.encode(None):
        container.mux(packet)


def write_frames(path: Path, images: list[np.ndarray], fps: int = 25, tone: float | None = None) -> Path:
    """RGB frames as a lossless H.264 4:4:4 clip (x264 takes odd and 1-pixel sides there);
    `tone`: with a stereo AAC 1 kHz sine of that peak, as long as the frames."""
    height, width = images[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        stream.options = {"crf": "0", "preset": "ultrafast"}
        sound = container.add_stream("aac", rate=48000, layout="stereo") if tone else None
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            write_tone(container, sound, len(images) / fps, 1000, tone)
    return path


def area_matrix(n: int, n_out: int) -> np.ndarray:
    """(n_out, n) area-averaging weights in float64: output i = mean of the input over [i s, (i + 1) s), s = n / n_out."""
    m = np.zeros((n_out, n))
    for i in range(n_out):
        lo, hi = i * n / n_out, (i + 1) * n / n_out
        for j in range(n):
            m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j)) * n_out / n
    return m


def make_image(path: Path, image: np.ndarray) -> Path:
    """Write an RGB(A) array as a PNG with FFmpeg's PNG encoder."""
    fmt = "rgba" if image.shape[2] == 4 else "rgb24"
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], fmt
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format=fmt)):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@dataclass
class Video:
    frames: list[np.ndarray]  # RGBA for VP9 with alpha, else RGB
    codec: str
    pix_fmt: str
    width: int
    height: int
    rate: Fraction
    duration: float  # seconds, from the container

    @property
    def has_alpha(self) -> bool:
        return self.frames[0].shape[2] == 4


def read_png(path: Path) -> np.ndarray:
    """A still vbr wrote (PNG or JPEG): RGBA where it has alpha, else RGB."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgba" if "a" in frame.format.name else "rgb24")


def read_video(path: Path) -> Video:
    """Decode every frame; VP9 through libvpx so its alpha plane is kept."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        frames: list[np.ndarray] = []
        if codec == "vp9":
            decoder = av.CodecContext.create("libvpx-vp9", "r")
            for packet in container.demux(stream):
                try:
                    decoded = decoder.decode(packet)
                except av.error.EOFError:
                    break
                for frame in decoded:
                    frames.append(frame.to_ndarray(format="rgba" if frame.format.name == "yuva420p" else "rgb24"))
            pix_fmt = "yuva420p" if frames and frames[0].shape[2] == 4 else "yuv420p"
        else:
            pix_fmt = stream.codec_context.pix_fmt
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return Video(
            frames=frames,
            codec=codec,
            pix_fmt=pix_fmt,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            rate=Fraction(stream.average_rate),
            duration=container.duration / av.time_base if container.duration else 0.0,
        )


@dataclass
class Sound:
    codec: str
    rate: int
    channels: int
    samples: np.ndarray  # channels x n, float

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.rate


def read_audio(path: Path) -> Sound | None:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        blocks = [f.to_ndarray() for f in container.decode(stream)]
        data = np.concatenate(blocks, axis=1) if blocks else np.zeros((1, 0))
        return Sound(stream.codec_context.name, stream.codec_context.sample_rate, stream.codec_context.channels, data)


def frame_index(image: np.ndarray, scale: float = 1.0) -> int:
    """Which source frame this is, from make_clip's binary blocks (output scaled by `scale`)."""
    index = 0
    for bit in range(BITS):
        x = int((bit * 8 + 4) * scale)
        y = int(4 * scale)
        if image[y, x, :3].mean() > 128:
            index |= 1 << bit
    return index


def save_png(image: np.ndarray, path: Path) -> Path:
    """Dump a frame (RGB/RGBA/grey) so a failing assertion can be looked at."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    h, w, c = image.shape
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, {3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def make_font(path: Path, glyphs: dict[str, tuple[int, int, int, int]]) -> Path:
    """A tiny TrueType font whose glyphs are filled rectangles (x0, y0, x1, y1 in 1000 units/em).

    Lets tests draw characters the bundled font lacks (CJK) without shipping a large font.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef"] + [f"uni{ord(ch):04X}" for ch in glyphs]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(ch): f"uni{ord(ch):04X}" for ch in glyphs})
    drawn = {}
    for name, box in [(".notdef", None)] + [(f"uni{ord(ch):04X}", box) for ch, box in glyphs.items()]:
        pen = TTGlyphPen(None)
        if box is not None:
            x0, y0, x1, y1 = box
            pen.moveTo((x0, y0))
            pen.lineTo((x0, y1))
            pen.lineTo((x1, y1))
            pen.lineTo((x1, y0))
            pen.closePath()
        drawn[name] = pen.glyph()
    builder.setupGlyf(drawn)
    builder.setupHorizontalMetrics({name: (1000, 0) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "VbrTest", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path
