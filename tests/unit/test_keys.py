"""renderer.graph.keys: canonical JSON and digests."""

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePosixPath

import pytest

from renderer.graph.keys import canonical, digest

PARAMS = {"path": "/clips/a.mp4", "start": Fraction(1, 10), "fps": Fraction(30000, 1001), "frames": 120, "alpha": 0.5}


def test_digest_is_a_sha256_hex():
    key = digest("decode", 1, PARAMS)
    assert re.fullmatch(r"[0-9a-f]{64}", key)


def test_digest_is_stable():
    assert digest("decode", 1, PARAMS) == digest("decode", 1, dict(PARAMS))
    # Key order in the params does not matter.
    assert digest("decode", 1, PARAMS) == digest("decode", 1, dict(reversed(list(PARAMS.items()))))


def test_digest_pinned_value():
    # The canonical text is fixed, so the digest is too (across runs and machines).
    import hashlib

    text = '{"params":{"a":"1/3","b":[1,2.5,null,true]},"stage":"s","version":2}'
    assert digest("s", 2, {"b": (1, 2.5, None, True), "a": Fraction(1, 3)}) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "name, value",
    [
        ("path", "/clips/b.mp4"),
        ("start", Fraction(1, 5)),
        ("fps", Fraction(30)),
        ("frames", 121),
        ("alpha", 0.51),
    ],
)
def test_digest_changes_when_any_param_changes(name, value):
    changed = {**PARAMS, name: value}
    assert digest("decode", 1, changed) != digest("decode", 1, PARAMS)


def test_digest_changes_with_stage_and_version():
    base = digest("decode", 1, PARAMS)
    assert digest("encode", 1, PARAMS) != base
    assert digest("decode", 2, PARAMS) != base


def test_digest_changes_when_a_param_is_added():
    assert digest("decode", 1, {**PARAMS, "extra": None}) != digest("decode", 1, PARAMS)


@pytest.mark.parametrize(
    "value, text",
    [(Fraction(1, 3), "1/3"), (Fraction(2, 4), "1/2"), (Fraction(25), "25/1"), (Fraction(30000, 1001), "30000/1001"), (Fraction(0), "0/1")],
)
def test_fractions_are_keyed_as_n_over_d(value, text):
    assert canonical(value) == text


def test_equal_fractions_give_equal_digests():
    assert digest("t", 1, {"x": Fraction(2, 4)}) == digest("t", 1, {"x": Fraction(1, 2)})
    assert digest("t", 1, {"x": Fraction(1, 2)}) != digest("t", 1, {"x": Fraction(1, 3)})


def test_canonical_structures():
    assert canonical((1, [Fraction(1, 2)], {"b": 2, "a": PurePosixPath("/x/y")})) == [1, ["1/2"], {"a": "/x/y", "b": 2}]
    assert list(canonical({"b": 1, "a": 2})) == ["a", "b"]
    assert canonical(None) is None and canonical(True) is True


def test_canonical_dataclass_and_keyed_objects():
    @dataclass(frozen=True)
    class Spec:
        kind: str
        color: tuple

    class Keyed:
        def key(self):
            return "abc"

    assert canonical(Spec("color", (1, 2, 3))) == {"kind": "color", "color": [1, 2, 3]}
    assert canonical({"input": Keyed()}) == {"input": {"node": "abc"}}


def test_canonical_rejects_unknown_types():
    with pytest.raises(TypeError):
        canonical(object())
    with pytest.raises(TypeError):
        canonical({1, 2})
    with pytest.raises(TypeError):
        digest("s", 1, {"x": b"bytes"})


def test_non_ascii_params_are_keyed():
    key = digest("decode", 1, {"path": "/clips/café.mp4"})
    assert key != digest("decode", 1, {"path": "/clips/cafe.mp4"})
    json.dumps(canonical({"path": "/clips/café.mp4"}))  # JSON-ready
