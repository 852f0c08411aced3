"""Property-based fuzzing of the project loader: any text gives a project or located ProjectErrors, quickly."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.errors import ProjectError
from renderer.project.load import parse_project

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
