"""Table rows as pre-rendered sheet XML, streamed into XlsxWriter's constant-memory row file.

Why: XlsxWriter spends ~6-10 us a cell in its per-cell dispatch (`write_row` -> `_write` ->
`_write_cell` -> `_xml_number_element`). A table's rows are rendered here a column at a time
(one list comprehension per column over plain Python values, then one join per row), about ten
times cheaper, and handed to `RowBlockSheet.write_cell_columns`, which writes them where
XlsxWriter writes its own rows. Everything else (styles, widths, panes, filters, conditional
formats, charts, the package) stays XlsxWriter's.

The cells mean exactly what XlsxWriter writes (tests/test_fast_rows.py compares them cell for
cell): numbers in `<v>` (round-trip `repr`, where XlsxWriter's `%.16G` can drop the last digit),
the column format's style (or a per-row one) on every cell, booleans `t="b"`, text as inline
strings escaped as XlsxWriter escapes them (`_xHHHH_` control characters, `&<>`,
`xml:space="preserve"`), cut at 32,767 UTF-16 units; NaN, inf, NA, None and "" are no cell.
Text is never a formula.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter.workbook
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

MAX_TEXT = 32_767  # characters (UTF-16 units) an Excel cell holds
CHUNK_ROWS = 10_000  # rows rendered at a time: memory stays flat in the table's length
ZIP_LEVEL = 1  # deflate level of the package: 3x faster than zlib's default 6, files ~25% larger
_ZIP_SWAP = threading.Lock()

# Characters XlsxWriter escapes in text (control characters, U+FFFE/U+FFFF, & < >). A column
# whose distinct texts hold none of them, nor "_x" (its _xHHHH_ escape) nor leading or trailing
# whitespace, is rendered by a plain template; any other column takes the exact per-text path
# (`text_xml`). A false alarm costs time, never correctness.
_SPECIAL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]")


class RowBlockSheet(Worksheet):
    """An XlsxWriter worksheet that also takes blocks of pre-rendered rows.

    The XlsxWriter internals relied on (pinned in pyproject.toml) are all here: the constant-memory
    row file `fh`, `previous_row`/`table`/`_write_single_row` (rows already flushed), `dim_*` via
    `_check_dimensions` (the `<dimension>` element), `col_info` (the column format every cell
    carries), `row_info`, row heights and `excel_version` (what XlsxWriter's `<row>` would add),
    and the string helpers `_escape_control_characters`, `_preserve_whitespace`, `_utf16_*`."""

    def column_style(self, col: int) -> str:
        """The ` s="N"` attribute XlsxWriter puts on a cell of `col` written without a format."""
        info = self.col_info.get(col)
        fmt = info.column_format if info is not None else None
        return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

    def write_cell_columns(self, first_row: int, columns: Sequence[list[str]]) -> None:
        """Write rows `first_row`, `first_row + 1`, ... (0-based) whose cells are given by column:
        `columns[j][i]` is the rendered `<c>` of column j in row first_row + i, or "" for no cell.
        Rows with no cell are left out, as XlsxWriter leaves them out."""
        if not self.constant_memory:
            raise RuntimeError("pre-rendered rows need the workbook's constant_memory mode")
        if not columns:
            return
        n = len(columns[0])
        last = first_row + n - 1
        if n == 0:
            return
        if first_row < self.previous_row or (first_row == self.previous_row and self.table):
            raise RuntimeError(f"rows from {first_row + 1} are already written (constant-memory mode)")
        if last >= self.xls_rowmax or len(columns) > self.xls_colmax:
            raise ValueError(f"rows to {last + 1} or {len(columns)} columns: beyond an Excel sheet")
        if (self.excel_version == 2010 or self.default_row_height != self.original_row_height
                or any(first_row <= r <= last for r in self.row_info)):
            raise RuntimeError("pre-rendered rows carry no row attributes (heights, row formats)")
        if self.row_data_fh_closed:
            self._opt_reopen()
        self._write_single_row(first_row)  # flush the row XlsxWriter holds (the header)
        used = [j for j, cells in enumerate(columns) if any(cells)]
        if used:
            joined = list(map("".join, zip(*columns, strict=True)))
            kept = range(n) if all(joined) else [i for i, cells in enumerate(joined) if cells]
            self.fh.write("".join([f'<row r="{first_row + 1 + i}">{joined[i]}</row>' for i in kept]))
            self._check_dimensions(first_row + kept[0], used[0])
            self._check_dimensions(first_row + kept[-1], used[-1])
        # nothing may be written into these rows again: XlsxWriter would emit them a second time
        self.previous_row = last + 1

    @staticmethod
    def text_xml(text: str) -> tuple[str, bool]:
        """`text` as XlsxWriter 3.3 writes an inline string: cut at 32,767 UTF-16 units, control
        characters as _xHHHH_, & < > escaped; and whether it needs xml:space="preserve"."""
        if len(text) > MAX_TEXT // 2 and _utf16_len(text) > MAX_TEXT:
            text = _utf16_truncate(text, MAX_TEXT)
        text = Worksheet._escape_control_characters(text)
        preserve = _preserve_whitespace(text) is not None
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), preserve


class FastZipWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose package is deflated at `ZIP_LEVEL`.

    Why: once rows are pre-rendered, zlib at its default level 6 is the largest single cost of a
    big plan (~0.5 us a cell, more than rendering it). XlsxWriter opens its ZipFile inside
    `_store_workbook` without a level, so the level is given there, for this close only."""

    def _store_workbook(self) -> None:
        with _ZIP_SWAP:  # one swap at a time; the module's own ZipFile is back before the lock is
            original = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = functools.partial(original, compresslevel=ZIP_LEVEL)
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = original


def _text_body(text: str) -> str:
    """The `<t>` of one inline string, exactly as XlsxWriter writes it."""
    body, preserve = RowBlockSheet.text_xml(text)
    return f'<t xml:space="preserve">{body}</t>' if preserve else f"<t>{body}</t>"


def _plain_text(texts: list[Any]) -> bool:
    """Whether every text can go into the plain template as it is: no character XlsxWriter escapes,
    no leading or trailing whitespace, none long enough to be cut. Checked once per distinct text."""
    distinct = [t for t in dict.fromkeys(texts) if t]
    if not distinct:
        return True
    joined = "\n".join(distinct)
    return (max(map(len, distinct)) <= MAX_TEXT // 2 and _SPECIAL_CHARS.search(joined) is None
            and "_x" not in joined and all(map(str.__eq__, distinct, map(str.strip, distinct))))


def _plain(value: Any) -> Any:
    """One value as the plain Python value a cell holds: None (no cell), bool, int, float or str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:MAX_TEXT]
    return str(value)[:MAX_TEXT]


def _any_cell(ref: str, style: str, number_style: str, value: Any) -> str:
    """The `<c>` of one value of any kind (mixed columns): the exact, slower path."""
    value = _plain(value)
    if value is None or value == "":
        return ""
    if value is True or value is False:
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}"{style} t="inlineStr"><is>{_text_body(value)}</is></c>'
    return f'<c r="{ref}"{number_style}><v>{value!r}</v></c>'


def _number_texts(values: pd.Series, kind: str) -> tuple[list[str], list[bool] | None]:
    """Each number as the shortest text that reads back the same (`repr`), and which are finite
    (None: all). A column's repeated values (zeros, unit costs, a batch's scenarios) are spelled
    once: `repr` of a float is the cost of a number cell, a dict look-up a fifth of it."""
    if kind != "f":
        return list(map(str, values.to_numpy().tolist())), None
    array = values.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(array)
    present = None
    if not finite.all():
        present = finite.tolist()
        array = np.where(finite, array, 0.0)  # no cell there; 0.0 keeps the look-up table small
    v = array.tolist()
    if len(v) > 64 and not (np.signbit(array) & (array == 0)).any():  # -0.0 == 0.0 as a dict key
        distinct = dict.fromkeys(v)
        if 2 * len(distinct) <= len(v):
            return list(map({x: repr(x) for x in distinct}.__getitem__, v)), present
    return list(map(repr, v)), present


def row_numbers(first_row: int, n: int) -> list[str]:
    """The 1-based row numbers of `n` rows from 0-based `first_row`, as text (shared by columns)."""
    return list(map(str, range(first_row + 1, first_row + 1 + n)))


def render_column(values: pd.Series, col: int, rows: list[str], style: str,
                  number_styles: list[str] | None = None) -> list[str]:
    """The `<c>` elements of one column in the rows numbered `rows` ("" where no cell).

    `style` is the column's ` s="N"` (or ""); `number_styles`, when given, is the per-row style of
    its number cells (text and boolean cells keep the column's)."""
    letter = xl_col_to_name(col)
    kind = values.dtype.kind
    has_na = kind in "iub" and bool(values.isna().any())  # nullable Int64/boolean with NA
    if kind == "f" or (kind in "iu" and not has_na):
        texts, present = _number_texts(values, kind)
        styles = number_styles if number_styles is not None else [style] * len(rows)
        if present is None:
            return [f'<c r="{letter}{r}"{s}><v>{t}</v></c>' for r, s, t in zip(rows, styles, texts, strict=True)]
        return [f'<c r="{letter}{r}"{s}><v>{t}</v></c>' if ok else ""
                for r, s, t, ok in zip(rows, styles, texts, present, strict=True)]
    if kind == "b" and not has_na:
        true, false = f'{style} t="b"><v>1</v></c>', f'{style} t="b"><v>0</v></c>'
        return [f'<c r="{letter}{r}"{true if x else false}'
                for r, x in zip(rows, values.to_numpy().tolist(), strict=True)]
    if kind in "OU" and pd.api.types.infer_dtype(values, skipna=True) == "string":
        texts = values.to_numpy(dtype=object, na_value=None).tolist()
        head = f'{style} t="inlineStr"><is>'
        if _plain_text(texts):
            return [f'<c r="{letter}{r}"{head}<t>{t}</t></is></c>' if t else ""
                    for r, t in zip(rows, texts, strict=True)]
        bodies = {t: _text_body(t[:MAX_TEXT]) for t in dict.fromkeys(texts) if t}
        return [f'<c r="{letter}{r}"{head}{bodies[t]}</is></c>' if t else ""
                for r, t in zip(rows, texts, strict=True)]
    objects = values.to_numpy(dtype=object).tolist()
    styles = number_styles if number_styles is not None else [style] * len(rows)
    return [_any_cell(f"{letter}{r}", style, s, x) for r, s, x in zip(rows, styles, objects, strict=True)]
