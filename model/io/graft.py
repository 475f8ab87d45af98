"""Graft worksheets from one .xlsx package into another without re-saving anything else.

Write-back (model/report/writeback.py) uses this to add the plan to the analyst's workbook: every
zip member of the analyst's file is copied byte for byte (values, formulas and the values Excel or
LibreOffice saved for them, rich text, charts, pivots, macros, customXml/, xl/metadata.xml,
xl/richData/, anything this module does not understand), except the few package parts that list
sheets and styles, which are edited, not rebuilt:

* ``xl/workbook.xml`` and its ``.rels``: the replaced sheets removed, the new ones added; sheet-
  local defined names and the active tab re-pointed at the same sheets;
* ``xl/styles.xml``: the new sheets' fonts, fills, borders, number formats, cell formats and
  conditional-format styles appended (existing entries are never changed or reused);
* ``[Content_Types].xml``: overrides for removed parts dropped, for added parts added;
* ``docProps/custom.xml``: one custom property naming the sheets written (created if absent);
* ``xl/calcChain.xml``: dropped only when it lists a cell of a removed sheet (Excel rebuilds it);
* a theme is added only when the workbook has none (LibreOffice writes none; charts need one).

"Byte for byte" is the content of each part; the zip itself is written anew (deflated). The edited
parts are parsed with defusedxml (no DTDs, no entities) and written with the standard library,
keeping every namespace prefix the part declared (Excel names prefixes in mc:Ignorable that no
element uses). lxml is deliberately not used: installed, it changes the bytes openpyxl writes.

The new sheets come from a workbook written by the normal writer (openpyxl); their strings are
written inline, so the analyst's shared-string table is never touched. A part reachable only from
a removed sheet is removed with it (so a replaced Charts sheet takes its charts along).
"""

from __future__ import annotations

import copy
import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from defusedxml.ElementTree import fromstring as _safe_fromstring

from model.errors import InputError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
OFFICE_DOC = REL_NS + "/officeDocument"
REL_WORKSHEET = REL_NS + "/worksheet"
REL_STYLES = REL_NS + "/styles"
REL_CALC_CHAIN = REL_NS + "/calcChain"
REL_THEME = REL_NS + "/theme"
REL_CUSTOM = REL_NS + "/custom-properties"
CT_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
PROPERTY_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

_SHEET_REF = re.compile(r"(?:'((?:[^']|'')+)'|([A-Za-z_\u00a1-\uffff][\w.\u00a1-\uffff]*))!")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _xml(data: bytes) -> ET.Element:
    """Parse a part; DTDs and entities are refused (defusedxml), as everywhere in the loader."""
    return _safe_fromstring(data)


_DECLARATION = re.compile(r'xmlns:([A-Za-z_][\w.-]*)\s*=\s*("[^"]*"|\'[^\']*\')')
_START_TAG = re.compile(r"<(?![?!])[^>]*>")


_PREFIXES = (("r", REL_NS), ("vt", VT_NS), ("c", CHART_NS), ("xdr", XDR_NS),
             ("a", "http://schemas.openxmlformats.org/drawingml/2006/main"))


def _bytes(root: ET.Element, original: bytes | None = None) -> bytes:
    """Serialise `root` with the standard library, keeping the prefixes of `original` and every
    namespace its root element declared (Excel lists prefixes in mc:Ignorable that no element
    uses; a part without those declarations is 'unreadable content' to Excel). The root's own
    namespace stays the default one. ElementTree's prefix registry is restored afterwards, so no
    other writer in the process (openpyxl) sees a change."""
    head = original[:65536].decode("utf-8", "replace") if original else ""
    declared = [(p, v[1:-1]) for p, v in _DECLARATION.findall(original.decode("utf-8", "replace"))] if original else []
    registry = ET._namespace_map  # the only way to choose prefixes in ElementTree
    saved = dict(registry)
    try:
        for prefix, uri in (*_PREFIXES, *declared):
            if prefix != "xml" and not re.fullmatch(r"ns\d+", prefix):
                ET.register_namespace(prefix, uri)
        if root.tag.startswith("{"):
            ET.register_namespace("", root.tag[1:].split("}", 1)[0])
        text = ET.tostring(root, encoding="unicode")
    finally:
        registry.clear()
        registry.update(saved)
    match = _START_TAG.search(head) if head else None
    if match:
        present = set(re.findall(r'xmlns:([A-Za-z_][\w.-]*)=', text[: text.index(">") + 1]))
        missing = [(p, v) for p, v in _DECLARATION.findall(match.group(0)) if p not in present]
        if missing:
            end = text.index(">")
            end = end - 1 if text[end - 1] == "/" else end
            text = text[:end] + "".join(f" xmlns:{p}={v}" for p, v in missing) + text[end:]
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text).encode("utf-8")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


@dataclass
class Rel:
    id: str
    type: str
    target: str | None  # absolute part name; None when external


@dataclass
class Package:
    """An .xlsx opened for grafting: part name (no leading slash) -> bytes, in zip order."""

    parts: dict[str, bytes]
    infos: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    @classmethod
    def read(cls, source: str | bytes | io.BytesIO) -> Package:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        with zipfile.ZipFile(handle) as archive:
            infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}
            parts = {name: archive.read(name) for name in infos}
        return cls(parts, infos)

    def rels(self, part: str) -> list[Rel]:
        data = self.parts.get(rels_name(part) if part else "_rels/.rels")
        if data is None:
            return []
        out = []
        for el in _xml(data).iter(_q(PKG_REL, "Relationship")):
            external = el.get("TargetMode") == "External"
            target = None if external else _resolve(part or "/", el.get("Target", ""))
            out.append(Rel(el.get("Id", ""), el.get("Type", ""), target))
        return out

    def closure(self, roots: Iterable[str], skip: set[str] = frozenset()) -> set[str]:
        """Every part reachable from `roots` through relationships, not entering `skip`."""
        seen: set[str] = set()
        todo = [r for r in roots if r not in skip]
        while todo:
            part = todo.pop()
            if part in seen:
                continue
            seen.add(part)
            for rel in self.rels(part):
                if rel.target and rel.target not in seen and rel.target not in skip:
                    todo.append(rel.target)
        return seen

    def workbook_part(self) -> str:
        for rel in self.rels(""):
            if rel.type.endswith("/officeDocument") and rel.target:
                return rel.target
        raise InputError("the workbook has no main part (xl/workbook.xml); it is not a usable .xlsx")

    def write(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.parts.items():
                info = self.infos.get(name)
                if info is None:
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                else:
                    info = _copy_info(info)
                archive.writestr(info, data)
        return out.getvalue()


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED if info.compress_type != zipfile.ZIP_STORED else zipfile.ZIP_STORED
    new.external_attr = info.external_attr
    return new


@dataclass
class SheetEntry:
    name: str
    sheet_id: int
    rel_id: str
    part: str | None
    element: ET.Element


def sheets_of(pkg: Package, workbook: str, root: ET.Element) -> list[SheetEntry]:
    targets = {rel.id: rel.target for rel in pkg.rels(workbook)}
    out = []
    sheets = root.find(_q(MAIN, "sheets"))
    for el in sheets if sheets is not None else []:
        if el.tag != _q(MAIN, "sheet"):
            continue
        rid = el.get(_q(REL_NS, "id"), "")
        out.append(SheetEntry(el.get("name", ""), int(el.get("sheetId", "0")), rid, targets.get(rid), el))
    return out


# --- what a sheet holds, for refusals ------------------------------------------------------------------

_OBJECT_KINDS = {
    "chart": "a chart", "picture": "a picture", "shape": "a shape", "group": "a group of shapes",
    "connector": "a connector", "graphicFrame": "an embedded object",
}


def drawing_objects(data: bytes) -> list[str]:
    """What a drawing part shows, in words ('a chart 'Chart 1''); [] for the empty drawing parts
    LibreOffice writes for sheets without any."""
    root = _xml(data)
    found = []
    for anchor in root:
        if not isinstance(anchor.tag, str) or not anchor.tag.endswith("Anchor"):
            continue
        for child in anchor:
            if not isinstance(child.tag, str):
                continue
            local = _local(child.tag)
            if local in ("from", "to", "pos", "ext", "clientData"):
                continue
            kind = _OBJECT_KINDS.get(local, f"an object ({local})")
            if local == "graphicFrame" and b"drawingml/2006/chart" in ET.tostring(child):
                kind = "a chart"
            name = next((el.get("name") for el in child.iter() if isinstance(el.tag, str)
                         and _local(el.tag) == "cNvPr"), None)
            found.append(f"{kind} '{name}'" if name else kind)
    return found


def sheet_objects(pkg: Package, part: str) -> list[str]:
    """The objects on a sheet that a person put there: charts, pictures and shapes (empty drawing
    parts left behind by a program do not count), pivot tables, tables, form controls."""
    found: list[str] = []
    for rel in pkg.rels(part):
        if rel.target is None or rel.target not in pkg.parts:
            continue
        kind = rel.type.rsplit("/", 1)[-1]
        if kind == "drawing":
            found += drawing_objects(pkg.parts[rel.target])
        elif kind == "pivotTable":
            found.append(f"a pivot table ({posixpath.basename(rel.target)})")
        elif kind == "table":
            name = _xml(pkg.parts[rel.target]).get("displayName") or posixpath.basename(rel.target)
            found.append(f"a table '{name}'")
        elif kind in ("ctrlProp", "control", "oleObject"):
            found.append(f"a {'form control' if kind == 'ctrlProp' else 'control or embedded object'}")
    return found


# --- the graft -----------------------------------------------------------------------------------------


@dataclass
class GraftResult:
    data: bytes
    removed: list[str]
    added: list[str]
    dropped_parts: list[str]


def graft(target: Package, source: Package, *, rename: Mapping[str, str], replace: Iterable[str],
          property_name: str, keep_objects_on: Iterable[str] = ()) -> GraftResult:
    """Add `source`'s worksheets (renamed by `rename`, in source order) to `target`.

    Sheets of `target` named in `replace` are removed first, with every part only they use. A
    replaced sheet holding a chart, picture, shape, pivot or table is refused (InputError naming it)
    unless its name is in `keep_objects_on` (sheets whose objects the tool itself wrote). A sheet of
    `target` with the same name as a new sheet that is not in `replace` is refused too.
    """
    parts = dict(target.parts)
    wb_part = target.workbook_part()
    wb_root = _xml(parts[wb_part])
    if wb_root.tag == _q(STRICT_MAIN, "workbook"):
        raise InputError("the workbook is saved as Strict Open XML; write-back needs the ordinary .xlsx "
                         "format (Excel: Save As 'Excel Workbook (*.xlsx)')")
    if wb_root.tag != _q(MAIN, "workbook"):
        raise InputError(f"{wb_part} is not a workbook part; the file is not a usable .xlsx")
    old_sheets = sheets_of(target, wb_part, wb_root)
    replace = set(replace)
    removed = [s for s in old_sheets if s.name in replace]
    keep_objects_on = set(keep_objects_on)
    for sheet in removed:
        if sheet.part and sheet.part in parts and sheet.name not in keep_objects_on:
            objects = sheet_objects(target, sheet.part)
            if objects:
                raise InputError(
                    f"sheet '{sheet.name}' holds {', '.join(objects)}, which write-back did not put there "
                    "and would remove when it replaces the sheet; move it to another sheet, or write the "
                    "plan to a separate file with -o")
    kept_names = {s.name.lower() for s in old_sheets if s not in removed}
    for new_name in rename.values():
        if new_name.lower() in kept_names:
            raise InputError(f"the workbook already has a sheet '{new_name}' that write-back did not create; "
                             "rename it, or write the plan to a separate file with -o")

    # parts used only by the removed sheets go with them
    removed_parts = {s.part for s in removed if s.part}
    roots = [r.target for r in target.rels("") if r.target]
    keep = target.closure(roots, skip=removed_parts)
    gone = target.closure(removed_parts) - keep
    dropped = sorted(gone)
    for part in gone:
        parts.pop(part, None)
        parts.pop(rels_name(part), None)
    removed_ids = {s.sheet_id for s in removed}
    calc_chain = _drop_stale_calc_chain(target, wb_part, parts, removed_ids)
    if calc_chain:
        dropped.append(calc_chain)
        gone.add(calc_chain)

    # styles: append the source's, remember the offsets
    src_wb = source.workbook_part()
    src_root = _xml(source.parts[src_wb])
    styles_part, styles_root = _styles(target, wb_part, parts)
    src_styles = next((r.target for r in source.rels(src_wb) if r.type == REL_STYLES), None)
    remap = _merge_styles(styles_root, _xml(source.parts[src_styles])) if src_styles else StyleMap()
    parts[styles_part] = _bytes(styles_root, parts[styles_part])

    # copy each source sheet with its parts under free names
    src_sheets = sheets_of(source, src_wb, src_root)
    shared = _shared_strings(source, src_wb)
    taken = {p.lower() for p in parts}
    new_names: dict[str, str] = {}
    content_types: dict[str, str] = {}
    src_types = _content_types(source)
    added_sheets: list[tuple[str, str]] = []  # (title, part)
    for sheet in src_sheets:
        if sheet.name not in rename or not sheet.part:
            continue
        closure = source.closure([sheet.part])
        for part in sorted(closure, key=lambda p: (p != sheet.part, p)):
            if part in new_names:
                continue
            new_names[part] = _free_name(part, taken)
        added_sheets.append((rename[sheet.name], new_names[sheet.part]))
    for old, new in new_names.items():
        data = source.parts[old]
        if old in {s.part for s in src_sheets}:
            data = _restyle_sheet(data, remap, shared)
        elif _is_chart(data):
            data = _rename_refs_in_chart(data, rename)
        parts[new] = data
        old_rels = rels_name(old)
        if old_rels in source.parts:
            parts[rels_name(new)] = _retarget(source.parts[old_rels], old, new, new_names)
        content_types[new] = src_types.get(old, "")

    # charts take their colours from the theme: a workbook without one (LibreOffice writes none)
    # gets the source's, or the plan's charts would be drawn invisible
    theme = next((r.target for r in source.rels(src_wb) if r.type == REL_THEME), None)
    theme_part = None
    if theme and theme in source.parts and not any(r.type == REL_THEME for r in target.rels(wb_part)):
        theme_part = _free_name(theme, taken)
        parts[theme_part] = source.parts[theme]
        content_types[theme_part] = src_types.get(theme, "")

    # workbook.xml + rels
    _rewrite_workbook(target, wb_part, wb_root, parts, old_sheets, removed, added_sheets, src_root,
                      src_sheets, rename, calc_chain is not None, theme_part)
    # content types
    ct = _xml(parts["[Content_Types].xml"])
    defaults = {el.get("Extension", "").lower(): el.get("ContentType")
                for el in ct.findall(_q(CT_NS, "Default"))}
    for el in list(ct.findall(_q(CT_NS, "Override"))):
        name = el.get("PartName", "").lstrip("/")
        if name in gone or (name.endswith(".rels") and name not in parts):
            ct.remove(el)
    for part, kind in content_types.items():
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        if kind and defaults.get(ext) != kind:
            ET.SubElement(ct, _q(CT_NS, "Override"), PartName="/" + part, ContentType=kind)
    _set_property(parts, ct, property_name, "\n".join(title for title, _ in added_sheets))
    parts["[Content_Types].xml"] = _bytes(ct, parts["[Content_Types].xml"])

    # keep the original zip order; new parts at the end
    ordered = {name: parts[name] for name in target.parts if name in parts}
    ordered.update({name: data for name, data in parts.items() if name not in ordered})
    out = Package(ordered, {n: i for n, i in target.infos.items() if n in ordered})
    return GraftResult(out.write(), [s.name for s in removed], [t for t, _ in added_sheets], dropped)


def _free_name(part: str, taken: set[str]) -> str:
    folder, name = posixpath.split(part)
    stem, ext = posixpath.splitext(name)
    base = re.sub(r"\d+$", "", stem) or "part"
    n = 1
    while True:
        candidate = posixpath.join(folder, f"{base}{n}{ext}")
        if candidate.lower() not in taken and rels_name(candidate).lower() not in taken:
            taken.add(candidate.lower())
            return candidate
        n += 1


def _retarget(data: bytes, old_source: str, new_source: str, new_names: Mapping[str, str]) -> bytes:
    root = _xml(data)
    for el in root.iter(_q(PKG_REL, "Relationship")):
        if el.get("TargetMode") == "External":
            continue
        target = _resolve(old_source, el.get("Target", ""))
        if target in new_names:
            el.set("Target", "/" + new_names[target])
    return _bytes(root, data)


def _content_types(pkg: Package) -> dict[str, str]:
    root = _xml(pkg.parts["[Content_Types].xml"])
    defaults = {el.get("Extension", "").lower(): el.get("ContentType", "")
                for el in root.findall(_q(CT_NS, "Default"))}
    out = {}
    for part in pkg.parts:
        out[part] = defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), "")
    for el in root.findall(_q(CT_NS, "Override")):
        out[el.get("PartName", "").lstrip("/")] = el.get("ContentType", "")
    return out


def _is_chart(data: bytes) -> bool:
    return CHART_NS.encode() in data[:400]


def _rename_refs_in_chart(data: bytes, rename: Mapping[str, str]) -> bytes:
    """Chart series point at cells as 'Sheet'!$A$1: follow the sheets' new names."""
    root = _xml(data)

    def fix(match: re.Match) -> str:
        name = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2)
        new = rename.get(name)
        if new is None:
            return match.group(0)
        return "'" + new.replace("'", "''") + "'!"

    for el in root.iter(_q(CHART_NS, "f")):
        if el.text:
            el.text = _SHEET_REF.sub(fix, el.text)
    return _bytes(root, data)


# --- styles ---------------------------------------------------------------------------------------------


@dataclass
class StyleMap:
    xf: int = 0
    dxf: int = 0


_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst")


def _styles(pkg: Package, wb_part: str, parts: dict[str, bytes]) -> tuple[str, ET.Element]:
    for rel in pkg.rels(wb_part):
        if rel.type == REL_STYLES and rel.target in parts:
            return rel.target, _xml(parts[rel.target])
    raise InputError("the workbook has no style part (xl/styles.xml); open and save it in Excel or "
                     "LibreOffice once, or write the plan to a separate file with -o")


def _section(root: ET.Element, name: str) -> ET.Element:
    el = root.find(_q(MAIN, name))
    if el is not None:
        return el
    el = ET.Element(_q(MAIN, name))
    position = _STYLE_ORDER.index(name)
    for i, child in enumerate(root):
        if _local(child.tag) in _STYLE_ORDER[position + 1:]:
            root.insert(i, el)
            return el
    root.append(el)
    return el


def _append(section: ET.Element, items: list[ET.Element], tag: str) -> int:
    """Append `items` to `section`; return the index the first one got."""
    offset = len(section.findall(_q(MAIN, tag)))
    for item in items:
        section.append(item)
    section.set("count", str(offset + len(items)))
    return offset


def _merge_styles(target: ET.Element, source: ET.Element) -> StyleMap:
    """Append the source's formats to the target's style sheet; existing entries are untouched."""
    def items(name: str, tag: str) -> list[ET.Element]:
        el = source.find(_q(MAIN, name))
        return [] if el is None else [_copy(e) for e in el.findall(_q(MAIN, tag))]

    numfmt_ids = {}
    fmts = items("numFmts", "numFmt")
    if fmts:
        section = _section(target, "numFmts")
        used = [int(e.get("numFmtId", "0")) for e in section.findall(_q(MAIN, "numFmt"))]
        next_id = max([163, *used]) + 1
        for fmt in fmts:
            numfmt_ids[fmt.get("numFmtId")] = str(next_id)
            fmt.set("numFmtId", str(next_id))
            next_id += 1
        _append(section, fmts, "numFmt")
    font0 = _append(_section(target, "fonts"), items("fonts", "font"), "font")
    fill0 = _append(_section(target, "fills"), items("fills", "fill"), "fill")
    border0 = _append(_section(target, "borders"), items("borders", "border"), "border")
    xfs = items("cellXfs", "xf")
    for xf in xfs:
        xf.set("fontId", str(font0 + int(xf.get("fontId", "0"))))
        xf.set("fillId", str(fill0 + int(xf.get("fillId", "0"))))
        xf.set("borderId", str(border0 + int(xf.get("borderId", "0"))))
        fmt = xf.get("numFmtId", "0")
        xf.set("numFmtId", numfmt_ids.get(fmt, fmt))
        xf.set("xfId", "0")  # the target's Normal style
        for attr in ("pivotButton", "quotePrefix"):
            if xf.get(attr) == "0":
                del xf.attrib[attr]
    xf0 = _append(_section(target, "cellXfs"), xfs, "xf")
    dxfs = items("dxfs", "dxf")
    dxf0 = _append(_section(target, "dxfs"), dxfs, "dxf") if dxfs else 0
    return StyleMap(xf0, dxf0)


def _copy(el: ET.Element) -> ET.Element:
    return copy.deepcopy(el)


def _shared_strings(pkg: Package, wb_part: str) -> list[str]:
    for rel in pkg.rels(wb_part):
        if rel.type.endswith("/sharedStrings") and rel.target in pkg.parts:
            root = _xml(pkg.parts[rel.target])
            return ["".join(si.itertext()) for si in root.findall(_q(MAIN, "si"))]
    return []


_STYLE_ATTRS = {  # element -> attribute holding a style index, and which offset applies
    b"c": (b"s", "xf"), b"row": (b"s", "xf"), b"col": (b"style", "xf"), b"cfRule": (b"dxfId", "dxf"),
}
_STYLE_REF = re.compile(rb'(<(c|row|col|cfRule)\b[^>]*?\s(s|style|dxfId)=")(\d+)(")')
_SHARED_CELL = re.compile(rb'<c\b[^>]*?\st="s"')


def _restyle_sheet(data: bytes, remap: StyleMap, shared: list[str]) -> bytes:
    """Point a copied sheet's cells at the appended styles; shared strings become inline."""
    head = data[:2048]
    if not _SHARED_CELL.search(data) and re.search(rb'<worksheet\s[^>]*xmlns="' + MAIN.encode() + b'"', head):
        # the plan writer's own sheets (unprefixed, inline strings): rewrite the numbers in place.
        # A match cannot start inside text: a '<' there is always written as '&lt;'.
        def shift(match: re.Match) -> bytes:
            attr, kind = _STYLE_ATTRS[match.group(2)]
            if match.group(3) != attr:
                return match.group(0)
            offset = remap.xf if kind == "xf" else remap.dxf
            return match.group(1) + str(offset + int(match.group(4))).encode() + match.group(5)

        return _STYLE_REF.sub(shift, data)
    root = _xml(data)
    for el in (e for e in root.iter() if e.tag in (_q(MAIN, "c"), _q(MAIN, "row"))):
        if el.get("s") is not None:
            el.set("s", str(remap.xf + int(el.get("s"))))
        if el.tag == _q(MAIN, "c") and el.get("t") == "s":
            v = el.find(_q(MAIN, "v"))
            text = shared[int(v.text)] if v is not None and v.text else ""
            el.remove(v)
            el.set("t", "inlineStr")
            is_ = ET.SubElement(el, _q(MAIN, "is"))
            t = ET.SubElement(is_, _q(MAIN, "t"))
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    for el in root.iter(_q(MAIN, "col")):
        if el.get("style") is not None:
            el.set("style", str(remap.xf + int(el.get("style"))))
    for el in root.iter(_q(MAIN, "cfRule")):
        if el.get("dxfId") is not None:
            el.set("dxfId", str(remap.dxf + int(el.get("dxfId"))))
    return _bytes(root, data)


# --- workbook.xml ---------------------------------------------------------------------------------------


def _drop_stale_calc_chain(pkg: Package, wb_part: str, parts: dict[str, bytes],
                           removed_ids: set[int]) -> str | None:
    """Drop xl/calcChain.xml only when it lists cells of a removed sheet (Excel rebuilds it)."""
    for rel in pkg.rels(wb_part):
        if rel.type == REL_CALC_CHAIN and rel.target in parts:
            ids = {int(x) for x in re.findall(rb'\bi="(\d+)"', parts[rel.target])}
            if ids & removed_ids:
                del parts[rel.target]
                return rel.target
    return None


def _rewrite_workbook(pkg: Package, wb_part: str, root: ET.Element, parts: dict[str, bytes],
                      old_sheets: list[SheetEntry], removed: list[SheetEntry],
                      added: list[tuple[str, str]], src_root: ET.Element,
                      src_sheets: list[SheetEntry], rename: Mapping[str, str], drop_calc: bool,
                      theme_part: str | None = None) -> None:
    rels_part = rels_name(wb_part)
    rels = _xml(parts[rels_part])
    removed_rids = {s.rel_id for s in removed}
    for el in list(rels):
        if el.get("Id") in removed_rids or (drop_calc and el.get("Type") == REL_CALC_CHAIN):
            rels.remove(el)
    used_rids = {el.get("Id") for el in rels}
    if theme_part:
        used_rids.add("rIdTheme1")
        ET.SubElement(rels, _q(PKG_REL, "Relationship"), Id="rIdTheme1", Type=REL_THEME,
                         Target="/" + theme_part)
    sheets_el = root.find(_q(MAIN, "sheets"))
    # where the new sheets go: where the first replaced one was, else at the end
    position = None
    for sheet in removed:
        if position is None:
            position = list(sheets_el).index(sheet.element)
        sheets_el.remove(sheet.element)
    old_order = [s.name for s in old_sheets]
    next_id = max([0, *(s.sheet_id for s in old_sheets)]) + 1
    new_elements = []
    for title, part in added:
        n = 1
        while f"rIdPlan{n}" in used_rids:
            n += 1
        rid = f"rIdPlan{n}"
        used_rids.add(rid)
        ET.SubElement(rels, _q(PKG_REL, "Relationship"), Id=rid, Type=REL_WORKSHEET,
                         Target="/" + part)
        el = ET.Element(_q(MAIN, "sheet"))
        el.set("name", title)
        el.set("sheetId", str(next_id))
        el.set(_q(REL_NS, "id"), rid)
        next_id += 1
        new_elements.append(el)
    if position is None:
        position = len(sheets_el)
    for offset, el in enumerate(new_elements):
        sheets_el.insert(position + offset, el)
    new_order = [el.get("name") for el in sheets_el if el.tag == _q(MAIN, "sheet")]
    index = {name: i for i, name in enumerate(new_order)}

    removed_names = {s.name for s in removed}

    def moved(old: str | None) -> str | None:
        """A sheet position before the graft -> the same sheet's position after (None: gone)."""
        if old is None or not old.isdigit() or int(old) >= len(old_order):
            return None
        name = old_order[int(old)]
        return None if name in removed_names or name not in index else str(index[name])

    names = root.find(_q(MAIN, "definedNames"))
    if names is not None:
        for el in list(names):
            local = el.get("localSheetId")
            if local is None:
                continue
            new = moved(local)
            if new is None:
                names.remove(el)
            else:
                el.set("localSheetId", new)
    # the source's sheet-local names (autofilter ranges) follow their sheets
    src_names = src_root.find(_q(MAIN, "definedNames"))
    src_order = [s.name for s in src_sheets]
    for el in src_names if src_names is not None else []:
        local = el.get("localSheetId")
        if local is None or not local.isdigit() or src_order[int(local)] not in rename:
            continue
        new_el = _copy(el)
        new_el.set("localSheetId", str(index[rename[src_order[int(local)]]]))
        if new_el.text:
            new_el.text = new_el.text.replace(f"'{src_order[int(local)]}'!",
                                              "'" + rename[src_order[int(local)]].replace("'", "''") + "'!")
        if names is None:
            names = ET.Element(_q(MAIN, "definedNames"))
            root.insert(list(root).index(sheets_el) + 1, names)
        names.append(new_el)
    if names is not None and len(names) == 0:
        root.remove(names)
    for view in root.iter(_q(MAIN, "workbookView")):
        for attr in ("activeTab", "firstSheet"):
            new = moved(view.get(attr))
            if view.get(attr) is not None:
                view.set(attr, new if new is not None else str(position))
    parts[wb_part] = _bytes(root, parts[wb_part])
    parts[rels_part] = _bytes(rels, parts[rels_part])


# --- docProps/custom.xml ----------------------------------------------------------------------------------


def read_property(pkg: Package, name: str) -> str | None:
    for rel in pkg.rels(""):
        if rel.type == REL_CUSTOM and rel.target in pkg.parts:
            for prop in _xml(pkg.parts[rel.target]).findall(_q(CUSTOM_NS, "property")):
                if prop.get("name") == name:
                    return "".join(prop.itertext())
    return None


def _set_property(parts: dict[str, bytes], ct: ET.Element, name: str, value: str) -> None:
    """Set one text custom document property, creating docProps/custom.xml when needed."""
    root_rels = _xml(parts["_rels/.rels"])
    part = None
    for el in root_rels:
        if el.get("Type") == REL_CUSTOM:
            part = _resolve("/", el.get("Target", ""))
    if part is None or part not in parts:
        part = "docProps/custom.xml"
        if part not in parts:
            parts[part] = _bytes(ET.Element(_q(CUSTOM_NS, "Properties")))
        ids = {el.get("Id") for el in root_rels}
        n = 1
        while f"rIdCustom{n}" in ids:
            n += 1
        ET.SubElement(root_rels, _q(PKG_REL, "Relationship"), Id=f"rIdCustom{n}", Type=REL_CUSTOM,
                         Target="docProps/custom.xml")
        parts["_rels/.rels"] = _bytes(root_rels, parts["_rels/.rels"])
        if not any(el.get("PartName") == "/" + part for el in ct):
            ET.SubElement(ct, _q(CT_NS, "Override"), PartName="/" + part, ContentType=CT_CUSTOM)
    props = _xml(parts[part])
    for prop in props.findall(_q(CUSTOM_NS, "property")):
        if prop.get("name") == name:
            props.remove(prop)
    pids = [int(p.get("pid", "1")) for p in props.findall(_q(CUSTOM_NS, "property"))]
    prop = ET.SubElement(props, _q(CUSTOM_NS, "property"), fmtid=PROPERTY_FMTID,
                            pid=str(max([1, *pids]) + 1), name=name)
    ET.SubElement(prop, _q(VT_NS, "lpwstr")).text = value
    parts[part] = _bytes(props, parts[part])
