"""Property-based fuzzing of the project loader: any text gives a project or located ProjectErrors, quickly."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.errors import ProjectError
from renderer.project.load import parse_project
from renderer.project.validate import dotted
from renderer.project.yamlpos import load_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "projects").glob("*.yaml"))]
KEYS = [
    "version", "vars", "source", "model", "name", "path", "ema_alpha", "dedup_threshold", "trim", "start", "end",
    "background", "type", "color", "radius", "image", "fit", "grade", "brightness", "text", "size", "position",
    "box", "outline", "shadow", "fade", "in", "out", "export", "resolution", "fps", "audio", "format", "default",
    "choices", "input_size", "mean", "std", "activation", "output",
]
# Characters that mean something to YAML or to templates, plus some that mean nothing.
ALPHABET = list(":-[]{},&*!|>'\"#%@`?\t\n $\\") + ["${", "$${", "${x}", "\u00e9", "\u4e2d", "\ufeff", "\x00", "0", "1.5", "~"]

SLOW = 2.0  # seconds: far above what a project file takes; a hang fails the test

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24), st.sampled_from(["${name}", "$${x}", "#ff0000", "00:01.5", "u2netp", "out/o.webm", "transparent"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=8),
    max_leaves=40,
)


def check(text: str) -> None:
    """Only ProjectError may come out, every problem with a line, and soon."""
    began = time.monotonic()
    try:
        parse_project(text, "p.yaml")
    except ProjectError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.position is not None and problem.position.line >= 1 and problem.position.column >= 1, str(problem)
    assert time.monotonic() - began < SLOW


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents(document):
    check(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(EXAMPLES),
    st.lists(
        st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1), st.sampled_from(ALPHABET), st.integers(1, 6)),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_examples(example, edits):
    text = example
    for kind, where, piece, length in edits:
        at = int(where * len(text))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + length :]
        else:
            text = text[:at] + piece + text[at + length :]
    check(text)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET) | st.characters() | st.sampled_from(KEYS), max_size=80))
def test_arbitrary_text(pieces):
    check("".join(pieces))


# --- every numeric field, given .inf, -.inf, .nan, null or a number no float holds ---------------

TEXT = {
    "text": "hi", "size": 20, "position": {"x": 0.1, "y": 0.2}, "line_spacing": 1.2, "start": 0, "end": 1,
    "box": {"padding": 3}, "outline": {"width": 1}, "shadow": {"offset": 2, "blur": 1},
}
COMMON = {
    "version": 1, "vars": {"n": {"type": "number", "default": 1}}, "source": "a.mp4",
    "trim": {"start": 0.5, "end": 2}, "background": {"type": "blur", "radius": 10},
    "grade": {k: 0.1 for k in ("brightness", "contrast", "saturation", "temperature", "tint")},
    "text": [TEXT, {"text": "b", "margin": 10}], "fade": {"in": 0.1, "out": 0.1}, "export": {"path": "o.webm", "fps": 24},
}
BASES = [
    {**COMMON, "model": {"name": "u2netp", "ema_alpha": 0.5, "dedup_threshold": 0.1}},
    {**COMMON, "model": {"path": "m.onnx", "input_size": [64, 48], "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2],
                         "activation": "sigmoid", "output": 0, "ema_alpha": 0.5}},
]


def numeric_paths(value, path=()):
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in numeric_paths(v, path + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in numeric_paths(v, path + (i,))]
    return [path] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def replaced(document, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, list):
        return [replaced(v, rest, value) if i == head else v for i, v in enumerate(document)]
    return {k: (replaced(v, rest, value) if k == head else v) for k, v in document.items()}


UNUSABLE = [float("inf"), float("-inf"), float("nan"), 10**400]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BASES).flatmap(lambda base: st.tuples(
    st.just(base),
    st.dictionaries(st.sampled_from(numeric_paths(base)), st.sampled_from([*UNUSABLE, None]), min_size=1, max_size=4),
)))
def test_unusable_numbers_and_nulls_in_numeric_fields(case):
    """Each .inf/.nan/huge number is reported at its own position, alone; a null is located and says null, never None."""
    base, changes = case
    document = base
    for path, value in changes.items():
        document = replaced(document, path, value)
    text = yaml.safe_dump(document, allow_unicode=True)
    located = load_yaml(text, "p.yaml")
    unusable = {path for path, value in changes.items() if value is not None}
    try:
        check(text)
        parse_project(text, "p.yaml")
    except ProjectError as error:
        found = {(str(p.position), p.message) for p in error.problems}
        if unusable:
            expected = set()
            for path in unusable:
                value = changes[path]
                said = "is too large" if isinstance(value, int) else "is not a finite number"
                expected.add(str(located.value_at(path)))
                assert any(m.startswith(f"{dotted(path)}: ") and m.endswith(said) for _, m in found), (path, found)
            assert {position for position, _ in found} == expected
        else:
            assert all("None" not in message for _, message in found), found
            nulls = {str(located.value_at(path)) for path in changes}
            assert any(position in nulls for position, _ in found) or any("has no value" in m for _, m in found), found
    else:
        assert not unusable, "an unusable number was accepted"
