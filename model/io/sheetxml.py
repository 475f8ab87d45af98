"""Stream one worksheet's XML into rows of typed cell values, as fast as lxml allows.

Only the cells present in the file are touched (a row of formatted blanks far to the right costs
nothing), each `<row>` is dropped once read, and merges are collected at the end of the part.
Cell kinds follow Excel's `t` attribute: shared string, inline string, formula string, boolean,
error, ISO date (Strict OOXML), or number (a date when its style's number format is a date).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from model.io.package import Package, iterparse, local, refuse_dtd, rich_text

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_DIGITS = "0123456789"


class ErrorCell(str):
    """An Excel error value (#REF!...): never data, always reported with its cell."""


class NoValue(str):
    """A formula with no saved value: its text."""

    saved: Any = None  # what the file saved for it anyway (a placeholder), if anything


class Placeholder(NoValue):
    """A formula whose saved value is a placeholder: the file asks to be recalculated when opened."""


@dataclass
class Formula:
    """A formula cell: its text (with '='), and whether the file saved a value for it."""

    text: str
    cached: bool


@dataclass
class RowOrderProblem:
    row: int
    message: str


class TooFarError(Exception):
    """A row or column numbered beyond Excel's last one: the file was crafted, not saved by Excel."""


@dataclass
class SheetStream:
    """Iterate `(row_number, [(column, value, formula or None), ...])` over the worksheet part."""

    package: Package
    part: str
    merges: list[str] = field(default_factory=list)
    order_problems: list[RowOrderProblem] = field(default_factory=list)
    cells_seen: int = 0
    _columns: dict[str, int] = field(default_factory=dict)
    _shared: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[tuple[int, list[tuple[int, Any, Formula | None]]]]:
        pkg = self.package
        strings = pkg.strings
        dates_s = {str(index) for index in pkg.date_styles}  # style ids as the XML spells them
        columns = self._columns = {}  # column letters -> index
        self._shared = {}  # shared formula id -> (master text, master cell)
        last_row = 0
        ns = None
        with pkg.archive.open(self.part) as source:
            for _, element in iterparse(source, ("{*}row", "{*}mergeCell")):
                if ns is None:
                    refuse_dtd(element, self.part)
                    ns = element.tag[: element.tag.index("}") + 1] if element.tag.startswith("{") else ""
                    tag_c, tag_v, tag_f, tag_is = ns + "c", ns + "v", ns + "f", ns + "is"
                    tag_row = ns + "row"
                if element.tag != tag_row:
                    if local(element.tag) == "mergeCell" and element.get("ref"):
                        self.merges.append(element.get("ref").strip().upper())
                    continue
                r = element.get("r")
                if r is None:
                    number = last_row + 1
                else:
                    try:
                        number = int(r)
                    except ValueError:
                        number = -1
                if number > EXCEL_MAX_ROWS:
                    raise TooFarError(f"rows numbered beyond Excel's last row ({EXCEL_MAX_ROWS:,})")
                if number <= last_row or number < 1:
                    self._order_problem(number, r, last_row)
                else:
                    last_row = number
                cells: list[tuple[int, Any, Formula | None]] = []
                append = cells.append
                cut = -len(r) if r else 0  # r "" or None: no fast path (ref[0:] never equals it)
                last_col = 0
                seen = 0
                for c in element.iter(tag_c):
                    ref = c.get("r")
                    kind = c.get("t")
                    style = c.get("s")
                    vtext = fel = inline = None
                    for child in c:
                        tag = child.tag
                        if tag == tag_v:
                            vtext = child.text or ""
                        elif tag == tag_f:
                            fel = child
                        elif tag == tag_is:
                            inline = child
                    # the common case at full speed: a plain value in its own row, columns in order
                    if fel is None and ref is not None and vtext:
                        # letters = the address less the row number (anything odd is not a known column)
                        col = columns.get(ref[:cut], 0) if ref[cut:] == r else 0
                        if col > last_col and (style is None or style not in dates_s):
                            if kind == "s":
                                try:
                                    append((col, strings[int(vtext)], None))
                                except (ValueError, IndexError):
                                    append((col, ErrorCell(f"missing shared string {vtext!r}"), None))
                            elif kind is None or kind == "n":
                                append((col, int(vtext) if vtext.isdigit() and len(vtext) < 16 else _number(vtext),
                                        None))
                            else:
                                last_col = self._cell(ref, kind, style, vtext, fel, inline, number, r, last_col, cells)
                                continue
                            last_col = col
                            seen += 1
                            continue
                    if fel is None and ref is not None and kind == "inlineStr" and inline is not None:
                        col = columns.get(ref[:cut], 0) if ref[cut:] == r else 0
                        if col > last_col:
                            append((col, rich_text(inline), None))
                            last_col = col
                            seen += 1
                            continue
                    last_col = self._cell(ref, kind, style, vtext, fel, inline, number, r, last_col, cells)
                self.cells_seen += seen
                element.clear()
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
                yield number, cells

    def _cell(self, ref: str | None, kind: str | None, s: str | None, vtext: str | None, fel: Any, inline: Any,
              number: int, r: str | None, last_col: int, cells: list[tuple[int, Any, Formula | None]]) -> int:
        """Type any cell (formulas, dates, booleans, errors, odd addresses) into `cells`; returns its column."""
        columns, shared = self._columns, self._shared
        pkg = self.package
        strings, dates, deltas, epoch = pkg.strings, pkg.date_styles, pkg.timedelta_styles, pkg.epoch
        if ref is None:
            col = last_col + 1
        else:
            letters = ref.rstrip(_DIGITS)
            col = columns.get(letters)
            if col is None:
                col = columns[letters] = _column_index(letters)
            if r is not None and number > 0 and ref[len(letters):] != r:
                self.order_problems.append(RowOrderProblem(
                    number, f"cell {ref} is stored in row {number} of the file's XML"))
        if col > EXCEL_MAX_COLUMNS:
            raise TooFarError(f"cells beyond Excel's last column (XFD) in row {number}")
        if col <= last_col:
            self.order_problems.append(RowOrderProblem(
                number, f"row {number} holds column {_letters(col)} twice or out of order"))
        self.cells_seen += 1
        if vtext == "" and kind != "str":
            vtext = None  # an empty <v/>: no value (only a text formula's result can be empty text)
        formula = None
        if fel is not None:
            formula = self._formula(fel, fel.text, ref or f"{_letters(col)}{number}", shared,
                                    vtext is not None and not self.package.full_calc_on_load)
        value: Any
        if kind is None or kind == "n":
            if vtext is None:
                value = None
            else:
                value = _number(vtext)
                if s is not None and dates and s.isdigit() and int(s) in dates and isinstance(value, (int, float)):
                    value = _as_date(value, epoch, int(s) in deltas)
        elif kind == "s":
            try:
                value = strings[int(vtext)]  # type: ignore[arg-type]
            except (ValueError, IndexError, TypeError):
                value = ErrorCell(f"missing shared string {vtext!r}")
        elif kind == "inlineStr":
            value = rich_text(inline) if inline is not None else vtext
        elif vtext is None:
            value = None
        elif kind == "str":
            value = vtext
        elif kind == "b":
            value = vtext.strip().lower() in ("1", "true")
        elif kind == "e":
            value = ErrorCell(vtext)
        elif kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                value = from_ISO8601(vtext)
            except (ValueError, TypeError):
                value = ErrorCell(f"date {vtext!r}")
        else:
            value = vtext
        if formula is not None and not formula.cached:
            saved = value
            value = NoValue(formula.text) if vtext is None else Placeholder(formula.text)
            value.saved = saved
        cells.append((col, value, formula))
        return col

    def _order_problem(self, number: int, r: str | None, last_row: int) -> None:
        if number < 1:
            text = f"a row is numbered {r!r} in the file's XML (rows start at 1)"
        elif number == last_row:
            text = f"row {number} appears twice in the file's XML"
        else:
            text = f"row {number} comes after row {last_row} in the file's XML"
        self.order_problems.append(RowOrderProblem(max(number, 0), text))

    @staticmethod
    def _formula(fel: Any, ftext: str | None, ref: str, shared: dict[str, tuple[str, str]],
                 cached: bool) -> Formula:
        si = fel.get("si")
        if fel.get("t") == "shared" and si is not None:
            if ftext:
                shared[si] = (ftext, ref)
            elif si in shared:
                from openpyxl.formula.translate import Translator

                master, origin = shared[si]
                try:
                    ftext = Translator("=" + master, origin).translate_formula(ref)[1:]
                except Exception:  # noqa: BLE001 - an untranslatable formula is still named by cell
                    ftext = master
        return Formula("=" + (ftext or ""), cached)


def _number(text: str) -> Any:
    if text.isdigit():
        return int(text) if len(text) < 4000 else float(text)  # Python refuses to convert longer ones
    text = text.strip()
    if "." in text or "e" in text or "E" in text or "n" in text.lower():
        try:
            return float(text)
        except ValueError:
            return ErrorCell(f"number {text[:40]!r}")
    try:
        return int(text)
    except ValueError:  # more digits than Python converts, or not a number at all
        try:
            return float(text)
        except ValueError:
            return ErrorCell(f"number {text[:40]!r}")


def _as_date(value: float, epoch: Any, delta: bool) -> Any:
    from openpyxl.utils.datetime import from_excel

    try:
        return from_excel(value, epoch, timedelta=delta)
    except (ValueError, OverflowError, TypeError):
        return value  # a number no date can show: left a number


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            return EXCEL_MAX_COLUMNS + 1
        index = index * 26 + ord(ch) - 64
    return index


def _letters(col: int) -> str:
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out
