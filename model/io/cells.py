"""How one cell's content becomes a typed value: one documented rule per kind.

Each parser returns ``(value, error_message)``; a blank cell gives ``(None, None)``.
The rules (also in the README, "What happens when"):

* Numbers: Excel numbers are taken as they are. Text is accepted when it is a plain number after
  trimming spaces (``" 42 "``, ``"1e3"``, ``"-0.5"``; ASCII digits only) or uses commas as
  thousands separators (``"1,000"``, ``"12,500.5"``); anything else is an error. Share columns also accept a
  percentage (``"20%"`` is 0.2). Booleans, dates, NaN, infinities and magnitudes above 1e15 are
  errors, never silently converted.
* Codes: text with surrounding spaces trimmed, kept exactly and case-sensitively. ``NA``,
  ``NULL``, ``None``, ``nan``, ``N/A`` are codes like any other (``NA`` is Namibia), never
  missing values: no pandas NA-guessing is ever applied. A whole number typed as a number
  becomes its digits (``2026`` -> ``"2026"``). Codes are normalised to Unicode NFC (an accent
  typed as a separate mark equals the accented letter). Codes longer than 64 characters are
  errors, and so is any character that is not printable or is invisible (zero-width spaces and
  joiners, byte-order marks, right-to-left overrides, U+034F, variation selectors such as U+FE0F,
  tag characters such as U+E0020, Hangul fillers such as U+3164, no-break spaces inside), named
  by its code point, because two codes that look the same must be the same.
* Text (names, groups, notes): surrounding spaces trimmed; at most 1000 characters. Tabs and line
  breaks inside are kept; other control characters (including Excel's escaped form such as
  ``_x0007_``) and right-to-left override characters are errors naming the cell. Text is never
  interpreted: a name such as ``=HYPERLINK(...)`` is kept as those characters and written back
  to every output as literal text, never as a formula.
* Integers (periods): a number or numeric text with no fractional part.
* Error cells (``#REF!``, ``#N/A``...) are errors, never blank and never zero.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

from model.schema import MAX_ABS_NUMBER, MAX_CODE_LENGTH, MAX_TEXT_LENGTH

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$", re.ASCII)
# C0 controls except tab and line feed, DEL, C1 controls, bidi overrides and isolates, and Excel's
# _xHHHH_ escape of a C0 control (Excel writes control characters that way in shared strings)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|_x00[01][0-9a-fA-F]_")
# codes additionally refuse tab/line feed and every invisible character: Unicode's default-ignorable
# code points (zero-width spaces and joiners, the combining grapheme joiner U+034F, variation
# selectors U+FE00-FE0F, tag characters U+E0000-E0FFF, Hangul fillers U+3164...), so two codes that
# look the same are the same
_CODE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                           r"\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                           r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
                           r"|_x00[01][0-9a-fA-F]_")
_SPACES = " \t\r\n\u00a0\u2007\u202f"

Parsed = tuple[Any, str | None]


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip(_SPACES) == "")


def parse_number(value: Any, *, percent: bool = False) -> Parsed:
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, "must be a number, not TRUE/FALSE"
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return None, "must be a number, not a date or time"
    if isinstance(value, int) and abs(value) > MAX_ABS_NUMBER:
        return None, f"must be at most {MAX_ABS_NUMBER:g} in magnitude"  # float() of 400 digits overflows
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip(_SPACES)
        scale = 1.0
        if percent and text.endswith("%"):
            text, scale = text[:-1].strip(_SPACES), 0.01
        if _PLAIN.match(text):
            number = float(text) * scale
            if math.isinf(number):  # hundreds of digits: not "inf", which _PLAIN never matches
                return None, f"must be at most {MAX_ABS_NUMBER:g} in magnitude"
        elif _THOUSANDS.match(text):
            number = float(text.replace(",", "")) * scale
        else:
            return None, "must be a number"
    else:
        return None, "must be a number"
    if math.isnan(number) or math.isinf(number):
        return None, "must be a finite number"
    if abs(number) > MAX_ABS_NUMBER:
        return None, f"must be at most {MAX_ABS_NUMBER:g} in magnitude"
    return number, None


def parse_integer(value: Any) -> Parsed:
    number, error = parse_number(value)
    if error or number is None:
        return number, error
    if number != int(number):
        return None, "must be a whole number"
    return int(number), None


def parse_code(value: Any) -> Parsed:
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, "must be a code, not TRUE/FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return None, "must be a code, not a date"
    text = unicodedata.normalize("NFC", str(value).strip(_SPACES))
    if len(text) > MAX_CODE_LENGTH:
        return None, f"is longer than {MAX_CODE_LENGTH} characters"
    bad = _CODE_CONTROL.search(text)
    if bad is None and not text.isprintable():
        bad = next(re.finditer(r"[^ ]", "".join(c if not c.isprintable() else " " for c in text)))
    if bad:
        return None, f"contains a control or invisible character ({_describe(bad.group())})"
    return text, None


def parse_text(value: Any) -> Parsed:
    if is_blank(value):
        return None, None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip(_SPACES)
    if len(text) > MAX_TEXT_LENGTH:
        return None, f"is longer than {MAX_TEXT_LENGTH} characters"
    bad = _CONTROL.search(text)
    if bad:
        return None, f"contains a control character ({_describe(bad.group())})"
    return text, None


def _describe(found: str) -> str:
    if found.startswith("_x"):
        return f"Excel escape {found}"
    return f"U+{ord(found):04X}"


def parse_choice(value: Any, choices: tuple[str, ...]) -> Parsed:
    text, error = parse_text(value)
    if error or text is None:
        return text, error
    low = text.lower()
    if low not in choices:
        return None, f"must be one of {', '.join(choices)}"
    return low, None


def parse_kind(value: Any, kind: str, choices: tuple[str, ...] = ()) -> Parsed:
    """Parse a cell by the column kind declared in the schema."""
    if kind == "number":
        return parse_number(value)
    if kind == "share":
        return parse_number(value, percent=True)
    if kind == "integer":
        return parse_integer(value)
    if kind == "code":
        return parse_code(value)
    if kind == "choice":
        return parse_choice(value, choices)
    return parse_text(value)
