"""Version 1 of the project file, as pydantic models.

These models are the single source of truth for the format: the JSON Schema in
schemas/ is generated from them. They live at the boundary only; `compile`
turns a validated Project into frozen graph nodes the executor runs.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from renderer.project.timecode import TIMECODE_PATTERN

HEX_COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

Timecode = Annotated[
    Union[Annotated[float, Field(ge=0)], Annotated[str, Field(pattern=TIMECODE_PATTERN)]],
    Field(description='Seconds (a number, or a string such as "2.5") or "[HH:]MM:SS[.mmm]".'),
]
HexColor = Annotated[str, Field(pattern=HEX_COLOR_PATTERN, description='"#rrggbb".')]
ModelName = Annotated[
    str,
    Field(pattern=MODEL_NAME_PATTERN, description="A model from the registry (`u2netp` is embedded)."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ModelSettings(_Strict):
    """Which matting model runs and how its masks are smoothed over time."""

    name: ModelName = "u2netp"
    ema_alpha: float = Field(
        0.75,
        gt=0,
        le=1,
        description="Temporal smoothing: mask_t = a*raw_t + (1-a)*mask_(t-1). 1.0 turns it off.",
    )
    dedup_threshold: float = Field(
        0.02,
        ge=0,
        lt=1,
        description=(
            "Reuse the last mask when less than this fraction of pixels changed since the "
            "last inferred frame. 0 turns it off."
        ),
    )


class Trim(_Strict):
    """The part of the source to render."""

    start: Timecode = 0
    end: Union[Timecode, None] = Field(None, description="No end: to the end of the source.")


class TransparentBackground(_Strict):
    type: Literal["transparent"]


class ColorBackground(_Strict):
    type: Literal["color"]
    color: HexColor = "#1e90ff"


class BlurBackground(_Strict):
    type: Literal["blur"]
    radius: float = Field(
        25, gt=0, le=500, description="Gaussian standard deviation, in output pixels."
    )


class ImageBackground(_Strict):
    type: Literal["image"]
    image: str = Field(description="Image file (PNG, JPEG, WebP), relative to the project file.")
    fit: Literal["cover", "contain"] = Field(
        "cover", description="cover: fill and crop; contain: fit inside, black bars."
    )


Background = Annotated[
    Union[TransparentBackground, ColorBackground, BlurBackground, ImageBackground],
    Field(discriminator="type"),
]


class Export(_Strict):
    """Where and how the result is written."""

    path: str = Field(description="Output file, relative to the project file; parent directories are created.")
    format: Union[Literal["webm", "mp4"], None] = Field(
        None, description="webm (VP9, alpha when transparent) or mp4 (H.264). Default: from the extension."
    )
    resolution: Literal["original", "1080p", "720p", "480p"] = Field(
        "original", description="Output height; the aspect ratio is kept and the width rounded to even."
    )
    fps: Literal["original", 30, 24, 15] = "original"
    audio: bool = Field(True, description="Keep the source's audio, trimmed in sync: Opus in WebM, AAC in MP4.")


class Project(_Strict):
    """A vbr project file, version 1."""

    model_config = ConfigDict(title="vbr project", extra="forbid", strict=True, frozen=True)

    version: Literal[1] = Field(1, description="File format version.")
    source: str = Field(description="Source video, relative to the project file.")
    model: Union[ModelName, ModelSettings] = Field(
        default_factory=ModelSettings, description="A model name, or settings for it."
    )
    trim: Trim = Field(default_factory=Trim)
    background: Background = Field(default_factory=lambda: TransparentBackground(type="transparent"))
    export: Export

    @property
    def model_settings(self) -> ModelSettings:
        """`model: u2netp` and `model: {name: u2netp}` mean the same."""
        if isinstance(self.model, str):
            return ModelSettings(name=self.model)
        return self.model
