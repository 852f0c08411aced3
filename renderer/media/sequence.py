"""A PNG sequence: one 8-bit PNG per frame and the sound as a WAV file, in a folder published whole.

Everything is written into a partial folder beside the target and published
by publish.publish_folder only when complete: the target holds the earlier
sequence (or nothing) until then, never some frames of each.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.codec.context import Flags

from renderer.media.encode import AudioFeed, StagedWriter, VideoSettings, audio_stream
from renderer.outputs import SEQUENCE_AUDIO
from renderer.publish import publish_folder, staging_folder

# Fixed, so the bytes are too. Paeth prediction at zlib level 1: on 720p frames 5x as fast as
# level 6 (zlib's default) and 15 % larger; level 9 is 2 % smaller than 6 at 5x its time
# (README: "Output formats").
PNG_OPTIONS = {"compression_level": "1", "pred": "paeth"}
# Frames encode on this many threads, whatever the machine (each PNG is made alone: its bytes do not depend on it).
_THREADS = 2


def pixel_format(video: VideoSettings) -> str:
    """gray for a matte, rgba when the frames carry alpha, rgb24 otherwise."""
    if video.content == "matte":
        return "gray"
    return "rgba" if video.alpha else "rgb24"


class SequenceWriter(StagedWriter):
    """A PNG sequence: write frames with `write`, then `commit` to publish the folder.

    Frame `i` (from 0) is `pattern % i` (frame_00000.png, ...); the sound, when
    there is one, is SEQUENCE_AUDIO: 16-bit PCM at 48 kHz, exactly as long as
    the frames last.
    """

    WHAT = "sequence"

    def __init__(
        self,
        target: Path,
        video: VideoSettings,
        pattern: str,
        audio: Iterator[np.ndarray] | None = None,
        layout: str | None = None,
    ):
        self.target = target
        self.video = video
        self.pattern = pattern
        self.pix_fmt = pixel_format(video)
        self.frames = 0
        self._audio = AudioFeed(audio, layout) if audio is not None and layout else None
        self._wav: av.container.OutputContainer | None = None

    def _stage(self) -> Path:
        return staging_folder(self.target)

    def _open(self) -> None:
        assert self.temp is not None
        self.codec = av.CodecContext.create("png", "w")
        self.codec.width, self.codec.height = self.video.width, self.video.height
        self.codec.pix_fmt = self.pix_fmt
        self.codec.time_base = Fraction(1) / self.video.fps
        self.codec.thread_count = _THREADS
        self.codec.flags |= Flags.bitexact
        self.codec.options = dict(PNG_OPTIONS)
        if self._audio is not None:
            self._wav = av.open(str(self.temp / SEQUENCE_AUDIO), mode="w", format="wav", container_options={"fflags": "+bitexact"})
            self._wav.metadata.clear()
            self._astream = audio_stream(self._wav, "wav", self._audio.layout)

    def _close(self) -> None:
        wav, self._wav = self._wav, None
        if wav is not None:
            wav.close()

    def _remove_partial(self) -> None:
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)

    def _write(self, image: np.ndarray) -> None:
        self._save(self.codec.encode(self._frame(image)))
        self.frames += 1
        self._pump_audio()

    def _frame(self, image: np.ndarray) -> av.VideoFrame:
        have = "gray" if image.ndim == 2 else "rgba" if image.shape[2] == 4 else "rgb24"
        if have != self.pix_fmt:  # the composite gives what the export asks for: anything else is a bug upstream
            raise ValueError(f"a {have} frame for a {self.pix_fmt} PNG sequence")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=have)
        frame.pts = self.frames
        return frame

    def _save(self, packets: list[av.Packet]) -> None:
        """Each encoded frame into its own file; with frame threads a packet comes out a few frames late."""
        for packet in packets:
            (self.temp / (self.pattern % packet.pts)).write_bytes(bytes(packet))

    def _pump_audio(self) -> None:
        if self._wav is None or self._audio is None:
            return
        for frame in self._audio.until(self.frames, self.video.fps):
            for packet in self._astream.encode(frame):
                self._wav.mux(packet)

    def _flush(self) -> None:
        self._save(self.codec.encode(None))
        if self._wav is not None:
            for packet in self._astream.encode(None):
                self._wav.mux(packet)
            self._wav.close()
            self._wav = None

    def _publish(self) -> None:
        assert self.temp is not None
        publish_folder(self.temp, self.target)
