"""Template variables: `${name}` in string values, typed values, no code.

A string that is exactly "${name}" takes the variable's typed value (a number
stays a number); elsewhere `${name}` is replaced by the value's text. `$${`
writes a literal `${`. Nothing else is evaluated: no expressions, no
environment. Substitution keeps every value's path, so errors in the resolved
document still point into the template.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from renderer.errors import Problem
from renderer.project.models import HEX_RGBA_PATTERN
from renderer.project.yamlpos import Located

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?\.?(nan|inf|infinity)", re.IGNORECASE)  # Python's and YAML's spellings
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLOR = re.compile(HEX_RGBA_PATTERN)
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Declared:
    name: str
    type: str
    default: Any  # typed; None = required
    choices: tuple[str, ...] | None


def declarations(located: Located) -> dict[str, Declared]:
    """The `vars` block as declared (its shape is checked by the schema beforehand)."""
    block = located.data.get("vars") if isinstance(located.data, dict) else None
    found: dict[str, Declared] = {}
    if isinstance(block, dict):
        for name, spec in block.items():
            if isinstance(spec, dict) and isinstance(spec.get("type"), str):
                choices = spec.get("choices")
                found[name] = Declared(name, spec["type"], spec.get("default"), tuple(choices) if isinstance(choices, list) else None)
    return found


_WHAT = {
    "number": "a number",
    "bool": "true or false",
    "string": "a string",
    "path": "a path",
    "color": 'a colour "#rrggbb" or "#rrggbbaa"',
}


def coerce(var: Declared, value: Any) -> Any:
    """A value (from YAML, or text from --set or a CSV cell) as the variable's type; ValueError if it does not fit."""
    kind = var.type
    wrong = ValueError(f"variable '{var.name}' is {_expected(var)}, not {value!r}")
    if kind == "number":
        return _number(value, wrong, ValueError(f"variable '{var.name}': {value!r} is not a finite number"))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise wrong
    if kind in ("string", "enum", "path") and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = _text(value)  # a YAML/JSON `name: 2024` or `choice: 720` means the text
    if not isinstance(value, str):
        raise wrong
    if kind == "color" and not _COLOR.match(value):
        raise wrong
    if kind == "enum" and var.choices is not None and value not in var.choices:
        raise wrong
    if kind == "path" and not value:
        raise ValueError(f"variable '{var.name}' is a path, not an empty string")
    return value


def _expected(var: Declared) -> str:
    if var.type == "enum":
        return f"one of {', '.join(var.choices or ())}"
    return _WHAT.get(var.type, f"a {var.type}")


def _number(value: Any, wrong: ValueError, infinite: ValueError) -> int | float:
    """Plain decimal numbers only: no 1_000, and nothing infinite; integers stay exact."""
    if isinstance(value, bool):
        raise wrong
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise infinite
        return value
    text = str(value).strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NON_FINITE.fullmatch(text):
        raise infinite
    if not _DECIMAL.fullmatch(text):
        raise wrong
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise infinite
    return int(number) if number.is_integer() and "." not in text else number


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def resolve(located: Located, given: dict[str, Any]) -> tuple[Located, list[Problem]]:
    """Substitute variables through the document. `given` values are coerced here."""
    declared = declarations(located)
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, var in declared.items():
        try:
            if name in given:
                values[name] = coerce(var, given[name])
            elif var.default is not None:
                values[name] = coerce(var, var.default)
            else:  # required, used or not: a missing column or --set is a mistake either way
                problems.append(
                    Problem(located.key_at(("vars", name)), f"variable '{name}' has no value: give it with --set {name}=... or a rows column")
                )
        except ValueError as exc:
            where = located.value_at(("vars", name, "default")) if name not in given else located.key_at(("vars", name))
            problems.append(Problem(where, str(exc)))

    def substitute(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, dict):
            return {k: (v if path == () and k == "vars" else substitute(v, path + (k,))) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v, path + (i,)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = _REFERENCE.fullmatch(value)
        if whole and whole.group(1) is not None:
            return lookup(whole.group(1), path, value, typed=True)
        return _REFERENCE.sub(lambda m: _replace(m, path, value), value)

    def _replace(match: re.Match[str], path: tuple[Any, ...], whole: str) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group(1) is None:
            problems.append(Problem(located.value_at(path), f"unclosed '${{' in {whole!r} (write $${{ for a literal ${{)"))
            return match.group(0)
        return _text(lookup(match.group(1), path, whole, typed=False))

    def lookup(name: str, path: tuple[Any, ...], whole: str, typed: bool) -> Any:
        name = name.strip()
        if not _NAME.match(name):
            problems.append(Problem(located.value_at(path), f"'${{{name}}}' in {whole!r}: only a variable name may stand in ${{...}}"))
            return whole
        if name not in declared:
            problems.append(Problem(located.value_at(path), f"'${{{name}}}' in {whole!r}: no variable '{name}' is declared under vars"))
            return whole
        if name not in values:  # its missing or unfit value is reported already
            return whole
        return values[name]

    data = substitute(located.data, ())
    return Located(data=data, file=located.file, values=located.values, keys=located.keys), problems


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """--set NAME=VALUE pairs -> {name: text}; ValueError on a malformed pair."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _NAME.match(name.strip()):
            raise ValueError(f"--set {pair!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values
