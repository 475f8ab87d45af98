"""Checks on the input file before any parser touches it, and plain words for parser failures.

Everything here runs before openpyxl opens the file, so a hostile file is refused by a cheap,
bounded check instead of a parser that may hang, exhaust memory or read other files.

Limits (README "What happens when"; the constants below are the documented values):

* the file on disk is at most ``MAX_FILE_BYTES`` (200 MiB);
* the zip archive has at most ``MAX_ZIP_ENTRIES`` (10,000) parts, which together unpack to at
  most ``MAX_UNCOMPRESSED_BYTES`` (1 GiB), and no part above 1 MiB unpacked is compressed more
  than ``MAX_COMPRESSION_RATIO`` (200:1) -- real workbooks stay well under 100:1. The sizes are
  the ones the archive declares; Python's zipfile never unpacks more than the declared size and
  rejects a part whose content disagrees with it (CRC), so a lying header cannot get past this;
* no part a parser may read contains an entity declaration (``<!ENTITY``) or a document type
  declaration (``<!DOCTYPE``), in UTF-8 or UTF-16. Excel never writes them; they are how XML
  entity bombs ("billion laughs") and external-entity attacks work. Every part outside the
  pictures folder ``xl/media/`` is scanned whatever its name; pictures (an SVG logo from Adobe
  Illustrator carries entity declarations) are never parsed as XML, so they are left alone unless
  the workbook's relationships name one as a sheet, strings or styles. The reader's own lxml
  parser also never expands entities and refuses a DTD; openpyxl (write-back) parses with
  entities off or through defusedxml;
* openpyxl must be running with defusedxml (``openpyxl.xml.DEFUSEDXML``); if it is not, no
  workbook is read at all.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
import zipfile
from pathlib import Path

from model.errors import InputError

MAX_FILE_BYTES = 200 * 1024 * 1024  # 200 MiB on disk
MAX_ZIP_ENTRIES = 10_000
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # 1 GiB once unpacked
MAX_COMPRESSION_RATIO = 200  # per entry, for entries above 1 MiB unpacked
RATIO_FLOOR_BYTES = 2**20  # entries smaller than this unpacked are never called bombs

_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")
_ENTITY = tuple("<!ENTITY".encode(e) for e in _ENCODINGS)
_DOCTYPE = tuple("<!DOCTYPE".encode(e) for e in _ENCODINGS)
MEDIA_FOLDER = "xl/media/"  # pictures: an SVG may carry a DOCTYPE and entity declarations, never parsed
_OVERLAP = max(len(m) for m in _ENTITY + _DOCTYPE)
_CHUNK = 1 << 20


def require_defusedxml() -> None:
    """Refuse to read any workbook unless openpyxl parses XML through defusedxml.

    Asked without importing openpyxl (0.1 s) when nothing has yet: openpyxl.xml decides at import
    by the same two conditions (defusedxml importable, OPENPYXL_DEFUSEDXML unset or "True")."""
    if "openpyxl.xml" in sys.modules:
        active = sys.modules["openpyxl.xml"].DEFUSEDXML
    else:
        active = (importlib.util.find_spec("defusedxml") is not None
                  and os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True")
    if active is not True:
        raise InputError("refusing to read workbooks: the XML safety package defusedxml is not active in "
                         "openpyxl (install defusedxml into this Python environment)")


def check_input_file(path: Path) -> None:
    """Raise InputError with a one-line reason when `path` is not a readable, sane xlsx archive."""
    require_defusedxml()
    path = Path(path)
    name = shown(path.name)
    if name.startswith("~$"):
        raise InputError(f"{name} is an Excel lock file (Excel creates it while '{name[2:]}' is open), "
                         f"not a workbook; use '{name[2:]}' instead")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{shown(path)}: no such file") from None
    except PermissionError:
        raise InputError(f"{shown(path)}: permission denied (the folder cannot be read)") from None
    except OSError as exc:
        raise InputError(f"{shown(path)}: cannot be opened ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown(path)} is a folder, not a workbook")
    if not stat.S_ISREG(info.st_mode):
        # a pipe would block forever, a device could be endless
        raise InputError(f"{shown(path)} is not a regular file (a pipe, device or socket), not a workbook")
    size = info.st_size
    if size == 0:
        raise InputError(f"{name} is empty (0 bytes), not a workbook")
    if size > MAX_FILE_BYTES:
        raise InputError(f"{name} is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB")
    head = _read_head(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{name} is a legacy .xls (or password-protected) workbook; "
                         "save it as .xlsx (Excel Workbook) without a password")
    if not head.startswith(b"PK"):
        raise InputError(f"{name} is not an .xlsx workbook (it looks like {_looks_like(head)}); "
                         "open it in Excel and save it as .xlsx")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_sizes(name, infos)
            names = {i.filename for i in infos}
            if "xl/workbook.bin" in names:
                raise InputError(f"{name} is a binary .xlsb workbook; save it as .xlsx")
            if "xl/workbook.xml" not in names:
                raise InputError(f"{name} is a zip archive but not an Excel workbook (no xl/workbook.xml)")
            _scan_xml_parts(name, archive, infos)
    except InputError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError (unknown compression)...
        raise InputError(f"{name} is not a valid .xlsx workbook (damaged or unsupported zip archive: "
                         f"{one_line(exc, 120)})") from None


def _read_head(path: Path) -> bytes:
    """Read the first bytes by actually opening the file: os.access is wrong for root and ACLs."""
    try:
        with path.open("rb") as handle:
            return handle.read(512)
    except PermissionError:
        raise InputError(f"{shown(path)}: permission denied (the file cannot be read)") from None
    except OSError as exc:
        raise InputError(f"{shown(path)}: cannot be read ({exc.strerror or exc})") from None


def _looks_like(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<table")):
        return "an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "an XML file (perhaps the Excel 2003 XML format)"
    if text.startswith(b"%pdf"):
        return "a PDF"
    if b"\x00" in head:
        return "a binary file of another kind"
    return "text or CSV"


def _check_sizes(name: str, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise InputError(f"{name} has {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES} (possible zip bomb)")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(f"{name} unpacks to {total / 2**20:.0f} MiB; the limit is "
                         f"{MAX_UNCOMPRESSED_BYTES // 2**20} MiB (possible zip bomb)")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise InputError(f"{name}: part {info.filename} is compressed {ratio:.0f}:1; the limit is "
                             f"{MAX_COMPRESSION_RATIO}:1 (possible zip bomb)")


def _scan_xml_parts(name: str, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entity declarations and DTDs in every part a parser may read, streaming.

    Every part outside the pictures folder is scanned whatever its name, because the workbook's
    relationships may point a parser at a part with any name. Pictures (`xl/media/`) are never
    parsed as XML by the reader or by openpyxl, so an SVG logo keeps the DOCTYPE and entity
    declarations Adobe Illustrator writes; a picture-folder part that the workbook's
    relationships name as a sheet, strings or styles is scanned like any other.
    """
    media = [i for i in infos if not i.is_dir() and i.filename.startswith(MEDIA_FOLDER)]
    for info in infos:
        if not info.is_dir() and not info.filename.startswith(MEDIA_FOLDER):
            _scan_part(name, archive, info)
    if media:
        from model.io.package import parsed_part_names  # its parts were scanned just above

        parsed = parsed_part_names(archive)
        for info in media:
            if info.filename in parsed:
                _scan_part(name, archive, info)


def _scan_part(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    forbidden = _ENTITY + _DOCTYPE
    tail = b""
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            if any(marker in window for marker in forbidden):
                raise InputError(
                    f"{name}: part {info.filename} contains an XML DOCTYPE or ENTITY declaration, which "
                    "is refused for safety (XML entity bomb or external-entity attack); Excel never "
                    "writes these, so re-save the data in a fresh workbook")
            tail = window[-_OVERLAP:]


def explain_open_error(path: Path, exc: BaseException) -> str:
    """Turn an exception from openpyxl or its XML parser into one plain line.

    openpyxl wraps parser errors in its own ValueError, so the whole chain of causes is examined.
    """
    chain = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for item in chain:
        kind = type(item).__name__
        module = type(item).__module__ or ""
        if module.startswith("defusedxml") or kind in {"EntitiesForbidden", "ExternalReferenceForbidden",
                                                       "DTDForbidden", "NotSupportedError"}:
            return (f"{shown(path.name)} contains XML entity declarations or external references, which are refused "
                    "for safety (an XML bomb or a file crafted to read other files); re-save it in Excel")
    for item in chain:
        if type(item).__name__ == "ParseError":
            return f"{shown(path.name)} is damaged: one of its XML parts is not well-formed ({one_line(item)})"
    if type(exc).__name__ == "InvalidFileException":
        return f"{shown(path.name)} cannot be read as an .xlsx workbook ({one_line(exc)})"
    return f"{shown(path.name)} cannot be read as an .xlsx workbook ({type(exc).__name__}: {one_line(exc)})"


def shown(name: object) -> str:
    """A file name safe to print on one line: control characters, invisible characters and bytes
    that are not valid text (kept by Python as surrogates) are escaped, never sent raw to the terminal."""
    out = []
    for ch in str(name):
        code = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, shortened."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
