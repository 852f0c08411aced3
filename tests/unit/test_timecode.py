"""renderer.project.timecode: exact parsing of seconds and [HH:]MM:SS[.mmm]."""

import re
from fractions import Fraction

import pytest

from renderer.project.timecode import TIMECODE_PATTERN, format_seconds, parse_timecode, seconds_apart


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, Fraction(0)),
        (4, Fraction(4)),
        (3600, Fraction(3600)),
        (0.1, Fraction(1, 10)),
        (0.2, Fraction(1, 5)),
        (4.04, Fraction(101, 25)),
        (2.5, Fraction(5, 2)),
        (1e-3, Fraction(1, 1000)),
        (0.0, Fraction(0)),
    ],
)
def test_numbers_are_exact_fractions(value, expected):
    result = parse_timecode(value)
    assert type(result) is Fraction
    assert result == expected


def test_float_point_one_is_exactly_one_tenth_not_the_binary_double():
    result = parse_timecode(0.1)
    assert result == Fraction(1, 10)
    assert result != Fraction(0.1)  # the binary double is 3602879701896397/36028797018963968
    assert parse_timecode(0.1) * 3 == Fraction(3, 10)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("00:00", Fraction(0)),
        ("01:30", Fraction(90)),
        ("1:30", Fraction(90)),
        ("59:59", Fraction(3599)),
        ("00:04.000", Fraction(4)),
        ("00:04.04", Fraction(101, 25)),
        ("00:04.040", Fraction(101, 25)),
        ("00:00.1", Fraction(1, 10)),
        ("00:00.001", Fraction(1, 1000)),
        ("01:02:03.250", Fraction(3723) + Fraction(1, 4)),
        ("1:02:03.5", Fraction(7447, 2)),
        ("10:00:00", Fraction(36000)),
        ("  00:05  ", Fraction(5)),
    ],
)
def test_strings(text, expected):
    result = parse_timecode(text)
    assert type(result) is Fraction
    assert result == expected


@pytest.mark.parametrize("value", [-1, -0.5, -1e-9, "-00:01", "-1"])
def test_negative_rejected(value):
    with pytest.raises(ValueError):
        parse_timecode(value)


def test_negative_message_mentions_negative():
    with pytest.raises(ValueError, match="negative"):
        parse_timecode(-2)


@pytest.mark.parametrize("value", [True, False])
def test_bools_rejected_even_though_they_are_ints(value):
    with pytest.raises(ValueError):
        parse_timecode(value)


@pytest.mark.parametrize(
    "text",
    [
        "1:60",  # seconds must be 00..59
        "00:60",
        "1:60:00",  # minutes must be 00..59 when hours are given
        "00:4",  # seconds need two digits
        "00:04.",  # a dot needs digits
        ".",
        "1e1000",  # an exponent has at most three digits
        "1e",
        "\u0664",  # ARABIC-INDIC DIGIT FOUR: only ASCII digits
        "-4",
        "",
        "abc",
        "00:04:",
        "::",
        "1:2:3:4",
        "00h04",
        "00:04,5",
    ],
)
def test_garbage_strings_rejected(text):
    with pytest.raises(ValueError):
        parse_timecode(text)


@pytest.mark.parametrize("value", [None, [1], {"s": 1}, Fraction(1, 2), b"00:01"])
def test_other_types_rejected(value):
    with pytest.raises(ValueError):
        parse_timecode(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_floats_rejected(value):
    with pytest.raises(ValueError):
        parse_timecode(value)


def test_pattern_constant_agrees_with_parser():
    import re

    assert re.match(TIMECODE_PATTERN, "01:02:03.500")
    assert not re.match(TIMECODE_PATTERN, "1:60")


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "00:00.000"),
        (Fraction(101, 25), "00:04.040"),
        (4.04, "00:04.040"),
        (Fraction(1, 3), "00:00.333"),
        (Fraction(2, 3), "00:00.667"),
        (59.9996, "01:00.000"),  # rounds up into the next minute, no "60" field
        (90, "01:30.000"),
        (3599.999, "59:59.999"),
        (3600, "01:00:00.000"),
        (Fraction(7447, 2), "01:02:03.500"),
        (36000, "10:00:00.000"),
    ],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("text", ["00:04.040", "01:02:03.500", "59:59.999", "00:00.001"])
def test_format_then_parse_round_trips(text):
    assert format_seconds(parse_timecode(text)) == text


@pytest.mark.parametrize("text,expected", [("4", Fraction(4)), ("4.5", Fraction(9, 2)), ("0.040", Fraction(1, 25)), ("125", Fraction(125))])
def test_plain_seconds_as_strings(text, expected):
    assert parse_timecode(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("0.2000", Fraction(1, 5)),
        ("1.23456", Fraction(123456, 100000)),
        ("1e1", Fraction(10)),
        ("1.5e0", Fraction(3, 2)),
        ("2.5E-1", Fraction(1, 4)),
        ("1e+2", Fraction(100)),
        (".5", Fraction(1, 2)),
        ("4.", Fraction(4)),
        ("00:04.1234", Fraction(41234, 10000)),
        ("1:02:03.000001", Fraction(3723) + Fraction(1, 10**6)),
    ],
)
def test_any_decimal_number_of_seconds_is_a_time(text, expected):
    """Decimals past milliseconds and exponents are exact, never refused (they round to a frame later)."""
    assert re.match(TIMECODE_PATTERN, text)
    assert parse_timecode(text) == expected


@pytest.mark.parametrize(
    "a, b, shown",
    [
        (1.1, 1, ("1.1", "1")),
        (0.0101, Fraction(1, 100), ("0.0101", "0.01")),
        (0.3, 0.25, ("0.3", "0.25")),
        (0.151, 0.149, ("0.151", "0.149")),
        (Fraction(1, 3), 0.34, ("0.333", "0.34")),
    ],
)
def test_seconds_apart_shows_two_different_times_differently(a, b, shown):
    assert seconds_apart(a, b) == shown


def test_format_seconds_is_exact_for_any_size():
    assert format_seconds(3600 * 10**400) == "1" + "0" * 400 + ":00:00.000"  # no float overflow
