"""Raw-document validation against the JSON Schema, with readable messages.

Every error is reported at once, each at the position of the key or value it
is about. Unions (the background's `type`, `model` as a name or a mapping) are
narrowed to the branch the user meant, so the message is about that branch.
"""

from __future__ import annotations

import difflib
import math
from functools import lru_cache
from typing import Any, Iterator

import jsonschema
from jsonschema.exceptions import ValidationError

from renderer.errors import Problem
from renderer.project.models import HEX_COLOR_PATTERN, HEX_RGBA_PATTERN, MODEL_NAME_PATTERN
from renderer.project.schema import project_schema
from renderer.project.timecode import TIMECODE_PATTERN
from renderer.project.yamlpos import Located

_PATTERN_NAMES = {
    TIMECODE_PATTERN: 'a timecode: seconds or "[HH:]MM:SS[.fff]"',
    HEX_COLOR_PATTERN: 'a colour "#rrggbb"',
    HEX_RGBA_PATTERN: 'a colour "#rrggbb" or "#rrggbbaa"',
    MODEL_NAME_PATTERN: "a model name (lower-case letters, digits, '.', '_', '-')",
}
_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "nothing (null)",
}

_BOUNDS = {
    "minimum": "is below the minimum,",
    "maximum": "is above the maximum,",
    "exclusiveMinimum": "must be greater than",
    "exclusiveMaximum": "must be less than",
}


# pydantic's strict mode takes only a whole int as an integer; JSON Schema would take 1.0 too.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPES)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return _Validator(project_schema())


def dotted(path: tuple[Any, ...]) -> str:
    """("text", 0, "color") -> "text[0].color"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return type(value).__name__


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return project_schema()["$defs"][ref.rsplit("/", 1)[1]]
    return schema


def _branch_types(schema: dict[str, Any]) -> set[str]:
    schema = _resolve(schema)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return set().union(*(_branch_types(b) for b in schema[union]))
    if "type" in schema:
        types = schema["type"]
        return set(types) if isinstance(types, list) else {types}
    if "enum" in schema:
        return {_kind(v) for v in schema["enum"]}
    if "const" in schema:
        return {_kind(schema["const"])}
    return set()


def _narrow(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the union branch the user meant, or None if none fits."""
    branches: list[dict[str, Any]] = error.validator_value
    instance = error.instance
    chosen: int | None = None
    discriminated = [
        _resolve(b).get("properties", {}).get("type", {}).get("const") for b in branches
    ]
    if isinstance(instance, dict) and all(discriminated):
        chosen = next((i for i, c in enumerate(discriminated) if c == instance.get("type")), None)
    else:
        kind = _kind(instance)
        matching = [i for i, b in enumerate(branches) if kind in _branch_types(b) or (
            kind == "number" and "integer" in _branch_types(b))]
        chosen = matching[0] if len(matching) == 1 else None
    if chosen is None:
        return None
    return [e for e in error.context if e.relative_schema_path[0] == chosen]


def _null(name: str, wanted: str) -> str:
    """`key:` with nothing after it (or `~`, `null`) where a value must go."""
    return f"{name}: a value is required here, not null (expected {wanted})"


def _union_message(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    path = tuple(error.absolute_path)
    branches = error.validator_value
    consts = [_resolve(b).get("properties", {}).get("type", {}).get("const") for b in branches]
    if isinstance(error.instance, dict) and all(consts):
        allowed = ", ".join(consts)
        if "type" not in error.instance:
            return path, f"{dotted(path)}: missing 'type' (one of: {allowed})"
        if error.instance["type"] is None:
            return path + ("type",), _null(dotted(path + ("type",)), f"one of: {allowed}")
        return path + ("type",), f"{dotted(path + ('type',))}: {error.instance['type']!r} is not one of: {allowed}"
    types = {_JSON_TYPES.get(t, t) for b in branches for t in _branch_types(b)}
    if error.instance is None:
        return path, _null(dotted(path), " or ".join(sorted(types - {_JSON_TYPES["null"]})))
    wanted = " or ".join(sorted(types))
    return path, f"{dotted(path)}: expected {wanted}, got {_JSON_TYPES.get(_kind(error.instance), _kind(error.instance))} {error.instance!r}"


def _leaves(error: ValidationError) -> Iterator[ValidationError | tuple[tuple[Any, ...], str]]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        narrowed = _narrow(error)
        if narrowed is None:
            yield _union_message(error)
            return
        for sub in narrowed:
            yield from _leaves(sub)
        return
    yield error


def _problems(error: ValidationError, located: Located) -> Iterator[Problem]:
    path = tuple(error.absolute_path)
    name = dotted(path)
    kind = error.validator
    if kind == "additionalProperties" and "patternProperties" in error.schema and "properties" not in error.schema:
        for key in sorted(error.instance):
            yield Problem(
                located.key_at(path + (key,)),
                f"{dotted(path + (key,))}: not a valid name (letters, digits and '_', not starting with a digit)",
            )
        return
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f" (allowed: {', '.join(allowed)})"
            yield Problem(located.key_at(path + (key,)), f"{dotted(path + (key,))}: unknown key{suggestion}")
        return
    if kind == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        for key in missing:
            yield Problem(located.value_at(path), f"{dotted(path + (key,))}: required key is missing")
        return
    if error.instance is None:
        message = _null(name, _wanted(error))
    elif kind == "const" and path == ("version",):
        message = f"version: unsupported version {error.instance!r} (this vbr reads version 1)"
    elif kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        message = f"{name}: {error.instance!r} is not one of: {allowed}"
    elif kind == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_JSON_TYPES.get(t, t) for t in expected)
        message = f"{name}: expected {wanted}, got {_JSON_TYPES.get(_kind(error.instance), _kind(error.instance))} {error.instance!r}"
    elif kind in _BOUNDS:
        message = f"{name}: {error.instance!r} {_BOUNDS[kind]} {error.validator_value}"
    elif kind == "pattern":
        message = f"{name}: {error.instance!r} is not {_PATTERN_NAMES.get(error.validator_value, 'valid')}"
    elif kind == "minLength" and error.instance == "" and path[-1] in _PATH_KEYS:
        message = f"{name}: the path is empty"
    else:
        message = f"{name}: {error.message}"
    yield Problem(located.value_at(path), message)


_PATH_KEYS = ("source", "path", "image", "font")


def _wanted(error: ValidationError) -> str:
    """What the schema asks for where a null was written, in words."""
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return " or ".join(_JSON_TYPES.get(t, t) for t in expected)
    if error.validator == "enum":
        return "one of: " + ", ".join(str(v) for v in error.validator_value)
    if error.validator == "const":
        return repr(error.validator_value)
    return " or ".join(sorted(_JSON_TYPES.get(t, t) for t in _branch_types(error.schema))) or "a value"


def unusable_numbers(located: Located) -> list[Problem]:
    """Every .inf, -.inf and .nan in the document, and every integer too large for a float, located.

    No setting takes them, and they slip past range checks (NaN compares false
    with every bound), so they are refused before the schema sees the document.
    """
    problems: list[Problem] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            spelled = ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
            problems.append(Problem(located.value_at(path), f"{dotted(path)}: {spelled} is not a finite number"))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _LARGEST:
            problems.append(Problem(located.value_at(path), f"{dotted(path)}: a {len(str(abs(value)))}-digit number is too large"))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(located.data, ())
    return problems


_LARGEST = int(1e300)  # well inside a float's range, far beyond any setting's


@lru_cache(maxsize=8)
def _key_validator(key: str) -> jsonschema.Draft202012Validator:
    schema = project_schema()
    return _Validator({"$defs": schema["$defs"], **schema["properties"][key]})


def schema_problems(located: Located, key: str | None = None) -> list[Problem]:
    """Every schema violation in the document (or in one top-level key's value), located; empty when valid."""
    problems: list[Problem] = []
    if key is None:
        errors = _validator().iter_errors(located.data)
    else:
        errors = _key_validator(key).iter_errors(located.data[key])
    nulls: set[tuple[Any, ...]] = set()  # a null breaks several keywords (enum, type): say it once
    for error in errors:
        if key is not None:
            error.path.appendleft(key)
        for leaf in _leaves(error):
            if isinstance(leaf, tuple):
                path, message = leaf
                problems.append(Problem(located.value_at(path), message))
            elif leaf.instance is None and tuple(leaf.absolute_path) in nulls:
                continue
            else:
                if leaf.instance is None:
                    nulls.add(tuple(leaf.absolute_path))
                problems.extend(_problems(leaf, located))
    unique = {(str(p.position), p.message): p for p in problems}
    return list(unique.values())
