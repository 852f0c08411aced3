"""Graph nodes: frozen parameters of each stage, linked to their inputs.

A node's key covers its stage name, a stage version (bump it when the stage's
output changes meaning), its parameters and its inputs' keys, so equal keys
mean equal results. Inputs are named by content (sha256), not by path: moving
a file keeps its key, changing its bytes changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from renderer.compose.background import BackgroundSpec
from renderer.compose.fade import FadeSpec
from renderer.compose.grade import GradeSpec
from renderer.compose.text import TextSpec
from renderer.graph.keys import digest
from renderer.graph.timeline import read_until
from renderer.matting.registry import ModelSpec


N = TypeVar("N", bound="Node")


@dataclass(frozen=True)
class Node:
    STAGE: ClassVar[str] = "node"
    VERSION: ClassVar[int] = 1
    INPUTS: ClassVar[tuple[str, ...]] = ()  # fields holding input nodes (an optional one may be None)
    UNKEYED: ClassVar[tuple[str, ...]] = ()  # fields that locate data but do not define results (paths)

    def inputs(self) -> tuple["Node | None", ...]:
        return tuple(getattr(self, name) for name in self.INPUTS)

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.UNKEYED}

    def find(self, kind: type["N"]) -> "N":
        """The nearest node of a kind upstream of (or equal to) this one."""
        if isinstance(self, kind):
            return self
        for child in self.inputs():
            if child is not None:
                try:
                    return child.find(kind)
                except LookupError:
                    continue
        raise LookupError(f"no {kind.__name__} upstream of {self.STAGE}")

    def has(self, kind: type["Node"]) -> bool:
        """Whether a node of a kind is upstream of (or equal to) this one: optional stages."""
        try:
            self.find(kind)
        except LookupError:
            return False
        return True

    @cached_property
    def _key(self) -> str:
        return digest(self.STAGE, self.VERSION, self.params())

    def key(self) -> str:
        return self._key


@dataclass(frozen=True)
class Decode(Node):
    """The source's video frames, from `start` (a dedup segment boundary) on."""

    STAGE = "decode"
    UNKEYED = ("path",)
    path: str
    sha256: str
    start: Fraction


@dataclass(frozen=True)
class Timeline(Node):
    """Which source frame each output frame shows: trim and frame-rate change.

    Covers output frames first .. first + frames - 1; `start` is output frame
    0's time in the source (a preview covers a window of the full timeline).
    """

    STAGE = "timeline"
    VERSION = 2  # 2: a source that ends early is an error, or its last frame held (at most 0.1 s)
    INPUTS = ("decode",)
    decode: Decode
    start: Fraction
    fps: Fraction
    frames: int
    source_fps: Fraction
    first: int = 0
    lookahead: Fraction = Fraction(0)  # seconds of source read past the last output (model.keyframes: graph.matte)

    def params(self) -> dict[str, Any]:
        params = super().params()
        if not self.lookahead:  # none, as before it existed: the same key
            del params["lookahead"]
        return params

    @property
    def window_start(self) -> Fraction:
        return self.start + self.first / self.fps

    @property
    def horizon(self) -> Fraction | None:
        """With a lookahead, the last source time the timeline passes on (timeline.read_until); else None."""
        if not self.lookahead:
            return None
        return read_until(self.window_start, self.fps, self.frames, self.source_fps, self.lookahead)


@dataclass(frozen=True)
class Matte(Node):
    """Model masks at the model's resolution, deduplicated and filtered over time (reset at cuts)."""

    STAGE = "matte"
    VERSION = 2  # 2: temporal filter modes and scene-cut resets
    INPUTS = ("timeline",)
    timeline: Timeline
    model: ModelSpec
    temporal: str  # adaptive | ema | off
    ema_alpha: float
    cut_threshold: float  # 1: no cut detection
    dedup_threshold: float
    runtime: str  # onnxruntime version: part of what a mask depends on
    device: str = "cpu"  # execution provider family (cpu, cuda, coreml, directml): so is this
    keyframes: int = 1  # infer every N-th reference frame, carry the mask by motion between (graph.matte)

    def params(self) -> dict[str, Any]:
        params = {**super().params(), "model": self.model.identity()}
        if self.keyframes == 1:  # every frame inferred, as before the setting existed: the same key
            del params["keyframes"]
        return params

    def model_identity(self) -> dict[str, Any]:
        """What a raw mask depends on besides the frame: the cache's view of the model."""
        return {**self.model.identity(), "runtime": self.runtime, "device": self.device}


@dataclass(frozen=True)
class Reframe(Node):
    """Where the output's window sits in each frame, when its shape is not the source's (export.aspect).

    The whole picture is scaled to `full` (width, height), in which the window is
    exactly the output; it slides along `axis` (0: x, 1: y), placed by `mode`
    (subject: follows the matte's centre of mass; center: fixed). Computed from
    the masks, after the cache: a new aspect infers nothing.
    """

    STAGE = "reframe"
    INPUTS = ("matte",)
    matte: Matte
    mode: str  # subject | center
    full: tuple[int, int]
    axis: int
    window: int  # the output's length along the axis: the window's size
    lookahead: float  # seconds each side the subject's path is fitted over (compose.reframe)
    dead_zone: float  # of the picture's length along the axis
    cut_threshold: float  # scene cuts restart the path (1: none detected)


@dataclass(frozen=True)
class Scale(Node):
    """Frames at the output size (their masks still at the model's; cropped to the window when reframed)."""

    STAGE = "scale"
    VERSION = 2  # 2: the mask is upsampled by Refine
    INPUTS = ("matte",)
    matte: Matte | Reframe
    width: int
    height: int


@dataclass(frozen=True)
class Refine(Node):
    """The matte at the output size: upsampled (bilinear or guided by the frame), levels, choke, feather."""

    STAGE = "refine"
    INPUTS = ("scale",)
    scale: Scale
    upsample: str  # bilinear | guided
    black: float  # levels: alpha = clip((a - black) / (white - black), 0, 1)
    white: float
    choke: float  # output pixels; < 0 grows
    feather: float  # output pixels (Gaussian standard deviation)


@dataclass(frozen=True)
class Foreground(Node):
    """The subject's own colours at soft edges, with the old background taken out."""

    STAGE = "foreground"
    INPUTS = ("refine",)
    refine: Refine


@dataclass(frozen=True)
class Grade(Node):
    """The subject's colours graded (the background is never touched)."""

    STAGE = "grade"
    INPUTS = ("scale",)
    scale: Refine | Foreground
    spec: GradeSpec


@dataclass(frozen=True)
class Composite(Node):
    """The subject over its background (or straight alpha), one image per output frame."""

    STAGE = "composite"
    VERSION = 2  # 2: subject colours from Foreground when there is one
    INPUTS = ("frames", "video")
    UNKEYED = ("image",)
    frames: Refine | Foreground | Grade
    background: BackgroundSpec
    image: str | None
    image_sha256: str | None
    content: str = "composite"  # composite | matte (the alpha as grey) | foreground (the subject's colours, opaque)
    video: BackgroundVideo | None = None  # background.type video: its pictures


@dataclass(frozen=True)
class BackgroundVideo(Node):
    """A clip behind the subject: one picture per output frame, first .. first + frames - 1.

    Output i shows the clip's frame nearest start + i / fps (ties to the earlier),
    and with `loop` start + (i / fps mod (duration - start)): the clip starts over
    from `start`; without, its last frame is held. Pictures are fitted (cover or
    contain) from the clip's upright `clip_size` to the output's width x height.
    """

    STAGE = "background"
    UNKEYED = ("path",)
    path: str
    sha256: str
    start: Fraction
    loop: bool
    fit: str  # cover | contain
    duration: Fraction  # the clip's, as probed: where a loop starts over
    clip_fps: Fraction
    clip_size: tuple[int, int]  # as displayed (after its sample aspect ratio and rotation)
    fps: Fraction  # the output's
    width: int
    height: int
    frames: int
    first: int = 0


@dataclass(frozen=True)
class Overlay(Node):
    """Text overlays drawn in order, each for its time range of the output."""

    STAGE = "text"
    INPUTS = ("frames",)
    UNKEYED = ("fonts",)
    frames: Composite
    texts: tuple[TextSpec, ...]  # each names its font by sha256 (None: the bundled default)
    fonts: tuple[str | None, ...]  # the font files, in the same order


@dataclass(frozen=True)
class Fade(Node):
    """Fade from and to black (or transparent) at the ends of the render."""

    STAGE = "fade"
    INPUTS = ("frames",)
    frames: Composite | Overlay
    spec: FadeSpec


@dataclass(frozen=True)
class Audio(Node):
    """The source's audio from `start`, for as long as the video lasts."""

    STAGE = "audio"
    UNKEYED = ("path",)
    path: str
    sha256: str
    start: Fraction
    layout: str
    fade: FadeSpec | None = None


@dataclass(frozen=True)
class Encode(Node):
    """The output file, or folder (a PNG sequence). `tools` (vbr, PyAV/FFmpeg versions) are keyed: an upgrade re-renders."""

    STAGE = "encode"
    INPUTS = ("frames", "audio")
    UNKEYED = ("path",)
    frames: Composite | Overlay | Fade
    audio: Audio | None
    path: str
    format: str
    width: int
    height: int
    fps: Fraction
    alpha: bool
    tools: tuple[tuple[str, str], ...]
    quality: str = "standard"  # encoder preset (export.quality)
    content: str = "composite"  # export.content: matte frames come as H x W grey
    pattern: str | None = None  # a PNG sequence's frame names in its folder (`path`), such as frame_%05d.png

    @property
    def timeline(self) -> Timeline:
        return self.find(Timeline)
