"""renderer.graph.nodes: node keys cover parameters and upstream keys.

Inputs are named by content (sha256), not by path: paths are UNKEYED, so
moving a file keeps every key and changing its bytes changes them.
"""

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import pytest

from renderer.compose.background import BackgroundSpec
from renderer.graph.keys import canonical
from renderer.graph.nodes import Audio, BackgroundVideo, Composite, Decode, Encode, Matte, Node, Refine, Scale, Timeline
from renderer.matting.registry import MODELS

MODEL = MODELS["u2netp"]
SOURCE_SHA = "a" * 64
IMAGE_SHA = "b" * 64
RUNTIME = "1.17.0"
TOOLS = (("vbr", "0.1.0"), ("av", "12.0.0"), ("onnxruntime", RUNTIME))
IMAGE_BACKGROUND = BackgroundSpec("image", fit="cover")


def chain(
    path="/clips/in.mp4",
    sha256=SOURCE_SHA,
    start=Fraction(1, 2),
    fps=Fraction(25),
    frames=100,
    ema_alpha=0.6,
    choke=0.0,
    width=1280,
    height=720,
    background=BackgroundSpec("color", color=(30, 144, 255)),
    image=None,
    image_sha256=None,
    video=None,
    audio=True,
    out="/clips/out.mp4",
    model=MODEL,
    runtime=RUNTIME,
    tools=TOOLS,
):
    """A graph built the way renderer.graph.compile builds one."""
    decode = Decode(path=path, sha256=sha256, start=start)
    timeline = Timeline(decode=decode, start=start, fps=fps, frames=frames, source_fps=Fraction(25))
    matte = Matte(
        timeline=timeline, model=model, temporal="adaptive", ema_alpha=ema_alpha, cut_threshold=0.35,
        dedup_threshold=0.002, runtime=runtime,
    )
    scale = Scale(matte=matte, width=width, height=height)
    refine = Refine(scale=scale, upsample="bilinear", black=0.0, white=1.0, choke=choke, feather=0.0)
    composite = Composite(frames=refine, background=background, image=image, image_sha256=image_sha256, video=video)
    sound = Audio(path=path, sha256=sha256, start=start, layout="stereo") if audio else None
    encode = Encode(
        frames=composite,
        audio=sound,
        path=out,
        format="mp4",
        width=width,
        height=height,
        fps=fps,
        alpha=False,
        tools=tools,
    )
    return {
        "decode": decode, "timeline": timeline, "matte": matte, "scale": scale, "refine": refine, "composite": composite,
        "audio": sound, "encode": encode,
    }


def image_chain(**kwargs):
    """A graph with an image background."""
    return chain(**{"background": IMAGE_BACKGROUND, "image": "/images/bg.png", "image_sha256": IMAGE_SHA, **kwargs})


def keys(graph):
    return {name: (node.key() if node is not None else None) for name, node in graph.items()}


def changed(before, after):
    return {name for name in before if before[name] != after[name]}


def test_keys_are_stable_across_identical_builds():
    assert keys(chain()) == keys(chain())
    assert keys(image_chain()) == keys(image_chain())


def test_every_node_has_a_distinct_key():
    k = [v for v in keys(chain()).values()]
    assert len(set(k)) == len(k)


def test_key_is_cached_and_hex():
    node = chain()["encode"]
    assert node.key() is node.key()
    assert len(node.key()) == 64 and int(node.key(), 16) >= 0


def test_inputs_are_listed_in_order():
    g = chain()
    assert g["encode"].inputs() == (g["composite"], g["audio"])
    assert g["composite"].inputs() == (g["refine"], None)
    assert g["refine"].inputs() == (g["scale"],)
    assert g["scale"].inputs() == (g["matte"],)
    assert g["matte"].inputs() == (g["timeline"],)
    assert g["timeline"].inputs() == (g["decode"],)
    assert g["decode"].inputs() == ()
    assert g["audio"].inputs() == ()
    assert chain(audio=False)["encode"].inputs() == (chain(audio=False)["composite"], None)


def test_inputs_class_vars_name_the_input_fields():
    assert Encode.INPUTS == ("frames", "audio")
    assert Composite.INPUTS == ("frames", "video")
    assert Scale.INPUTS == ("matte",)
    assert Matte.INPUTS == ("timeline",)
    assert Timeline.INPUTS == ("decode",)
    assert Decode.INPUTS == () and Audio.INPUTS == ()


def test_params_reference_inputs_by_key():
    g = chain()
    params = canonical(g["scale"].params())
    assert params["matte"] == {"node": g["matte"].key()}
    assert params["width"] == 1280
    encode = canonical(g["encode"].params())
    assert encode["frames"] == {"node": g["composite"].key()}
    assert encode["audio"] == {"node": g["audio"].key()}


def test_encode_timeline_is_the_matte_timeline():
    g = chain()
    assert g["encode"].timeline is g["timeline"]
    assert chain(fps=Fraction(30))["encode"].timeline.fps == Fraction(30)


# --- What is keyed and what is not ---------------------------------------------


def test_paths_are_unkeyed():
    assert Decode.UNKEYED == ("path",)
    assert Audio.UNKEYED == ("path",)
    assert Composite.UNKEYED == ("image",)
    assert Encode.UNKEYED == ("path",)
    g = image_chain()
    for name in ("decode", "audio", "encode"):
        params = g[name].params()
        assert "path" not in params, name
    assert g["decode"].params()["sha256"] == SOURCE_SHA
    assert g["audio"].params()["sha256"] == SOURCE_SHA
    assert "image" not in g["composite"].params()
    assert g["composite"].params()["image_sha256"] == IMAGE_SHA
    assert g["encode"].params()["tools"] == TOOLS
    assert g["matte"].params()["runtime"] == RUNTIME


def test_moving_the_source_keeps_every_key():
    base = chain()
    moved = chain(path="/elsewhere/renamed.mp4")
    # The moved graph does point somewhere else ...
    assert moved["decode"].path == "/elsewhere/renamed.mp4" != base["decode"].path
    assert moved["audio"].path == "/elsewhere/renamed.mp4"
    assert moved["decode"] != base["decode"]
    # ... yet names the same content, so nothing re-renders.
    assert keys(moved) == keys(base)
    assert changed(keys(chain(audio=False)), keys(chain(path="/x.mp4", audio=False))) == set()


def test_source_content_change_changes_everything_that_reads_it():
    base = keys(chain())
    after = keys(chain(sha256="c" * 64))
    assert changed(base, after) == set(base)
    assert changed(base, after) == {"decode", "timeline", "matte", "scale", "refine", "composite", "audio", "encode"}


def test_source_content_change_with_the_same_path_still_changes_keys():
    # Same path, new bytes (the file was overwritten): keys must follow the bytes.
    base = keys(chain(path="/clips/in.mp4"))
    after = keys(chain(path="/clips/in.mp4", sha256="d" * 64))
    assert changed(base, after) == set(base)


def test_trim_change_reaches_audio_and_video():
    base = keys(chain())
    after = keys(chain(start=Fraction(1, 3)))
    assert changed(base, after) == set(base)


def test_output_path_change_leaves_every_key_alone():
    # The output's path locates the file; it does not define its bytes.
    g = chain()
    other = chain(out="/clips/other-out.mp4")
    assert other["encode"].path == "/clips/other-out.mp4" != g["encode"].path
    assert changed(keys(g), keys(other)) == set()
    assert other["encode"].key() == g["encode"].key()


def test_tools_change_only_encode():
    base = keys(chain())
    for tools in [
        (("vbr", "0.2.0"), ("av", "12.0.0"), ("onnxruntime", RUNTIME)),
        (("vbr", "0.1.0"), ("av", "13.0.0"), ("onnxruntime", RUNTIME)),
        (("vbr", "0.1.0"), ("av", "12.0.0")),
    ]:
        assert changed(base, keys(chain(tools=tools))) == {"encode"}, tools
    assert changed(base, keys(chain(tools=TOOLS))) == set()


def test_runtime_change_reaches_matte_and_downstream_only():
    base = keys(chain())
    after = keys(chain(runtime="1.18.0"))
    assert changed(base, after) == {"matte", "scale", "refine", "composite", "encode"}
    assert "decode" not in changed(base, after) and "timeline" not in changed(base, after)


def test_matte_model_identity_includes_the_runtime_and_device():
    matte = chain()["matte"]
    assert matte.model_identity() == {**MODEL.identity(), "runtime": RUNTIME, "device": "cpu"}
    cuda = dataclasses.replace(matte, device="cuda")
    assert cuda.model_identity()["device"] == "cuda" and cuda.key() != matte.key()
    assert chain(runtime="1.18.0")["matte"].model_identity()["runtime"] == "1.18.0"
    assert chain(runtime="1.18.0")["matte"].model_identity() != matte.model_identity()
    # The model itself is keyed by its identity, not by where its weights lie.
    assert matte.params()["model"] == MODEL.identity()


def test_image_content_change_reaches_composite_and_encode_only():
    base = keys(image_chain())
    after = keys(image_chain(image_sha256="e" * 64))
    assert changed(base, after) == {"composite", "encode"}
    assert "matte" not in changed(base, after)


def test_image_path_change_alone_changes_nothing():
    g = image_chain()
    moved = image_chain(image="/other/place/bg-copy.png")
    assert moved["composite"].image == "/other/place/bg-copy.png" != g["composite"].image
    assert changed(keys(g), keys(moved)) == set()


CLIP_SHA = "c" * 64


def video_chain(path="/clips/bg.mp4", sha256=CLIP_SHA, start=Fraction(0), loop=True, **kwargs):
    """A graph with a video background (its node under "background")."""
    clip = BackgroundVideo(
        path=path, sha256=sha256, start=start, loop=loop, fit="cover", duration=Fraction(3), clip_fps=Fraction(30),
        clip_size=(1920, 1080), fps=Fraction(25), width=1280, height=720, frames=100,
    )
    graph = chain(background=BackgroundSpec("video", fit="cover"), video=clip, **kwargs)
    return {**graph, "background": clip}


def test_a_video_background_is_an_input_of_the_composite_named_by_content():
    g = video_chain()
    assert g["composite"].inputs() == (g["refine"], g["background"])
    assert changed(keys(g), keys(video_chain(path="/elsewhere/copy.mp4"))) == set()
    for other in (video_chain(sha256="d" * 64), video_chain(start=Fraction(1)), video_chain(loop=False)):
        assert changed(keys(g), keys(other)) == {"background", "composite", "encode"}


def test_adding_an_image_background_spares_matting():
    base = keys(chain())
    after = keys(image_chain())
    assert changed(base, after) == {"composite", "encode"}


# --- Propagation ----------------------------------------------------------------


def test_upstream_change_propagates_downstream_only():
    base = keys(chain())
    # the temporal filter lives on Matte: everything from Matte down changes, nothing above or beside it.
    after = keys(chain(ema_alpha=0.7))
    assert changed(base, after) == {"matte", "scale", "refine", "composite", "encode"}


def test_background_change_leaves_matting_alone():
    base = keys(chain())
    after = keys(chain(background=BackgroundSpec("blur", radius=12.0)))
    assert changed(base, after) == {"composite", "encode"}


def test_matte_edge_settings_change_refine_and_below_only():
    base = keys(chain())
    after = keys(chain(choke=2.0))
    assert changed(base, after) == {"refine", "composite", "encode"}


def test_fps_change_reaches_timeline_and_encode_but_not_decode_or_audio():
    base = keys(chain())
    after = keys(chain(fps=Fraction(30)))
    assert changed(base, after) == {"timeline", "matte", "scale", "refine", "composite", "encode"}


def test_size_change_spares_the_mask_at_model_resolution():
    base = keys(chain())
    after = keys(chain(width=1920, height=1080))
    assert changed(base, after) == {"scale", "refine", "composite", "encode"}


def test_sibling_branches_are_independent():
    decode = Decode(path="/clips/in.mp4", sha256=SOURCE_SHA, start=Fraction(0))
    a = Timeline(decode=decode, start=Fraction(0), fps=Fraction(25), frames=10, source_fps=Fraction(25))
    b = Timeline(decode=decode, start=Fraction(0), fps=Fraction(30), frames=12, source_fps=Fraction(25))
    b2 = Timeline(decode=decode, start=Fraction(0), fps=Fraction(30), frames=13, source_fps=Fraction(25))
    assert a.key() != b.key() != b2.key()
    a_again = Timeline(
        decode=Decode(path="/clips/in.mp4", sha256=SOURCE_SHA, start=Fraction(0)),
        start=Fraction(0),
        fps=Fraction(25),
        frames=10,
        source_fps=Fraction(25),
    )
    assert a_again.key() == a.key()
    a_moved = dataclasses.replace(a, decode=dataclasses.replace(decode, path="/moved/in.mp4"))
    assert a_moved.key() == a.key()


def test_dropping_audio_changes_encode_only():
    base = keys(chain())
    after = keys(chain(audio=False))
    assert changed(base, after) == {"audio", "encode"}
    assert after["audio"] is None


def test_matte_key_uses_the_model_identity():
    base = chain()["matte"].key()
    # What does not change the numerics does not change the key ...
    relabelled = dataclasses.replace(MODEL, license="other", origin="elsewhere")
    assert chain(model=relabelled)["matte"].key() == base
    # ... what does, does.
    for field, value in [("sha256", "0" * 64), ("input_size", (512, 512)), ("mean", (0.5, 0.5, 0.5)), ("activation", "sigmoid"), ("output", 1)]:
        other = dataclasses.replace(MODEL, **{field: value})
        assert chain(model=other)["matte"].key() != base, field


def test_stage_version_is_part_of_the_key():
    @dataclass(frozen=True)
    class DecodeV2(Decode):
        VERSION = 2

    @dataclass(frozen=True)
    class Renamed(Decode):
        STAGE = "decode-other"

    node = Decode(path="/a", sha256=SOURCE_SHA, start=Fraction(0))
    assert DecodeV2(path="/a", sha256=SOURCE_SHA, start=Fraction(0)).key() != node.key()
    assert Renamed(path="/a", sha256=SOURCE_SHA, start=Fraction(0)).key() != node.key()


def test_nodes_are_frozen():
    node = Decode(path="/a", sha256=SOURCE_SHA, start=Fraction(0))
    node.key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.path = "/b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.sha256 = "f" * 64  # type: ignore[misc]


def test_base_node_has_no_inputs_or_params():
    assert Node().inputs() == ()
    assert Node().params() == {}
    assert Node.INPUTS == () and Node.UNKEYED == ()
