"""`sourcing solve WORKBOOK --write-back`: put the plan into the analyst's own workbook.

The plan tables go into sheets named `Plan <table>` (`Plan Summary`, `Plan Flows`, ...) at the
end of the workbook; plan sheets from an earlier run are replaced. Every other sheet keeps its
values, formulas, formatting, comments, data validation and conditional formatting, because the
file is re-saved by openpyxl in normal mode (data_only=False, keep_vba=False).

openpyxl cannot keep everything Excel can store. Before anything is written the file's zip parts
are inspected, and write-back is refused (InputError, exit 2) when the workbook holds something
the re-save would drop: charts, drawings and images, pivot tables, VBA macros, slicers and
timelines, form controls, embedded objects, threaded comments, data connections, or Excel 2010
extensions in a sheet (x14 data validation, conditional formatting, sparklines). The message
says what would be lost and points to the default: a separate plan file.

Safety: refused while Excel or LibreOffice has the file open (lock file beside it); the original
is first copied to `<name>.bak.xlsx` beside it; the new file is written atomically.

One thing openpyxl changes even in a plain workbook: formula cells keep their formulas but lose
the value Excel last calculated. Excel and LibreOffice recalculate them when the file is opened;
`sourcing` reads formula inputs only from saved values, so open and save the file once before
solving it again (the command says so when the input sheets hold formulas).
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from model.errors import InputError
from model.io.atomic import refuse_if_locked, write_atomically
from model.io.reader import normalise_name
from model.io.writer import EXCEL_MAX_ROWS, fill_sheet
from model.schema import INPUT_SHEETS, OUTPUT_SHEETS, SCENARIOS_SHEET

PREFIX = "Plan "
README_SHEET = "Plan README"
PROPERTY = "sourcing_plan_sheets"  # custom document property: the plan sheets written last time
# Table names a plan may hold (the contract's plus the analyst extras), for files whose custom
# property was lost: `Plan <one of these>` is always treated as an earlier plan sheet.
KNOWN_TABLES = (
    *OUTPUT_SHEETS,
    "Capacity",
    "Prices",
    "Infeasibility",
    "Sensitivity",
    "AlternateOptima",
    "Charts",
    "README",
)

# zip part prefix -> what would be lost
LOSSY_PARTS: tuple[tuple[str, str], ...] = (
    ("xl/charts/", "charts"),
    ("xl/chartsheets/", "chart sheets"),
    ("xl/drawings/drawing", "drawings (shapes, pictures or charts placed on a sheet)"),
    ("xl/media/", "images"),
    ("xl/pivotTables/", "pivot tables"),
    ("xl/pivotCache/", "pivot caches"),
    ("xl/vbaProject.bin", "VBA macros"),
    ("xl/slicers/", "slicers"),
    ("xl/slicerCaches/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/timelineCaches/", "timelines"),
    ("xl/ctrlProps/", "form controls"),
    ("xl/activeX/", "ActiveX controls"),
    ("xl/embeddings/", "embedded objects"),
    ("xl/threadedComments/", "threaded comments (the text survives only as a plain note)"),
    ("xl/connections.xml", "data connections (Power Query or external data)"),
    ("xl/queryTables/", "query tables"),
    ("xl/model/", "a Power Pivot data model"),
)
# markers inside a worksheet's XML -> what would be lost
LOSSY_SHEET_MARKERS: tuple[tuple[bytes, str], ...] = (
    (
        b"x14:dataValidation",
        "data validation stored as an Excel 2010 extension (e.g. a list on another sheet)",
    ),
    (b"x14:conditionalFormatting", "conditional formatting stored as an Excel 2010 extension"),
    (b"x14:sparklineGroup", "sparklines"),
)
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_CHUNK = 1 << 20


@dataclass
class WriteBack:
    """What write-back did: the file, its backup, the plan sheets and anything to tell the analyst."""

    path: Path
    backup: Path
    sheets: list[str]
    notes: list[str] = field(default_factory=list)


def backup_path(workbook: Path) -> Path:
    workbook = Path(workbook)
    return workbook.with_name(f"{workbook.stem}.bak.xlsx")


def what_would_be_lost(workbook: Path) -> list[str]:
    """The features of `workbook` that an openpyxl re-save would drop (empty: safe to write back)."""
    found: list[str] = []
    with zipfile.ZipFile(workbook) as archive:
        names = archive.namelist()
        for prefix, what in LOSSY_PARTS:
            if any(n.startswith(prefix) for n in names) and what not in found:
                found.append(what)
        for name in names:
            if not _SHEET_PART.match(name):
                continue
            for what in _markers_in(archive, name):
                if what not in found:
                    found.append(what)
    return found


def _markers_in(archive: zipfile.ZipFile, name: str) -> list[str]:
    """Stream one sheet part and say which lossy markers it contains."""
    hits: list[str] = []
    overlap = max(len(m) for m, _ in LOSSY_SHEET_MARKERS)
    tail = b""
    with archive.open(name) as handle:
        while block := handle.read(_CHUNK):
            text = tail + block
            for marker, what in LOSSY_SHEET_MARKERS:
                if marker in text and what not in hits:
                    hits.append(what)
            tail = text[-overlap:]
    return hits


def check_write_back(workbook: Path) -> None:
    """Refuse (InputError) before any solving when write-back could not be done safely."""
    workbook = Path(workbook)
    if workbook.suffix.lower() != ".xlsx":
        raise InputError(
            f"{workbook.name}: write-back needs an .xlsx workbook (a .xlsm keeps macros that "
            "would be lost); write the plan to a separate file with -o instead"
        )
    refuse_if_locked(workbook)
    if not workbook.is_file():
        return  # the loader reports a missing or unreadable file in its own words
    try:
        lost = what_would_be_lost(workbook)
    except (zipfile.BadZipFile, OSError):
        return  # not a readable xlsx: the loader says why
    if lost:
        raise InputError(
            f"{workbook.name} holds {', '.join(lost)}, which would be lost if the plan were written back "
            f"into it (openpyxl cannot keep them); nothing was written. Write the plan to a separate file "
            f"instead: drop --write-back (default outputs/plan.xlsx) or pass -o PLAN.xlsx"
        )


def write_back(plan, workbook: str | Path) -> WriteBack:
    """Add `plan`'s tables to `workbook` as `Plan ...` sheets, replacing earlier ones, keeping a
    backup `<name>.bak.xlsx`. Raises InputError when it cannot be done without losing anything."""
    import openpyxl
    from openpyxl.packaging.custom import StringProperty

    workbook = Path(workbook)
    check_write_back(workbook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about extensions; refused above already
        wb = openpyxl.load_workbook(workbook, data_only=False, keep_vba=False)
    notes = _formula_notes(wb)

    previous = {PREFIX + name for name in KNOWN_TABLES} | {README_SHEET}
    for prop in list(wb.custom_doc_props):
        if prop.name == PROPERTY:
            previous |= set(str(prop.value).split("\n"))
    contract = {normalise_name(s.name) for s in (*INPUT_SHEETS, SCENARIOS_SHEET)}
    for title in list(wb.sheetnames):
        if title in previous and title.startswith(PREFIX) and normalise_name(title) not in contract:
            del wb[title]

    written: list[str] = []
    for name, table in plan.tables.items():
        if len(table) + 1 > EXCEL_MAX_ROWS:
            raise ValueError(f"table {name} has {len(table)} rows, more than an Excel sheet holds")
        title = (PREFIX + name)[:31]
        if title in wb.sheetnames:  # an analyst's own sheet with this name: never overwritten
            raise InputError(
                f"{workbook.name} already has a sheet '{title}' that write-back did not create; "
                "rename it, or write the plan to a separate file with -o"
            )
        fill_sheet(wb.create_sheet(title), table)
        written.append(title)
    _readme(wb, plan.tables)
    written.append(README_SHEET)

    props = wb.custom_doc_props
    for prop in list(props):
        if prop.name == PROPERTY:
            props.props.remove(prop)
    props.append(StringProperty(name=PROPERTY, value="\n".join(written)))

    backup = backup_path(workbook)
    write_atomically(backup, lambda out: _copy_file(workbook, out), inputs=[workbook])
    # The output *is* the input here, on purpose: the backup above is the safety net.
    write_atomically(workbook, wb.save)
    return WriteBack(workbook, backup, written, notes)


def _copy_file(source: Path, out) -> None:
    with source.open("rb") as handle:
        while block := handle.read(_CHUNK):
            out.write(block)


def _formula_notes(wb) -> list[str]:
    """Warn when input sheets hold formulas: their cached values do not survive the re-save."""
    contract = {normalise_name(s.name) for s in (*INPUT_SHEETS, SCENARIOS_SHEET)}
    count = 0
    for ws in wb.worksheets:
        if normalise_name(ws.title) not in contract:
            continue
        for row in ws.iter_rows():
            count += sum(1 for c in row if c.data_type == "f")
    if not count:
        return []
    return [
        f"the input sheets hold {count} formula cell(s): they are kept, but Excel or LibreOffice must "
        "recalculate them; open and save the workbook before solving it again"
    ]


def _readme(wb, tables: dict[str, pd.DataFrame]) -> None:
    """`Plan README`: every plan sheet and column in words (from model/schema.py)."""
    rows = []
    for name, table in tables.items():
        help_text, columns = OUTPUT_SHEETS.get(name, ("", {}))
        rows.append((PREFIX + name, "", help_text))
        rows += [(PREFIX + name, str(c), columns.get(str(c), "")) for c in table.columns]
    fill_sheet(
        wb.create_sheet(README_SHEET), pd.DataFrame(rows, columns=["sheet", "column", "meaning"])
    )


def write_back_and_report(plan, workbook: Path) -> Path:
    """The command line's write-back: write, then say what was done. Returns the workbook path."""
    from model.cli_support import say

    done = write_back(plan, workbook)
    for note in done.notes:
        say(f"note: {note}")
    say(
        f"plan sheets {', '.join(done.sheets)} written into {done.path} (backup of the previous file: "
        f"{done.backup.name})"
    )
    return done.path
