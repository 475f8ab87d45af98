"""The parts of an .xlsx package the reader needs: the sheet list, shared strings and date styles.

Both flavours of the file format are read: the common (transitional) one Excel saves by default
and Strict OOXML (Excel's "Strict Open XML Spreadsheet"), which differs only in its namespaces.
Every XML part is parsed by lxml with entities and DTDs off and no network; guard.py has already
refused any part the reader parses that declares an entity or a DTD.
"""

from __future__ import annotations

import contextlib
import datetime
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

# openpyxl.utils.datetime's epochs (its from_excel takes them), stated here so that reading a
# workbook without date cells never imports openpyxl (tests/test_startup_imports.py compares them).
CALENDAR_WINDOWS_1900 = datetime.datetime(1899, 12, 30)
CALENDAR_MAC_1904 = datetime.datetime(1904, 1, 1)

STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
WORKBOOK_PART = "xl/workbook.xml"


def safe_parser() -> etree.XMLParser:
    """An lxml parser that never expands entities, loads a DTD or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


class DTDForbidden(Exception):
    """A part carries a document type declaration (how entity bombs work); Excel never writes one.

    guard.py refuses such parts before parsing; this is the parser's own refusal, in depth."""


def refuse_dtd(element: Any, name: str) -> None:
    info = element.getroottree().docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise DTDForbidden(f"part {name} has a DOCTYPE")


def parse_part(archive: zipfile.ZipFile, name: str) -> Any:
    with archive.open(name) as source:
        root = etree.parse(source, safe_parser()).getroot()
    refuse_dtd(root, name)
    return root


def iterparse(source: IO[bytes], tag: Any) -> Any:
    """Stream elements named `tag` (any namespace) with the same safety settings."""
    return etree.iterparse(source, events=("end",), tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)


def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@dataclass
class SheetEntry:
    """One sheet as the workbook lists it."""

    title: str
    part: str | None  # the zip part holding its XML (None when the relationship is missing)
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet or unknown
    state: str  # visible, hidden or veryHidden


@dataclass
class Package:
    archive: zipfile.ZipFile
    sheets: list[SheetEntry]
    strings: list[str]
    date_styles: frozenset[int]
    timedelta_styles: frozenset[int]
    epoch: Any
    strict: bool
    full_calc_on_load: bool  # the writer asked for a full recalculation: saved formula values are placeholders
    parsed_parts: set[str] = field(default_factory=set)


def part_lookup(archive: zipfile.ZipFile) -> dict[str, str]:
    """Part names as written, by their lower-case form: OPC part names are case-insensitive."""
    return {name.lower(): name for name in archive.namelist()}


def workbook_part(archive: zipfile.ZipFile) -> str:
    """The workbook part named by the package relationships (xl/workbook.xml when they say nothing)."""
    names = part_lookup(archive)
    if "_rels/.rels" in names:
        for rel in parse_part(archive, names["_rels/.rels"]):
            if rel.get("Type", "").endswith("/officeDocument"):
                target = _resolve("", rel.get("Target", ""))
                if target.lower() in names:
                    return names[target.lower()]
    return WORKBOOK_PART


def workbook_relationships(archive: zipfile.ZipFile, book: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last word, target part) for the workbook part."""
    folder, base = posixpath.split(book)
    names = part_lookup(archive)
    rels_name = names.get(posixpath.join(folder, "_rels", base + ".rels").lower())
    if rels_name is None:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for rel in parse_part(archive, rels_name):
        if rel.get("TargetMode") == "External":
            continue
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        target = _resolve(folder, rel.get("Target", ""))
        found[rel.get("Id", "")] = (kind, names.get(target.lower(), target))
    return found


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(folder, target))


def parsed_part_names(archive: zipfile.ZipFile) -> set[str]:
    """Every part the reader may parse as XML: the package and workbook relationships, the
    workbook, and every part the workbook's relationships name (sheets, strings, styles)."""
    names = {"[Content_Types].xml", "_rels/.rels"}
    try:
        book = workbook_part(archive)
    except etree.XMLSyntaxError:
        return names | {WORKBOOK_PART}
    folder, base = posixpath.split(book)
    names |= {book, part_lookup(archive).get(posixpath.join(folder, "_rels", base + ".rels").lower(), "")}
    with contextlib.suppress(etree.XMLSyntaxError):
        names |= {target for _, target in workbook_relationships(archive, book).values()}
    return names


def open_package(archive: zipfile.ZipFile) -> Package:
    """Read the workbook's sheet list, shared strings and styles (raises lxml errors if damaged)."""
    book = workbook_part(archive)
    root = parse_part(archive, book)
    strict = root.tag.startswith("{" + STRICT_MAIN)
    rels = workbook_relationships(archive, book)
    names = set(archive.namelist())
    sheets: list[SheetEntry] = []
    epoch = CALENDAR_WINDOWS_1900
    full_calc = False
    for child in root:
        name = local(child.tag)
        if name == "workbookPr" and child.get("date1904", "").lower() in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif name == "calcPr" and child.get("fullCalcOnLoad", "").lower() in ("1", "true"):
            full_calc = True
        elif name == "sheets":
            for sheet in child:
                if local(sheet.tag) != "sheet":
                    continue
                rid = next((v for k, v in sheet.attrib.items() if local(k) == "id"), "")
                kind, target = rels.get(rid, ("", ""))
                kind = {"worksheet": "worksheet", "chartsheet": "chartsheet", "dialogsheet": "dialogsheet",
                        "xlMacrosheet": "macrosheet", "xlIntlMacrosheet": "macrosheet"}.get(kind, "unknown")
                sheets.append(SheetEntry(title=sheet.get("name", ""), part=target if target in names else None,
                                         kind=kind, state=sheet.get("state", "visible")))
    strings: list[str] = []
    dates: frozenset[int] = frozenset()
    deltas: frozenset[int] = frozenset()
    for kind, target in rels.values():
        if target not in names:
            continue
        if kind == "sharedStrings":
            strings = _shared_strings(archive, target)
        elif kind == "styles":
            dates, deltas = _date_styles(parse_part(archive, target))
    return Package(archive=archive, sheets=sheets, strings=strings, date_styles=dates, timedelta_styles=deltas,
                   epoch=epoch, strict=strict, full_calc_on_load=full_calc)


def rich_text(element: Any) -> str:
    """The text of a shared or inline string: its <t>, or its runs' <t> joined (phonetic runs left out)."""
    if len(element) == 1:  # the common case: one <t>
        child = element[0]
        if child.tag[-2:] == "}t" or child.tag == "t":
            return child.text or ""
    parts: list[str] = []
    for child in element:
        name = local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            for run_part in child:
                if local(run_part.tag) == "t":
                    parts.append(run_part.text or "")
    return "".join(parts)


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    with archive.open(name) as source:
        for _, si in iterparse(source, "{*}si"):
            if not strings:
                refuse_dtd(si, name)
            strings.append(rich_text(si))
            si.clear()
            parent = si.getparent()
            while si.getprevious() is not None:
                del parent[0]
    return strings


def _date_styles(root: Any) -> tuple[frozenset[int], frozenset[int]]:
    """Indexes of the cell styles whose number format shows a date or time (as openpyxl decides)."""
    custom: dict[int, str] = {}
    xfs: list[int] = []
    for child in root:
        name = local(child.tag)
        if name == "numFmts":
            for fmt in child:
                try:
                    custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
                except ValueError:
                    continue
        elif name == "cellXfs":
            for xf in child:
                try:
                    xfs.append(int(xf.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)
    if all(fmt_id == 0 and fmt_id not in custom for fmt_id in xfs):
        return frozenset(), frozenset()  # every style General (script-written workbooks): no date
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    dates, deltas = set(), set()
    for index, fmt_id in enumerate(xfs):
        code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id))
        if code and is_date_format(code):
            dates.add(index)
            if is_timedelta_format(code):
                deltas.add(index)
    return frozenset(dates), frozenset(deltas)
