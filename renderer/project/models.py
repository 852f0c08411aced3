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
HEX_RGBA_PATTERN = r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

Timecode = Annotated[
    Union[Annotated[float, Field(ge=0)], Annotated[str, Field(pattern=TIMECODE_PATTERN)]],
    Field(description='Seconds (a number, or a string such as "2.5", "0.2000" or "1.5e1") or "[HH:]MM:SS[.fff]".'),
]
HexColor = Annotated[str, Field(pattern=HEX_COLOR_PATTERN, description='"#rrggbb".')]
HexRGBA = Annotated[str, Field(pattern=HEX_RGBA_PATTERN, description='"#rrggbb" or "#rrggbbaa" (aa: opacity).')]
Unit = Annotated[float, Field(ge=-1, le=1)]
FilePath = Annotated[str, Field(min_length=1)]  # "" would name the project's own folder
ModelName = Annotated[
    str,
    Field(pattern=MODEL_NAME_PATTERN, description="A model from the registry (`u2netp` is embedded)."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Channel3 = Annotated[list[float], Field(min_length=3, max_length=3)]


class ModelSettings(_Strict):
    """Which matting model runs and how its masks are smoothed over time.

    A registry model by `name`, or your own ONNX file by `path` with the
    preprocessing it expects (input_size and activation required).
    """

    name: ModelName = "u2netp"
    path: Union[FilePath, None] = Field(
        None, description="Your own ONNX model, relative to the project file, instead of a registry name."
    )
    input_size: Union[Annotated[int, Field(ge=8, le=4096)], Annotated[list[Annotated[int, Field(ge=8, le=4096)]], Field(min_length=2, max_length=2)], None] = Field(
        None, description="With path: the network's input size, N or [width, height]."
    )
    mean: Union[Channel3, None] = Field(None, description="With path: per-channel mean after scaling RGB to 0..1 (default ImageNet).")
    std: Union[Channel3, None] = Field(None, description="With path: per-channel std (default ImageNet).")
    activation: Union[Literal["sigmoid", "none"], None] = Field(
        None, description="With path: 'sigmoid' if the matte output is logits, 'none' if it is already 0..1."
    )
    output: Union[Annotated[int, Field(ge=-16, le=16)], None] = Field(
        None, description="With path: which output holds the matte (default 0; -1 is the last)."
    )
    temporal: Union[Literal["adaptive", "ema", "off"], None] = Field(
        None,
        description=(
            "Temporal filter of the matte, reset at scene cuts. adaptive: smooth where the matte is steady, "
            "follow where it moves; ema: a fixed exponential average; off: each frame's own matte. "
            "Default: adaptive, or ema when only ema_alpha is given (what ema_alpha meant before)."
        ),
    )
    ema_alpha: Union[Annotated[float, Field(gt=0, le=1)], None] = Field(
        None,
        description=(
            "Weight of the new matte each frame: mask_t = a*raw_t + (1-a)*mask_(t-1); adaptive uses it where the "
            "matte is steady. Default 0.75 for ema, 0.5 for adaptive. 1.0 turns smoothing off."
        ),
    )
    cut_threshold: Union[Annotated[float, Field(gt=0, le=1)], None] = Field(
        None,
        description="Scene-cut sensitivity: a cut resets the temporal filter. Lower finds more cuts; 1 finds none. Default 0.35.",
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
    keyframes: int = Field(
        1,
        ge=1,
        le=16,
        description=(
            "Infer the model on every N-th changed frame (and after each scene cut) and carry its matte to the "
            "frames between by their motion. 1 infers every changed frame."
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
    image: FilePath = Field(description="Image file (PNG, JPEG, WebP), relative to the project file.")
    fit: Literal["cover", "contain"] = Field(
        "cover", description="cover: fill and crop; contain: fit inside, black bars."
    )


class VideoBackground(_Strict):
    type: Literal["video"]
    video: FilePath = Field(description="Video file, relative to the project file; its audio is never used.")
    fit: Literal["cover", "contain"] = Field(
        "cover", description="cover: fill and crop; contain: fit inside, black bars."
    )
    loop: bool = Field(
        True, description="Start over when the clip is shorter than the render; false holds its last frame."
    )
    start: Timecode = Field(0, description="Where in the clip the render's first frame starts.")


Background = Annotated[
    Union[TransparentBackground, ColorBackground, BlurBackground, ImageBackground, VideoBackground],
    Field(discriminator="type"),
]


class Grade(_Strict):
    """Colour grading of the subject only (through the mask). 0 leaves a control neutral."""

    brightness: Unit = Field(0, description="Gain: RGB x (1 + b). -1 is black.")
    contrast: Unit = Field(0, description="Around mid-grey: (x - 0.5) x (1 + c) + 0.5.")
    saturation: Unit = Field(0, description="Away from BT.709 luma: Y + (x - Y) x (1 + s). -1 is grey.")
    temperature: Unit = Field(0, description="+ warmer (R x (1 + 0.2t), B x (1 - 0.2t)), - cooler.")
    tint: Unit = Field(0, description="+ toward magenta (G x (1 - 0.2n)), - toward green.")


NamedPosition = Literal["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"]


class Point(_Strict):
    """The text block's top-left corner, as fractions of the frame's width and height."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class TextBox(_Strict):
    """A filled rectangle behind the text."""

    color: HexRGBA = "#00000099"
    padding: float = Field(12, ge=0, le=500, description="Pixels around the text.")


class TextOutline(_Strict):
    color: HexRGBA = "#000000"
    width: float = Field(2, gt=0, le=50, description="Stroke width in pixels.")


class TextShadow(_Strict):
    color: HexRGBA = "#000000aa"
    offset: float = Field(3, ge=-100, le=100, description="Pixels right and down.")
    blur: float = Field(3, ge=0, le=50, description="Gaussian standard deviation in pixels.")


class TextOverlay(_Strict):
    """One caption or name plate, drawn for a time range of the output."""

    text: str = Field(min_length=1, description="UTF-8; \\n starts a new line.")
    font: FilePath = Field("default", description="`default` (the bundled Noto Sans) or a .ttf/.otf file.")
    size: float = Field(48, gt=0, le=1000, description="Font size in output pixels.")
    color: HexRGBA = "#ffffff"
    position: Union[NamedPosition, Point] = "bottom-left"
    margin: float = Field(32, ge=0, le=4000, description="Pixels from the frame edge, for named positions.")
    align: Union[Literal["left", "center", "right"], None] = Field(
        None, description="Line alignment; default follows the position (left, centred, right)."
    )
    line_spacing: float = Field(1.2, ge=0.5, le=5, description="Line height as a multiple of the size.")
    start: Timecode = Field(0, description="Seconds on the output timeline.")
    end: Union[Timecode, None] = Field(None, description="No end: to the end of the render.")
    box: Union[TextBox, None] = None
    outline: Union[TextOutline, None] = None
    shadow: Union[TextShadow, None] = None


class Fade(_Strict):
    """Fades at the ends of the render: video from/to black (transparent when the background is), audio from/to silence."""

    fade_in: float = Field(0, ge=0, le=5, alias="in", description="Seconds.")
    fade_out: float = Field(0, ge=0, le=5, alias="out", description="Seconds.")


class Export(_Strict):
    """Where and how the result is written."""

    path: FilePath = Field(
        description=(
            "Output file, relative to the project file; parent directories are created. For png: a folder, "
            "or a pattern such as out/frame_%05d.png (the folder holds the sequence alone)."
        )
    )
    format: Union[Literal["webm", "mp4", "mov", "png"], None] = Field(
        None,
        description=(
            "webm (VP9, alpha when transparent), mp4 (H.264), mov (ProRes 4444 with alpha, PCM audio) or "
            "png (a numbered PNG sequence, WAV audio beside it). Default: from the extension."
        ),
    )
    content: Literal["composite", "matte", "foreground"] = Field(
        "composite",
        description=(
            "composite: the subject over the background; matte: the alpha as a grey picture (a track matte); "
            "foreground: the subject's estimated colours alone, opaque (a fill, to pair with the matte)."
        ),
    )
    resolution: Literal["original", "1080p", "720p", "480p"] = Field(
        "original",
        description=(
            "Output size. original: the source's pixels (cropped to the aspect); a preset: the height, "
            "or the width when the aspect is taller than wide (1080p at 9:16 is 1080x1920)."
        ),
    )
    aspect: Literal["original", "16:9", "1:1", "4:5", "9:16"] = Field(
        "original", description="Output shape: the source's, or a crop of it to this width:height."
    )
    reframe: Union[Literal["subject", "center"], None] = Field(
        None,
        description=(
            "With an aspect: where the crop sits. subject: follows the matte's centre of mass, smoothed; "
            "center: fixed in the middle. Default subject."
        ),
    )
    fps: Literal["original", 30, 24, 15] = "original"
    audio: bool = Field(
        True,
        description="Keep the source's audio, trimmed in sync: Opus in WebM, AAC in MP4, 16-bit PCM in MOV, a WAV file with a PNG sequence.",
    )
    quality: Literal["draft", "standard", "high"] = Field(
        "standard", description="Encoder preset: draft (fast, for checking), standard, high (for delivery; slow)."
    )


VAR_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
VarName = Annotated[str, Field(pattern=VAR_NAME_PATTERN)]


class MatteSettings(_Strict):
    """How the model's matte becomes the output's alpha, after the mask cache (changing these infers nothing)."""

    refine: Literal["guided", "bilinear"] = Field(
        "bilinear",
        description="Upsampling to the output size: guided (edge-aware, by the full-resolution frame) or bilinear.",
    )
    foreground: Literal["estimate", "source"] = Field(
        "source",
        description=(
            "Subject colours at soft edges: estimate (the foreground colour without the old background mixed in) "
            "or source (the source pixel as it is)."
        ),
    )
    black: float = Field(0, ge=0, lt=1, description="Clip point: alpha at or below it becomes 0. alpha = (a - black) / (white - black).")
    white: float = Field(1, gt=0, le=1, description="Clip point: alpha at or above it becomes 1.")
    choke: float = Field(0, ge=-50, le=50, description="Output pixels: > 0 shrinks the matte, < 0 grows it.")
    feather: float = Field(0, ge=0, le=50, description="Output pixels: softens the matte's edge (Gaussian standard deviation).")


class Variable(_Strict):
    """A template variable: `${name}` in string values takes its value."""

    type: Literal["string", "number", "color", "enum", "path", "bool"]
    default: Union[str, float, bool, None] = Field(None, description="No default: the variable is required.")
    choices: Union[list[str], None] = Field(None, description="type enum: the allowed values.")
    description: str = ""


class Project(_Strict):
    """A vbr project file, version 1."""

    model_config = ConfigDict(title="vbr project", extra="forbid", strict=True, frozen=True)

    version: Literal[1] = Field(1, description="File format version.")
    vars: dict[VarName, Variable] = Field(
        default_factory=dict,
        description="Template variables, set with --set NAME=VALUE or a vbr batch rows file.",
        json_schema_extra={"additionalProperties": False},
    )
    source: FilePath = Field(description="Source video, relative to the project file.")
    model: Union[ModelName, ModelSettings] = Field(
        default_factory=ModelSettings, description="A model name, or settings for it."
    )
    trim: Trim = Field(default_factory=Trim)
    matte: MatteSettings = Field(default_factory=MatteSettings)
    background: Background = Field(default_factory=lambda: TransparentBackground(type="transparent"))
    grade: Union[Grade, None] = None
    text: list[TextOverlay] = Field(default_factory=list, description="Overlays, drawn in order.")
    fade: Union[Fade, None] = None
    export: Export

    @property
    def model_settings(self) -> ModelSettings:
        """`model: u2netp` and `model: {name: u2netp}` mean the same."""
        if isinstance(self.model, str):
            return ModelSettings(name=self.model)
        return self.model
