"""renderer.graph.nodes: node keys cover parameters and upstream keys."""

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import pytest

from renderer.compose.background import BackgroundSpec
from renderer.graph.nodes import Audio, Composite, Decode, Encode, Matte, Node, Scale, Timeline
from renderer.matting.registry import MODELS

MODEL = MODELS["u2netp"]


def chain(
    path="/clips/in.mp4",
    start=Fraction(1, 2),
    fps=Fraction(25),
    frames=100,
    ema_alpha=0.6,
    width=1280,
    height=720,
    background=BackgroundSpec("color", color=(30, 144, 255)),
    audio=True,
    out="/clips/out.mp4",
    model=MODEL,
):
    """A graph built the way renderer.graph.compile builds one."""
    decode = Decode(path=path, start=start)
    timeline = Timeline(decode=decode, start=start, fps=fps, frames=frames, source_fps=Fraction(25))
    matte = Matte(timeline=timeline, model=model, ema_alpha=ema_alpha, dedup_threshold=0.002)
    scale = Scale(matte=matte, width=width, height=height)
    composite = Composite(scale=scale, background=background, image=None)
    sound = Audio(path=path, start=start, layout="stereo") if audio else None
    encode = Encode(
        composite=composite, audio=sound, path=out, format="mp4", width=width, height=height, fps=fps, alpha=False
    )
    return {"decode": decode, "timeline": timeline, "matte": matte, "scale": scale, "composite": composite, "audio": sound, "encode": encode}


def keys(graph):
    return {name: (node.key() if node is not None else None) for name, node in graph.items()}


def test_keys_are_stable_across_identical_builds():
    assert keys(chain()) == keys(chain())


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
    assert g["timeline"].inputs() == (g["decode"],)
    assert g["decode"].inputs() == ()
    assert chain(audio=False)["encode"].inputs() == (chain(audio=False)["composite"], None)


def test_params_reference_inputs_by_key():
    g = chain()
    from renderer.graph.keys import canonical

    params = canonical(g["scale"].params())
    assert params["matte"] == {"node": g["matte"].key()}
    assert params["width"] == 1280


def changed(before, after):
    return {name for name in before if before[name] != after[name]}


def test_upstream_change_propagates_downstream_only():
    base = keys(chain())
    # ema_alpha lives on Matte: everything from Matte down changes, nothing above or beside it.
    after = keys(chain(ema_alpha=0.7))
    assert changed(base, after) == {"matte", "scale", "composite", "encode"}


def test_background_change_leaves_matting_alone():
    base = keys(chain())
    after = keys(chain(background=BackgroundSpec("blur", radius=12.0)))
    assert changed(base, after) == {"composite", "encode"}


def test_source_change_changes_everything_that_reads_it():
    base = keys(chain())
    after = keys(chain(path="/clips/other.mp4"))
    assert changed(base, after) == set(base)


def test_trim_change_reaches_audio_and_video():
    base = keys(chain())
    after = keys(chain(start=Fraction(1, 3)))
    assert changed(base, after) == set(base)


def test_output_path_change_is_local_to_encode():
    base = keys(chain())
    after = keys(chain(out="/clips/other-out.mp4"))
    assert changed(base, after) == {"encode"}


def test_fps_change_reaches_timeline_and_encode_but_not_decode_or_audio():
    base = keys(chain())
    after = keys(chain(fps=Fraction(30)))
    assert changed(base, after) == {"timeline", "matte", "scale", "composite", "encode"}


def test_size_change_spares_the_mask_at_model_resolution():
    base = keys(chain())
    after = keys(chain(width=1920, height=1080))
    assert changed(base, after) == {"scale", "composite", "encode"}


def test_sibling_branches_are_independent():
    decode = Decode(path="/clips/in.mp4", start=Fraction(0))
    a = Timeline(decode=decode, start=Fraction(0), fps=Fraction(25), frames=10, source_fps=Fraction(25))
    b = Timeline(decode=decode, start=Fraction(0), fps=Fraction(30), frames=12, source_fps=Fraction(25))
    b2 = Timeline(decode=decode, start=Fraction(0), fps=Fraction(30), frames=13, source_fps=Fraction(25))
    assert a.key() != b.key() != b2.key()
    a_again = Timeline(decode=Decode(path="/clips/in.mp4", start=Fraction(0)), start=Fraction(0), fps=Fraction(25), frames=10, source_fps=Fraction(25))
    assert a_again.key() == a.key()


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

    node = Decode(path="/a", start=Fraction(0))
    assert DecodeV2(path="/a", start=Fraction(0)).key() != node.key()
    assert Renamed(path="/a", start=Fraction(0)).key() != node.key()


def test_nodes_are_frozen():
    node = Decode(path="/a", start=Fraction(0))
    node.key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.path = "/b"  # type: ignore[misc]


def test_base_node_has_no_inputs_or_params():
    assert Node().inputs() == ()
    assert Node().params() == {}
