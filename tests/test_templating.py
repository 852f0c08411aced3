"""Template variables: `vars`, `${name}` substitution, typed values, --set, errors at FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from renderer.errors import ProjectError
from renderer.project.load import load_project, parse_project, template_variables
from renderer.project.templating import Declared, coerce, parse_assignments

from helpers import RED, read_audio, read_video

# Codec tolerance for colours that went through 4:2:0 YUV and a lossy encoder.
TOL = 16

# The example, verbatim (line numbers below refer to it).
SPEC = """version: 1
vars:
  name:  {type: string}                       # no default = required
  color: {type: color, default: "#112233"}
  size:  {type: number, default: 48}
  style: {type: enum, choices: [light, dark], default: dark}
  clip:  {type: path, default: media/a.mp4}
  logo:  {type: bool, default: false}
source: "${clip}"
background: {type: color, color: "${color}"}
text:
  - text: "${name}"
export: {path: "out/${name}.mp4"}
"""

# Every variable type, and somewhere to put it: lines 1-9 declare, 10 on use them.
ALL = """version: 1
vars:
  name: {type: string}
  ink: {type: color, default: "#ffffff"}
  size: {type: number, default: 48}
  style: {type: enum, choices: [light, dark], default: dark}
  clip: {type: path, default: media/clip.mp4}
  sound: {type: bool, default: true}
  fps: {type: number, default: 24}
source: "${clip}"
background: {type: color}
text:
  - text: "${name}"
    size: "${size}"
    color: "${ink}"
export: {path: "out/${name}.mp4", audio: "${sound}", fps: "${fps}"}
"""


def resolved(text: str, **values: Any):
    """The validated project and the resolved document (before pydantic) for these values."""
    project, located = parse_project(text, "t.yaml", values)
    return project, located.data


def problems(text: str, **values: Any) -> list[str]:
    with pytest.raises(ProjectError) as info:
        parse_project(text, "t.yaml", values)
    return info.value.lines()


def with_text(line: str, **declared: str) -> str:
    """A minimal valid template whose one overlay's text is `line`, written as given at line 7+len(declared), column 11."""
    decl = "".join(f"  {name}: {spec}\n" for name, spec in declared.items())
    return (
        "version: 1\n"
        + ("vars:\n" + decl if declared else "vars: {}\n")
        + "source: media/clip.mp4\nbackground: {type: color}\nexport: {path: out/o.mp4}\ntext:\n"
        + f"  - text: {line}\n"
    )


# --- typed values and interpolation ------------------------------------------------------------


def test_spec_example_resolves_with_defaults_and_the_required_value():
    project, data = resolved(SPEC, name="Ada")
    assert project.source == "media/a.mp4"
    assert project.background.type == "color" and project.background.color == "#112233"
    assert [t.text for t in project.text] == ["Ada"]
    assert project.export.path == "out/Ada.mp4"
    assert data["source"] == "media/a.mp4" and data["export"] == {"path": "out/Ada.mp4"}


def test_given_values_override_defaults():
    project, _ = resolved(SPEC, name="Grace Hopper", color="#FF0000", clip="media/b.mp4", size="12", style="light", logo="yes")
    assert project.source == "media/b.mp4"
    assert project.background.color == "#FF0000"
    assert project.text[0].text == "Grace Hopper"
    assert project.export.path == "out/Grace Hopper.mp4"


def test_exact_reference_takes_the_typed_value():
    _, data = resolved(ALL, name="Ada")
    overlay = data["text"][0]
    assert overlay["size"] == 48 and type(overlay["size"]) is int
    assert data["export"]["audio"] is True
    assert data["export"]["fps"] == 24 and type(data["export"]["fps"]) is int
    assert overlay["color"] == "#ffffff" and data["source"] == "media/clip.mp4"
    project, data = resolved(ALL, name="Ada", size="12.5", sound="off", fps="15", ink="#00ff0080")
    assert data["text"][0]["size"] == 12.5 and type(data["text"][0]["size"]) is float
    assert data["export"]["audio"] is False
    assert project.text[0].size == 12.5 and project.export.audio is False and project.export.fps == 15
    assert project.text[0].color == "#00ff0080"


def test_exact_reference_with_spaces_inside_the_braces_is_still_typed():
    _, data = resolved(ALL.replace('size: "${size}"', 'size: "${ size }"'), name="Ada")
    assert data["text"][0]["size"] == 48 and type(data["text"][0]["size"]) is int


def test_exact_reference_of_a_string_variable_stays_a_string():
    """A string variable whose value looks like a number is still text."""
    _, data = resolved(with_text('"${n}"', n="{type: string}"), n="48")
    assert data["text"][0]["text"] == "48"


def test_partial_interpolation_makes_text():
    decl = {"size": "{type: number, default: 48}", "name": "{type: string, default: Ada}", "flag": "{type: bool, default: false}"}
    cases = {
        '"Hi ${size}px"': "Hi 48px",
        '"${name}-${size}-${flag}"': "Ada-48-false",
        '"${name}${name}"': "AdaAda",
        '"<${ name }>"': "<Ada>",
        '"${name}}"': "Ada}",
        '"cost: $5 or $$6"': "cost: $5 or $$6",  # a lone $ is just a $
        "plain": "plain",
    }
    for line, expected in cases.items():
        _, data = resolved(with_text(line, **decl))
        assert data["text"][0]["text"] == expected, line


@pytest.mark.parametrize(
    ("default", "given", "expected"),
    [
        ("48", None, "Hi 48px"),
        ("48.0", None, "Hi 48px"),  # a whole float is written without ".0"
        ("12.5", None, "Hi 12.5px"),
        ("48", "48.0", "Hi 48px"),
        ("48", "0.25", "Hi 0.25px"),
        ("48", "-3", "Hi -3px"),
        ("48", " 7 ", "Hi 7px"),
        ("48", "1e3", "Hi 1000px"),
    ],
)
def test_numbers_in_text_are_written_plainly(default: str, given: str | None, expected: str):
    text = with_text('"Hi ${size}px"', size=f"{{type: number, default: {default}}}")
    _, data = resolved(text, **({"size": given} if given is not None else {}))
    assert data["text"][0]["text"] == expected


def test_bool_in_text_is_true_or_false():
    text = with_text('"logo=${logo}"', logo="{type: bool, default: false}")
    assert resolved(text)[1]["text"][0]["text"] == "logo=false"
    assert resolved(text, logo="YES")[1]["text"][0]["text"] == "logo=true"


def test_double_dollar_escapes_a_literal_reference():
    decl = {"name": "{type: string, default: Ada}", "size": "{type: number, default: 48}"}
    cases = {
        '"$${name}"': "${name}",
        '"$${size}"': "${size}",  # an escaped whole value is text, not the typed number
        '"$${name} is ${name}"': "${name} is Ada",
        '"price $${"': "price ${",
        '"$${${name}}"': "${Ada}",
    }
    for line, expected in cases.items():
        _, data = resolved(with_text(line, **decl))
        assert data["text"][0]["text"] == expected, line


def test_substituted_values_are_not_scanned_again():
    """A value containing ${...} is inserted as it is: no second round, no unescaping."""
    decl = {"n": "{type: string}", "m": "{type: string, default: zz}"}
    _, data = resolved(with_text('"A ${n} B"', **decl), n="${m} $${x}")
    assert data["text"][0]["text"] == "A ${m} $${x} B"
    _, data = resolved(with_text('"${n}"', **decl), n="${m}")
    assert data["text"][0]["text"] == "${m}"
    decl["n"] = "{type: string, default: '${m}'}"
    _, data = resolved(with_text('"${n}!"', **decl))
    assert data["text"][0]["text"] == "${m}!"


def test_the_vars_block_itself_is_not_substituted():
    text = """version: 1
vars:
  a: {type: string, default: "${b}", description: "uses ${undeclared} and ${1+1}"}
  b: {type: string, default: x}
  c: {type: enum, choices: ["${a}", plain], default: "${a}"}
source: media/clip.mp4
background: {type: color}
export: {path: "out/${c}.mp4"}
text: [{text: "${a}"}]
"""
    project, data = resolved(text)
    assert data["vars"]["a"] == {"type": "string", "default": "${b}", "description": "uses ${undeclared} and ${1+1}"}
    assert data["vars"]["c"]["choices"] == ["${a}", "plain"]
    assert project.vars["a"].default == "${b}"
    assert project.export.path == "out/${a}.mp4"
    assert project.text[0].text == "${b}"


def test_keys_are_not_substituted():
    text = "version: 1\nvars: {k: {type: string, default: text}}\nsource: media/clip.mp4\nexport: {path: o.webm}\n${k}: []\n"
    assert problems(text) == [
        "t.yaml:5:1: ${k}: unknown key (allowed: background, export, fade, grade, matte, model, source, text, trim, vars, version)"
    ]


def test_strings_without_references_and_non_strings_are_untouched():
    text = "version: 1\nvars: {v: {type: number, default: 3}}\nsource: media/clip.mp4\nexport: {path: o.webm, audio: false}\nmodel: {name: u2netp, ema_alpha: 0.5}\n"
    project, data = resolved(text)
    assert data["export"] == {"path": "o.webm", "audio": False}
    assert data["model"] == {"name": "u2netp", "ema_alpha": 0.5}
    assert project.model_settings.ema_alpha == 0.5


def test_a_template_without_vars_still_loads_and_substitutes_nothing():
    project, _ = parse_project("source: media/clip.mp4\nexport: {path: o.webm}\n", "t.yaml")
    assert project.vars == {}
    project, _ = parse_project("source: media/clip.mp4\nexport: {path: o.webm}\ntext: [{text: '$${x}'}]\n", "t.yaml")
    assert project.text[0].text == "${x}"


def test_values_given_as_python_objects_are_checked_too():
    _, data = resolved(ALL, name="Ada", size=12, sound=False)
    assert data["text"][0]["size"] == 12 and data["export"]["audio"] is False
    assert problems(ALL, name="Ada", size=True) == ["t.yaml:5:3: variable 'size' is a number, not True"]
    assert problems(ALL, name="Ada", sound=3) == ["t.yaml:8:3: variable 'sound' is true or false, not 3"]


# --- coercion of text values (--set, CSV cells) ------------------------------------------------


def var(kind: str, choices: tuple[str, ...] | None = None) -> Declared:
    return Declared("v", kind, None, choices)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("48", 48), (" 7 ", 7), ("-3", -3), ("0", 0), ("12.5", 12.5), ("48.0", 48.0), ("1e3", 1000), ("2.5e1", 25.0)],
)
def test_number_from_text(text: str, expected: float):
    value = coerce(var("number"), text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["", "big", "12px", "0x10", "1,5", "true", "1_000", "nanny", "info"])
def test_number_refuses_non_numbers(text: str):
    with pytest.raises(ValueError) as info:
        coerce(var("number"), text)
    assert str(info.value) == f"variable 'v' is a number, not {text!r}"


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "+inf", ".inf", "-.inf", ".nan", "1e999", "-1e999", float("nan"), float("inf"), float("-inf")])
def test_numbers_must_be_finite(value):
    """--set size=inf, a CSV cell `1e999`, a YAML row's `.nan`: each said to be what it is, not 'not a number'."""
    with pytest.raises(ValueError) as info:
        coerce(var("number"), value)
    assert str(info.value) == f"variable 'v': {value!r} is not a finite number"


def test_integers_stay_exact():
    assert coerce(var("number"), "12345678901234567890") == 12345678901234567890


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("yes", True), ("On", True), ("1", True), (" false ", False), ("No", False), ("off", False), ("0", False)],
)
def test_bool_from_text(text: str, expected: bool):
    assert coerce(var("bool"), text) is expected


@pytest.mark.parametrize("text", ["", "2", "maybe", "y", "t"])
def test_bool_refuses_other_text(text: str):
    with pytest.raises(ValueError) as info:
        coerce(var("bool"), text)
    assert str(info.value) == f"variable 'v' is true or false, not {text!r}"


def test_colour_enum_path_and_string_from_text():
    assert coerce(var("color"), "#a0B1c2") == "#a0B1c2"
    assert coerce(var("color"), "#a0b1c2ff") == "#a0b1c2ff"
    for bad in ("red", "#fff", "a0b1c2", "#a0b1c2f", "#ggg000", " #a0b1c2"):
        with pytest.raises(ValueError, match=r"is a colour \"#rrggbb\" or \"#rrggbbaa\""):
            coerce(var("color"), bad)
    assert coerce(var("enum", ("light", "dark")), "dark") == "dark"
    for bad in ("Dark", "medium", " dark"):
        with pytest.raises(ValueError) as info:
            coerce(var("enum", ("light", "dark")), bad)
        assert str(info.value) == f"variable 'v' is one of light, dark, not {bad!r}"
    assert coerce(var("path"), "media/x y.mp4") == "media/x y.mp4"
    with pytest.raises(ValueError) as info:
        coerce(var("path"), "")
    assert str(info.value) == "variable 'v' is a path, not an empty string"
    assert coerce(var("string"), "") == ""
    assert coerce(var("string"), "  spaced  ") == "  spaced  "
    assert coerce(var("string"), 2024) == "2024"  # a YAML/JSON row's number means the text
    assert coerce(var("string"), 2.50) == "2.5"
    assert coerce(var("string"), 3.0) == "3"
    with pytest.raises(ValueError):
        coerce(var("string"), True)
    assert coerce(var("enum", ("720", "1080")), 720) == "720"  # `default: 720` or a JSON row's number
    assert coerce(var("path"), 5) == "5"
    with pytest.raises(ValueError) as info:
        coerce(var("color"), 5)
    assert str(info.value) == "variable 'v' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 5"


def test_a_required_variable_needs_a_value_even_when_unused():
    text = "version: 1\nvars:\n  unused: {type: string}\nsource: a.mp4\nexport: {path: o.webm}\n"
    assert problems(text) == ["t.yaml:3:3: variable 'unused' has no value: give it with --set unused=... or a rows column"]
    assert resolved(text, unused="x")[0].source == "a.mp4"


def test_set_assignments_parse():
    assert parse_assignments([]) == {}
    assert parse_assignments(["name=Ada", "color=#ff0000", "expr=a=b", "empty=", " size =48"]) == {
        "name": "Ada",
        "color": "#ff0000",
        "expr": "a=b",
        "empty": "",
        "size": "48",
    }
    assert parse_assignments(["name=A", "name=B"]) == {"name": "B"}  # the last one wins
    for bad in ("foo", "=x", "1a=x", "a-b=x", "a b=x", ""):
        with pytest.raises(ValueError) as info:
            parse_assignments([bad])
        assert str(info.value) == f"--set {bad!r}: expected NAME=VALUE"


# --- errors, each where it belongs ----------------------------------------------------------------


def test_required_variable_without_a_value_points_at_its_declaration():
    assert problems(SPEC) == ["t.yaml:3:3: variable 'name' has no value: give it with --set name=... or a rows column"]


def test_required_variable_is_reported_once_however_often_it_is_used():
    text = SPEC.replace('  - text: "${name}"\n', '  - text: "${name}"\n  - text: "by ${name}, ${name}"\n')
    assert problems(text) == ["t.yaml:3:3: variable 'name' has no value: give it with --set name=... or a rows column"]


def test_an_explicit_null_default_is_required_too():
    text = with_text('"${n}"', n="{type: string, default: null}")
    assert problems(text) == ["t.yaml:3:3: variable 'n' has no value: give it with --set n=... or a rows column"]


def test_undeclared_reference_points_at_the_value():
    assert problems(SPEC.replace('"${name}"\n', '"${nmae}"\n'), name="Ada") == [
        "t.yaml:12:11: '${nmae}' in '${nmae}': no variable 'nmae' is declared under vars"
    ]
    assert problems(SPEC.replace('"out/${name}.mp4"', '"out/${name}-${when}.mp4"'), name="Ada") == [
        "t.yaml:13:16: '${when}' in 'out/${name}-${when}.mp4': no variable 'when' is declared under vars"
    ]


def test_environment_variables_are_not_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("VBR_TEMPLATE_SECRET", "leak")
    assert problems(with_text('"${HOME}"')) == ["t.yaml:7:11: '${HOME}' in '${HOME}': no variable 'HOME' is declared under vars"]
    assert problems(with_text('"x ${VBR_TEMPLATE_SECRET}"')) == [
        "t.yaml:7:11: '${VBR_TEMPLATE_SECRET}' in 'x ${VBR_TEMPLATE_SECRET}': no variable 'VBR_TEMPLATE_SECRET' is declared under vars"
    ]


def test_without_a_vars_block_every_reference_is_undeclared():
    text = "source: media/clip.mp4\nexport: {path: 'out/${name}.webm'}\n"
    assert problems(text) == ["t.yaml:2:16: '${name}' in 'out/${name}.webm': no variable 'name' is declared under vars"]


@pytest.mark.parametrize("inside", ["a+b", "size*2", "name.upper()", "", "1x", "x y", "'a'", "__import__('os')"])
def test_only_a_name_may_stand_in_braces(inside: str):
    decl = {"a": "{type: number, default: 1}", "b": "{type: number, default: 2}", "size": "{type: number, default: 3}"}
    reference = "${" + inside + "}"
    line = '"' + reference.replace('"', '\\"') + '"'
    assert problems(with_text(line, **decl)) == [
        f"t.yaml:10:11: '{reference}' in {reference!r}: only a variable name may stand in ${{...}}"
    ]


def test_an_expression_inside_other_text_is_refused_as_well():
    text = with_text('"Hi ${a+b}!"', a="{type: number, default: 1}", b="{type: number, default: 2}")
    assert problems(text) == ["t.yaml:9:11: '${a+b}' in 'Hi ${a+b}!': only a variable name may stand in ${...}"]


def test_unclosed_reference():
    text = with_text('"Hi ${name"', name="{type: string, default: Ada}")
    assert problems(text) == ["t.yaml:8:11: unclosed '${' in 'Hi ${name' (write $${ for a literal ${)"]
    assert problems(with_text('"${"')) == ["t.yaml:7:11: unclosed '${' in '${' (write $${ for a literal ${)"]


def test_bad_default_points_at_the_default():
    assert problems(SPEC.replace('default: "#112233"', "default: red"), name="Ada") == [
        "t.yaml:4:33: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red'"
    ]
    assert problems(SPEC.replace("default: 48", "default: big"), name="Ada") == [
        "t.yaml:5:34: variable 'size' is a number, not 'big'"
    ]
    assert problems(SPEC.replace("default: dark", "default: medium"), name="Ada") == [
        "t.yaml:6:56: variable 'style' is one of light, dark, not 'medium'"
    ]
    assert problems(SPEC.replace("default: false", "default: maybe"), name="Ada") == [
        "t.yaml:8:32: variable 'logo' is true or false, not 'maybe'"
    ]
    assert problems(SPEC.replace("default: media/a.mp4", "default: ''"), name="Ada") == [
        "t.yaml:7:32: variable 'clip' is a path, not an empty string"
    ]


def test_a_bad_default_is_an_error_even_when_the_variable_is_unused():
    text = with_text("plain", c="{type: color, default: '#12345'}")
    assert problems(text) == ["t.yaml:3:29: variable 'c' is a colour \"#rrggbb\" or \"#rrggbbaa\", not '#12345'"]


def test_a_bad_default_is_not_used_when_a_value_is_given():
    project, _ = resolved(SPEC.replace('default: "#112233"', "default: red"), name="Ada", color="#000000")
    assert project.background.color == "#000000"


def test_bad_given_value_points_at_the_declaration():
    assert problems(SPEC, name="Ada", color="red") == [
        "t.yaml:4:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red'"
    ]
    assert problems(SPEC, name="Ada", size="big") == ["t.yaml:5:3: variable 'size' is a number, not 'big'"]
    assert problems(SPEC, name="Ada", style="medium") == ["t.yaml:6:3: variable 'style' is one of light, dark, not 'medium'"]
    assert problems(SPEC, name="Ada", clip="") == ["t.yaml:7:3: variable 'clip' is a path, not an empty string"]
    assert problems(SPEC, name="Ada", logo="maybe") == ["t.yaml:8:3: variable 'logo' is true or false, not 'maybe'"]


def test_several_value_problems_are_reported_together_in_file_order():
    assert problems(SPEC, color="#12", size="", logo="2") == [
        "t.yaml:3:3: variable 'name' has no value: give it with --set name=... or a rows column",
        "t.yaml:4:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not '#12'",
        "t.yaml:5:3: variable 'size' is a number, not ''",
        "t.yaml:8:3: variable 'logo' is true or false, not '2'",
    ]
    text = SPEC.replace('"${name}"\n', '"${nope} ${name} ${1}"\n')
    assert problems(text, size="x") == [
        "t.yaml:3:3: variable 'name' has no value: give it with --set name=... or a rows column",
        "t.yaml:5:3: variable 'size' is a number, not 'x'",
        "t.yaml:12:11: '${nope}' in '${nope} ${name} ${1}': no variable 'nope' is declared under vars",
        "t.yaml:12:11: '${1}' in '${nope} ${name} ${1}': only a variable name may stand in ${...}",
    ]


def test_a_variable_with_a_bad_value_is_not_also_reported_as_missing():
    text = SPEC.replace('"${name}"\n', '"${size} px"\n')
    assert problems(text, name="Ada", size="huge") == ["t.yaml:5:3: variable 'size' is a number, not 'huge'"]


def test_enum_needs_choices():
    assert problems(SPEC.replace("choices: [light, dark], ", ""), name="Ada") == [
        "t.yaml:6:3: vars.style: an enum needs choices: [...]"
    ]
    assert problems(SPEC.replace("choices: [light, dark]", "choices: []"), name="Ada") == [
        "t.yaml:6:3: vars.style: an enum needs choices: [...]"
    ]


def test_unknown_set_names_are_refused():
    assert problems(SPEC, name="Ada", colour="#ffffff") == [
        "t.yaml: --set colour: not declared under vars (declared: clip, color, logo, name, size, style)"
    ]
    assert problems(SPEC, name="Ada", zz="1", aa="2") == [
        "t.yaml: --set aa, zz: not declared under vars (declared: clip, color, logo, name, size, style)"
    ]
    assert problems("source: media/clip.mp4\nexport: {path: o.webm}\n", a="1") == ["t.yaml: --set a: not declared under vars (declared: none)"]


def test_the_vars_block_is_checked_against_the_schema():
    assert problems(with_text("x", r="{type: colour}")) == [
        "t.yaml:3:13: vars.r.type: 'colour' is not one of: string, number, color, enum, path, bool"
    ]
    assert problems(with_text("x", r="{type: string, defualt: x}")) == [
        "t.yaml:3:21: vars.r.defualt: unknown key; did you mean 'default'?"
    ]
    assert problems(with_text("x", r="{default: x}")) == ["t.yaml:3:6: vars.r.type: required key is missing"]
    assert problems(with_text("x", **{"1r": "{type: string}"})) == [
        "t.yaml:3:3: vars.1r: not a valid name (letters, digits and '_', not starting with a digit)"
    ]
    assert problems(with_text("x", r="{type: enum, choices: [1, b]}")) == [
        "t.yaml:3:29: vars.r.choices[0]: expected a string, got a number 1"
    ]
    assert problems("vars: 5\nsource: media/clip.mp4\nexport: {path: o.webm}\n") == ["t.yaml:1:7: vars: expected a mapping, got a number 5"]


def test_vars_shape_errors_come_before_substitution():
    """A broken vars block is reported alone: its references would only repeat it."""
    text = "vars:\n  n: {type: strnig}\nsource: '${n}'\nexport: {path: '${m}.webm'}\n"
    assert problems(text) == ["t.yaml:2:13: vars.n.type: 'strnig' is not one of: string, number, color, enum, path, bool"]


def test_resolved_values_get_the_normal_schema_errors_at_the_template_position():
    # a number where text is wanted
    text = SPEC.replace('"${name}"\n', '"${size}"\n')
    assert problems(text, name="Ada") == ["t.yaml:12:11: text[0].text: expected a string, got a number 48"]
    # a value that fits its variable but not the key it lands in
    text = ALL.replace('fps: "${fps}"', 'fps: "${size}"')
    assert problems(text, name="Ada") == ["t.yaml:16:59: export.fps: 48 is not one of: original, 30, 24, 15"]
    assert problems(ALL, name="Ada", size="5000") == ["t.yaml:14:11: text[0].size: 5000 is above the maximum, 1000"]
    text = ALL.replace('audio: "${sound}"', 'audio: "${size}"')
    assert problems(text, name="Ada") == ["t.yaml:16:42: export.audio: expected true or false, got a number 48"]
    # a colour variable may carry alpha; a colour background may not
    assert problems(SPEC, name="Ada", color="#11223344") == ["t.yaml:10:34: background.color: '#11223344' is not a colour \"#rrggbb\""]
    # an empty string through partial interpolation
    assert problems(with_text('"${n}"', n="{type: string}"), n="") == ["t.yaml:8:11: text[0].text: '' should be non-empty"]
    # the resolved export path decides the format
    assert problems(SPEC.replace("out/${name}.mp4", "out/${name}"), name="Ada.avi") == [
        "t.yaml:13:16: cannot tell the format from '.avi': use .webm, .mp4, .mov or a .png pattern, or set export.format"
    ]
    # the style enum is text, so it fits wherever a string is expected
    project, _ = resolved(SPEC.replace('"${name}"\n', '"${style}"\n'), name="Ada", style="light")
    assert project.text[0].text == "light"


def test_numeric_text_given_for_a_literal_key_matches():
    _, data = resolved(ALL, name="Ada", fps="30.0")
    assert data["export"]["fps"] == 30.0
    project, _ = resolved(ALL, name="Ada", fps="30")
    assert project.export.fps == 30
    assert problems(ALL, name="Ada", fps="25") == ["t.yaml:16:59: export.fps: 25 is not one of: original, 30, 24, 15"]


# --- template_variables and load_project -----------------------------------------------------


def test_template_variables_lists_the_declarations(tmp_path: Path):
    path = tmp_path / "t.yaml"
    path.write_text(SPEC, encoding="utf-8")
    declared = template_variables(path)
    assert list(declared) == ["name", "color", "size", "style", "clip", "logo"]
    assert declared["name"] == Declared("name", "string", None, None)
    assert declared["color"] == Declared("color", "color", "#112233", None)
    assert declared["size"] == Declared("size", "number", 48, None)
    assert declared["style"] == Declared("style", "enum", "dark", ("light", "dark"))
    assert declared["clip"] == Declared("clip", "path", "media/a.mp4", None)
    assert declared["logo"] == Declared("logo", "bool", False, None)
    path.write_text("source: x.mp4\nexport: {path: o.webm}\n", encoding="utf-8")
    assert template_variables(path) == {}


def test_template_variables_checks_the_vars_block(tmp_path: Path):
    path = tmp_path / "t.yaml"
    path.write_text(SPEC.replace("choices: [light, dark], ", ""), encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        template_variables(path)
    assert info.value.lines() == [f"{path}:6:3: vars.style: an enum needs choices: [...]"]
    path.write_text(SPEC.replace("type: bool", "type: boolean"), encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        template_variables(path)
    assert info.value.lines() == [f"{path}:8:17: vars.logo.type: 'boolean' is not one of: string, number, color, enum, path, bool"]


def test_load_project_resolves_paths_from_variables(project, tmp_path: Path):
    path = project(SPEC)
    loaded = load_project(path, values={"name": "Ada", "clip": "media/clip.mp4"}, probe_source=False)
    assert loaded.source == (tmp_path / "media/clip.mp4").resolve()
    assert loaded.export == (tmp_path / "out/Ada.mp4").resolve()
    assert loaded.format == "mp4"
    assert loaded.position("export", "path").line == 13  # positions still point into the template


def test_file_checks_on_resolved_paths_point_at_the_template(project, tmp_path: Path):
    path = project(SPEC)
    with pytest.raises(ProjectError) as info:
        load_project(path, values={"name": "Ada"})  # clip defaults to media/a.mp4, which is not there
    assert info.value.lines() == [f"{path}:9:9: source: no such file: {(tmp_path / 'media/a.mp4').resolve()}"]
    with pytest.raises(ProjectError) as info:
        load_project(path, values={"name": "../media/clip", "clip": "media/clip.mp4"})
    assert info.value.lines() == [f"{path}:13:16: export.path is the source file: it would be overwritten"]


# --- the command line -------------------------------------------------------------------------


def template(model: str, audio: bool = True) -> str:
    return f"""version: 1
vars:
  name: {{type: string}}
  color: {{type: color, default: "#112233"}}
  sound: {{type: bool, default: {str(audio).lower()}}}
  clip: {{type: path, default: media/clip.mp4}}
source: "${{clip}}"
model: {{name: {model}, ema_alpha: 1.0, dedup_threshold: 0}}
background: {{type: color, color: "${{color}}"}}
export: {{path: "out/${{name}}.mp4", audio: "${{sound}}"}}
"""


def test_validate_with_set(project, vbr, redness_model):
    path = project(template(redness_model))
    result = vbr("validate", path, "--set", "name=Ada", "--set", "color=#ff0000")
    assert (result.code, result.out.strip(), result.err) == (0, f"{path}: ok", "")
    result = vbr("validate", path)
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines() == [f"{path}:3:3: variable 'name' has no value: give it with --set name=... or a rows column"]
    result = vbr("validate", path, "--set", "name=Ada", "--set", "color=red")
    assert result.code == 2
    assert result.err.splitlines() == [f"{path}:4:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red'"]
    result = vbr("validate", path, "--set", "name=Ada", "--set", "colour=#ff0000")
    assert result.code == 2
    assert result.err.splitlines() == [f"{path}: --set colour: not declared under vars (declared: clip, color, name, sound)"]
    result = vbr("validate", path, "--set", "name=Ada", "--set", "clip=media/none.mp4")
    assert result.code == 2 and result.err.startswith(f"{path}:7:9: source: no such file: ")


def test_validate_applies_the_same_values_to_every_file(project, vbr, redness_model, tmp_path: Path):
    first = project(template(redness_model), name="a.yaml")
    second = project("version: 1\nvars: {name: {type: string}}\nsource: media/clip.mp4\nexport: {path: 'o-${name}.webm'}\n", name="b.yaml")
    result = vbr("validate", first, second, "--set", "name=Ada")
    assert result.code == 0 and result.out.splitlines() == [f"{first}: ok", f"{second}: ok"]
    result = vbr("validate", first, second)
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines() == [
        f"{first}:3:3: variable 'name' has no value: give it with --set name=... or a rows column",
        f"{second}:2:8: variable 'name' has no value: give it with --set name=... or a rows column",
    ]


@pytest.mark.parametrize("command", ["render", "validate", "plan", "preview"])
@pytest.mark.parametrize("pair", ["foo", "=x", "9lives=1", "a.b=c"])
def test_malformed_set_is_a_usage_error(project, vbr, redness_model, tmp_path: Path, command: str, pair: str):
    path = project(template(redness_model))
    extra = ["--at", "0", "-o", tmp_path / "p.png"] if command == "preview" else []
    result = vbr(command, path, *extra, "--set", "name=Ada", "--set", pair)
    assert result.code == 2
    assert result.err.strip() == f"vbr: --set {pair!r}: expected NAME=VALUE"
    assert result.out == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("command", ["render", "plan", "preview"])
def test_missing_value_stops_every_command(project, vbr, redness_model, tmp_path: Path, command: str):
    path = project(template(redness_model))
    extra = ["--at", "0", "-o", tmp_path / "p.png"] if command == "preview" else []
    result = vbr(command, path, *extra)
    assert result.code == 2
    assert result.err.splitlines() == [f"{path}:3:3: variable 'name' has no value: give it with --set name=... or a rows column"]
    assert not (tmp_path / "out").exists() and not (tmp_path / "p.png").exists()


def test_plan_with_set(project, vbr, redness_model, tmp_path: Path):
    path = project(template(redness_model))
    result = vbr("plan", "--json", path, "--set", "name=Ada")
    assert result.code == 0, result.err
    (plan,) = result.events
    encode = [node for node in plan["nodes"] if node["stage"] == "encode"]
    assert len(encode) == 1 and encode[0]["detail"] == str((tmp_path / "out/Ada.mp4").resolve())
    assert plan["frames"] == 25
    # the value reaches the graph: another colour is another graph
    recoloured = vbr("plan", "--json", path, "--set", "name=Ada", "--set", "color=#ff0000").events[0]
    assert recoloured["graph_key"] != plan["graph_key"]
    assert vbr("plan", "--json", path, "--set", "name=Ada", "--set", "color=#112233").events[0]["graph_key"] == plan["graph_key"]
    result = vbr("plan", path, "--set", "name=Ada", "--set", "sound=perhaps")
    assert result.code == 2
    assert result.err.splitlines() == [f"{path}:5:3: variable 'sound' is true or false, not 'perhaps'"]
    assert not (tmp_path / "out").exists()


def test_render_with_set_end_to_end(project, vbr, redness_model, tmp_path: Path):
    path = project(template(redness_model))
    result = vbr("render", "-q", path, "--set", "name=Ada", "--set", "color=#2040c0", "--set", "sound=no")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Ada.mp4", "Ada.mp4.manifest.json"]
    video = read_video(tmp_path / "out/Ada.mp4")
    assert video.codec == "h264" and len(video.frames) == 25
    frame = video.frames[10]
    assert np.abs(frame[70:, 10:30].astype(int) - (0x20, 0x40, 0xC0)).mean() < TOL  # the --set colour
    assert np.abs(frame[32:64, 70:90].astype(int) - RED).mean() < TOL  # the subject is kept
    assert read_audio(tmp_path / "out/Ada.mp4") is None  # sound=no reached export.audio as false

    # the defaults: the template's colour, audio kept, another file
    result = vbr("render", "-q", path, "--set", "name=Grace")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Ada.mp4", "Ada.mp4.manifest.json", "Grace.mp4", "Grace.mp4.manifest.json"]
    frame = read_video(tmp_path / "out/Grace.mp4").frames[10]
    assert np.abs(frame[70:, 10:30].astype(int) - (0x11, 0x22, 0x33)).mean() < TOL
    assert read_audio(tmp_path / "out/Grace.mp4") is not None


def test_preview_with_set(project, vbr, redness_model, tmp_path: Path):
    path = project(template(redness_model))
    out = tmp_path / "p.png"
    result = vbr("preview", path, "--at", "0", "-o", out, "--set", "name=Ada", "--set", "color=#c08020")
    assert result.code == 0, result.err
    still = read_video(out).frames[0]
    assert still.shape[:2] == (96, 160)
    assert np.abs(still[70:, 10:30, :3].astype(int) - (0xC0, 0x80, 0x20)).mean() < TOL
    assert not (tmp_path / "out").exists()  # a preview does not export
