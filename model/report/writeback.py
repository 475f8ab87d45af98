"""`sourcing solve WORKBOOK --write-back`: put the plan into the analyst's own workbook.

The plan is written by the normal plan writer into a temporary workbook, and its sheets are
grafted into WORKBOOK as `Plan <sheet>` (`Plan Summary`, `Plan Flows`, ..., `Plan README`) by
model/io/graft.py. The analyst's workbook is never re-saved: every zip member is copied byte for
byte except the lists of sheets, styles and content types, which are extended. So the input sheets
keep their values, formulas and the results Excel or LibreOffice saved for them (the next `solve`
reads the same numbers without a re-save), rich text, charts, pivots, macros, customXml/,
xl/metadata.xml, xl/richData/, xl/webextensions/ and anything else in the file.

Plan sheets of an earlier run (named `Plan <a plan sheet>`, or listed in the custom document
property `sourcing_plan_sheets`) are replaced, with every part only they used. Refused (exit 2,
nothing written), naming what and where:
* a replaced plan sheet holding a chart, picture, shape, pivot or table the tool did not write
  (an empty drawing part that LibreOffice leaves on every sheet is not an object);
* an analyst's own sheet with the name of a plan sheet;
* a read-only workbook, one open in Excel or LibreOffice (lock file), Strict Open XML, not .xlsx/.xlsm.

Safety: the previous file is first copied to `<name>.bak.xlsx` beside it (a `.xlsm` keeps its
extension: `<name>.bak.xlsm`); the new file is written atomically, with the old file's mode and
owner; through a symlink, the target is written.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import InputError
from model.io import graft
from model.io.atomic import refuse_if_locked, refuse_if_read_only, write_atomically
from model.io.reader import normalise_name
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
SUFFIXES = (".xlsx", ".xlsm")
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
    suffix = workbook.suffix if workbook.suffix.lower() in SUFFIXES else ".xlsx"
    return workbook.with_name(f"{workbook.stem}.bak{suffix}")


def real_workbook(workbook: str | Path) -> Path:
    """Through a symlink, the file it points to (write-back writes there, never over the link)."""
    workbook = Path(workbook)
    return Path(os.path.realpath(workbook)) if workbook.is_symlink() else workbook


def plan_title(name: str) -> str:
    return (PREFIX + name)[:31]


def what_would_be_lost(workbook: Path) -> list[str]:
    """The objects on earlier plan sheets that write-back would remove ('sheet: a chart 'X''); the
    analyst's own sheets are never touched, so nothing else can be lost."""
    pkg = graft.Package.read(Path(workbook).read_bytes())
    wb_part = pkg.workbook_part()
    sheets = graft.sheets_of(pkg, wb_part, graft._xml(pkg.parts[wb_part]))
    earlier = earlier_plan_sheets(pkg, [s.name for s in sheets])
    found = []
    for sheet in sheets:
        if sheet.name in earlier and sheet.name != plan_title("Charts") and sheet.part:
            found += [f"sheet '{sheet.name}': {what}" for what in graft.sheet_objects(pkg, sheet.part)]
    return found


def earlier_plan_sheets(pkg: graft.Package, titles: list[str]) -> set[str]:
    """The sheets an earlier write-back made: those named in its custom document property (Excel
    and LibreOffice keep it), or, in a file that lost the property, `Plan <a plan table>`."""
    from model.schema import OUTPUTS

    recorded = graft.read_property(pkg, PROPERTY)
    if recorded:
        known = {line for line in recorded.split("\n") if line.startswith(PREFIX)}
    else:
        known = {plan_title(name) for name in (*KNOWN_TABLES, *OUTPUTS)}
    contract = {normalise_name(s.name) for s in (*INPUT_SHEETS, SCENARIOS_SHEET)}
    return {t for t in titles if t in known and normalise_name(t) not in contract}


def check_write_back(workbook: Path) -> None:
    """Refuse (InputError) before any solving when write-back could not be done safely."""
    workbook = real_workbook(workbook)
    if workbook.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"{workbook.name}: write-back needs an .xlsx (or .xlsm) workbook; write the plan to a "
            "separate file with -o instead"
        )
    refuse_if_locked(workbook)
    if not workbook.is_file():
        return  # the loader reports a missing or unreadable file in its own words
    refuse_if_read_only(workbook, what="workbook")
    try:
        pkg = graft.Package.read(workbook.read_bytes())
        root = graft._xml(pkg.parts[pkg.workbook_part()])
    except (zipfile.BadZipFile, OSError, KeyError, ET.ParseError, ValueError, InputError):
        return  # not a readable xlsx: the loader says why
    if root.tag == f"{{{graft.STRICT_MAIN}}}workbook":
        raise InputError(
            f"{workbook.name} is saved as Strict Open XML; write-back needs the ordinary .xlsx format "
            "(Excel: Save As 'Excel Workbook (*.xlsx)'), or write the plan to a separate file with -o"
        )


def render_plan(plan) -> graft.Package:
    """The plan as the normal plan writer writes it (charts, highlights, README), in memory."""
    from model.io.writer import write_plan

    with tempfile.TemporaryDirectory(prefix="sourcing-writeback-") as folder:
        path = Path(folder) / "plan.xlsx"
        write_plan(plan, path)
        return graft.Package.read(path.read_bytes())


def write_back(plan, workbook: str | Path) -> WriteBack:
    """Add `plan`'s sheets to `workbook` as `Plan ...` sheets, replacing earlier ones, keeping a
    backup `<name>.bak.xlsx`. Raises InputError when it cannot be done without losing anything."""
    workbook = real_workbook(workbook)
    check_write_back(workbook)
    original = workbook.read_bytes()
    target = graft.Package.read(original)
    source = render_plan(plan)
    src_wb = source.workbook_part()
    src_sheets = graft.sheets_of(source, src_wb, graft._xml(source.parts[src_wb]))
    rename = {s.name: plan_title(s.name) for s in src_sheets}
    with_objects = [rename[s.name] for s in src_sheets if s.part and graft.sheet_objects(source, s.part)]
    tgt_wb = target.workbook_part()
    titles = [s.name for s in graft.sheets_of(target, tgt_wb, graft._xml(target.parts[tgt_wb]))]
    earlier = earlier_plan_sheets(target, titles)
    result = graft.graft(target, _readme_names(source, rename), rename=rename, replace=earlier,
                         property_name=PROPERTY, keep_objects_on=with_objects)

    backup = backup_path(workbook)
    write_atomically(backup, lambda out: out.write(original), inputs=[workbook])
    # The output *is* the input here, on purpose: the backup above is the safety net.
    write_atomically(workbook, lambda out: out.write(result.data))
    notes = []
    if result.dropped_parts and any(p.endswith("calcChain.xml") for p in result.dropped_parts):
        notes.append("Excel's calculation chain listed cells of the old plan sheets and was dropped; "
                     "Excel rebuilds it when the file is opened")
    return WriteBack(workbook, backup, result.added, notes)


def _readme_names(source: graft.Package, rename: dict[str, str]) -> graft.Package:
    """The README sheet names the plan's sheets: use their names in the analyst's workbook."""
    wb_part = source.workbook_part()
    for sheet in graft.sheets_of(source, wb_part, graft._xml(source.parts[wb_part])):
        if sheet.name != "README" or not sheet.part:
            continue
        root = graft._xml(source.parts[sheet.part])
        main = graft.MAIN
        for cell in root.iter(f"{{{main}}}c"):
            ref = cell.get("r", "")
            if not ref.startswith("A") or ref[1:2].isalpha() or cell.get("t") != "inlineStr":
                continue
            for t in cell.iter(f"{{{main}}}t"):
                if t.text in rename:
                    t.text = rename[t.text]
        parts = dict(source.parts)
        parts[sheet.part] = graft._bytes(root, source.parts[sheet.part])
        return graft.Package(parts, source.infos)
    return source


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

