"""Graph nodes: frozen parameters of each stage, linked to their inputs.

A node's key covers its stage name, a stage version (bump it when the stage's
output changes meaning), its parameters and its inputs' keys, so equal keys
mean equal results.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from functools import cached_property
from typing import Any, ClassVar

from renderer.compose.background import BackgroundSpec
from renderer.graph.keys import digest
from renderer.matting.registry import ModelSpec


@dataclass(frozen=True)
class Node:
    STAGE: ClassVar[str] = "node"
    VERSION: ClassVar[int] = 1
    INPUTS: ClassVar[tuple[str, ...]] = ()  # fields holding input nodes (an optional one may be None)

    def inputs(self) -> tuple["Node | None", ...]:
        return tuple(getattr(self, name) for name in self.INPUTS)

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @cached_property
    def _key(self) -> str:
        return digest(self.STAGE, self.VERSION, self.params())

    def key(self) -> str:
        return self._key


@dataclass(frozen=True)
class Decode(Node):
    """The source's video frames."""

    STAGE = "decode"
    path: str
    start: Fraction  # decoding may begin at the keyframe before this time


@dataclass(frozen=True)
class Timeline(Node):
    """Which source frame each output frame shows: trim and frame-rate change."""

    STAGE = "timeline"
    INPUTS = ("decode",)
    decode: Decode
    start: Fraction
    fps: Fraction
    frames: int
    source_fps: Fraction


@dataclass(frozen=True)
class Matte(Node):
    """Model masks at the model's resolution, deduplicated and smoothed."""

    STAGE = "matte"
    INPUTS = ("timeline",)
    timeline: Timeline
    model: ModelSpec
    ema_alpha: float
    dedup_threshold: float

    def params(self) -> dict[str, Any]:
        return {**super().params(), "model": self.model.identity()}


@dataclass(frozen=True)
class Scale(Node):
    """Frames and masks at the output size."""

    STAGE = "scale"
    INPUTS = ("matte",)
    matte: Matte
    width: int
    height: int


@dataclass(frozen=True)
class Composite(Node):
    """The subject over its background (or straight alpha)."""

    STAGE = "composite"
    INPUTS = ("scale",)
    scale: Scale
    background: BackgroundSpec
    image: str | None


@dataclass(frozen=True)
class Audio(Node):
    """The source's audio from `start`, for as long as the video lasts."""

    STAGE = "audio"
    path: str
    start: Fraction
    layout: str


@dataclass(frozen=True)
class Encode(Node):
    """The output file."""

    STAGE = "encode"
    INPUTS = ("composite", "audio")
    composite: Composite
    audio: Audio | None
    path: str
    format: str
    width: int
    height: int
    fps: Fraction
    alpha: bool
