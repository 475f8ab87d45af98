"""The one rule per cell kind documented in model/io/cells.py, example by example and as properties."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.io.cells import (
    is_blank,
    parse_choice,
    parse_code,
    parse_integer,
    parse_kind,
    parse_number,
    parse_text,
)
from model.schema import MAX_ABS_NUMBER, MAX_CODE_LENGTH, MAX_TEXT_LENGTH

# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("value, expected", [
    (42, 42.0), (0.5, 0.5), (-3, -3.0), ("42", 42.0), (" 42 ", 42.0), ("\u00a042\t", 42.0),
    ("1e3", 1000.0), ("1E-2", 0.01), ("-0.5", -0.5), (".5", 0.5), ("+7", 7.0), ("5.", 5.0),
    ("1,000", 1000.0), ("12,500.5", 12500.5), ("-1,234,567", -1234567.0), (MAX_ABS_NUMBER, MAX_ABS_NUMBER),
])
def test_numbers_accepted(value, expected):
    assert parse_number(value) == (expected, None)


@pytest.mark.parametrize("value, error", [
    (True, "must be a number, not TRUE/FALSE"), (False, "must be a number, not TRUE/FALSE"),
    (dt.datetime(2026, 1, 1), "must be a number, not a date or time"),
    (dt.date(2026, 1, 1), "must be a number, not a date or time"),
    (dt.time(12, 0), "must be a number, not a date or time"),
    (dt.timedelta(days=1), "must be a number, not a date or time"),
    (float("nan"), "must be a finite number"), (float("inf"), "must be a finite number"),
    (float("-inf"), "must be a finite number"),
    (1e300, "must be at most 1e+15 in magnitude"), (-1e16, "must be at most 1e+15 in magnitude"),
    ("1e300", "must be at most 1e+15 in magnitude"),
    ("nan", "must be a number"), ("NaN", "must be a number"), ("inf", "must be a number"),
    ("Infinity", "must be a number"), ("1.000,5", "must be a number"), ("1,00", "must be a number"),
    ("12 t", "must be a number"), ("$5", "must be a number"), ("1 000", "must be a number"),
    ("20%", "must be a number"), ("0x10", "must be a number"), ("1_000", "must be a number"),
    ("١٢", "must be a number"),  # Arabic-Indic digits: float() would take them, the rule does not
    (b"12", "must be a number"),
])
def test_numbers_refused(value, error):
    assert parse_number(value) == (None, error)


@pytest.mark.parametrize("value", [None, "", "   ", "\u00a0", "\t\r\n"])
def test_blank_is_missing_never_zero(value):
    assert is_blank(value)
    for kind in ("number", "share", "integer", "code", "text"):
        assert parse_kind(value, kind) == (None, None)


def test_shares_accept_percent_text():
    assert parse_kind("20%", "share") == (0.2, None)
    assert parse_kind(" 12.5 % ", "share") == (0.125, None)
    assert parse_kind(0.2, "share") == (0.2, None)
    assert parse_kind("20%", "number") == (None, "must be a number")


def test_integers():
    assert parse_integer(2026) == (2026, None)
    assert parse_integer(2026.0) == (2026, None)
    assert parse_integer("2,026") == (2026, None)
    assert parse_integer(" 2026 ") == (2026, None)
    assert parse_integer(2026.5) == (None, "must be a whole number")
    assert parse_integer(True) == (None, "must be a number, not TRUE/FALSE")


# ------------------------------------------------------------------ codes and text


@pytest.mark.parametrize("code", ["NA", "NULL", "None", "nan", "NaN", "N/A", "null", "#N/A", "-", "TRUE"])
def test_codes_that_look_missing_stay_text(code):
    assert parse_code(code) == (code, None)


@pytest.mark.parametrize("value, expected", [(" USA ", "USA"), (2026, "2026"), (2026.0, "2026"), (1.5, "1.5"),
                                             ("usa", "usa"), ("=1+1", "=1+1"), ("\t=TAB()", "=TAB()")])
def test_codes_are_kept_exactly_after_trimming(value, expected):
    assert parse_code(value) == (expected, None)


@pytest.mark.parametrize("value, error", [
    (True, "must be a code, not TRUE/FALSE"),
    (dt.datetime(2026, 1, 1), "must be a code, not a date"),
    ("U" * (MAX_CODE_LENGTH + 1), f"is longer than {MAX_CODE_LENGTH} characters"),
    ("US\rA", "contains a control or invisible character (U+000D)"),
    ("US\nA", "contains a control or invisible character (U+000A)"),
    ("US\tA", "contains a control or invisible character (U+0009)"),
    ("US\x00A", "contains a control or invisible character (U+0000)"),
    ("US\x1bA", "contains a control or invisible character (U+001B)"),
    ("US\u200bA", "contains a control or invisible character (U+200B)"),
    ("\ufeffUSA", "contains a control or invisible character (U+FEFF)"),
    ("USA\u202e", "contains a control or invisible character (U+202E)"),
    ("US\u00adA", "contains a control or invisible character (U+00AD)"),
    ("US_x0007_A", "contains a control or invisible character (Excel escape _x0007_)"),
])
def test_codes_refused(value, error):
    assert parse_code(value) == (None, error)


def test_code_length_boundary():
    assert parse_code("U" * MAX_CODE_LENGTH) == ("U" * MAX_CODE_LENGTH, None)


@pytest.mark.parametrize("value, expected", [
    ("  Namibia ", "Namibia"), ("Line one\nline two", "Line one\nline two"), ("a\tb", "a\tb"),
    ('=HYPERLINK("http://x","y")', '=HYPERLINK("http://x","y")'), ("Côte d’Ivoire", "Côte d’Ivoire"),
    ("x" * MAX_TEXT_LENGTH, "x" * MAX_TEXT_LENGTH), (12.0, "12"), ("_x00ZZ_", "_x00ZZ_"),
])
def test_text_accepted(value, expected):
    assert parse_text(value) == (expected, None)


@pytest.mark.parametrize("value, error", [
    ("x" * (MAX_TEXT_LENGTH + 1), f"is longer than {MAX_TEXT_LENGTH} characters"),
    ("a\rb", "contains a control character (U+000D)"),
    ("a\x07b", "contains a control character (U+0007)"),
    ("a\x85b", "contains a control character (U+0085)"),
    ("evil\u202etxt.exe", "contains a control character (U+202E)"),
    ("a_x000D_b", "contains a control character (Excel escape _x000D_)"),
])
def test_text_refused(value, error):
    assert parse_text(value) == (None, error)


def test_choices_are_case_insensitive():
    assert parse_choice(" Scale ", ("set", "scale", "add")) == ("scale", None)
    assert parse_choice("multiply", ("set", "scale", "add")) == (None, "must be one of set, scale, add")


# ------------------------------------------------------------------ properties

finite = st.floats(min_value=-MAX_ABS_NUMBER, max_value=MAX_ABS_NUMBER, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(finite)
def test_every_finite_number_round_trips_through_text(x):
    assert parse_number(x) == (x, None)
    assert parse_number(repr(x)) == (x, None)
    assert parse_number(f"  {x!r}\u00a0") == (x, None)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_thousands_separators_round_trip(n):
    assert parse_number(f"{n:,}") == (float(n), None)
    assert parse_integer(f"{n:,}") == (n, None)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=80), st.floats(), st.integers(), st.booleans(), st.none(),
                 st.datetimes(), st.dates()))
def test_every_parser_gives_a_value_or_a_reason_never_both_never_raises(value):
    for kind in ("number", "share", "integer", "code", "text"):
        result, error = parse_kind(value, kind)
        assert result is None or error is None
        if error is not None:
            assert isinstance(error, str) and error
        if kind in ("number", "share", "integer") and result is not None:
            assert math.isfinite(result) and abs(result) <= MAX_ABS_NUMBER
            assert not isinstance(result, bool)
        if kind == "code" and result is not None:
            assert result == result.strip() and len(result) <= MAX_CODE_LENGTH
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in result)
        if is_blank(value):
            assert (result, error) == (None, None)
