"""Checks on the input file before any parser touches it, and plain words for parser failures.

Limits (README "What happens when"): see the constants below.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from model.errors import InputError

MAX_FILE_BYTES = 200 * 1024 * 1024  # 200 MiB on disk
MAX_ZIP_ENTRIES = 10_000
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # 1 GiB once unpacked
MAX_COMPRESSION_RATIO = 200  # per entry, for entries above 1 MiB unpacked


def check_input_file(path: Path) -> None:
    """Raise InputError with a one-line reason when `path` is not a readable, sane xlsx archive."""
    name = path.name
    if name.startswith("~$"):
        raise InputError(f"{name} is an Excel lock file, not a workbook; open '{name[2:]}' instead")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a workbook")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied (the file cannot be read)")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{name} is empty (0 bytes), not a workbook")
    if size > MAX_FILE_BYTES:
        raise InputError(f"{name} is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{name} is a legacy .xls (or encrypted) workbook; save it as .xlsx in Excel")
    if not head.startswith(b"PK"):
        kind = "an HTML page" if head.lstrip().lower().startswith((b"<!do", b"<htm", b"<?xm")) else "text or CSV"
        raise InputError(f"{name} is not an .xlsx workbook (it looks like {kind}); save it as .xlsx")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name} is not a valid .xlsx workbook (damaged zip archive: {exc})") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise InputError(f"{name} has {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES} (possible zip bomb)")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(f"{name} unpacks to {total / 2**20:.0f} MiB; the limit is "
                         f"{MAX_UNCOMPRESSED_BYTES // 2**20} MiB (possible zip bomb)")
    for info in infos:
        if info.file_size > 2**20 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise InputError(f"{name}: part {info.filename} is compressed {info.file_size // max(info.compress_size, 1)}"
                             f":1; the limit is {MAX_COMPRESSION_RATIO}:1 (possible zip bomb)")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise InputError(f"{name} is a zip archive but not an Excel workbook (no xl/workbook.xml)")
    if "xl/workbook.bin" in names:
        raise InputError(f"{name} is a binary .xlsb workbook; save it as .xlsx")


def explain_open_error(path: Path, exc: Exception) -> str:
    """Turn an exception from openpyxl or its XML parser into one plain line."""
    kind = type(exc).__name__
    module = type(exc).__module__ or ""
    if module.startswith("defusedxml") or kind in {"EntitiesForbidden", "ExternalReferenceForbidden",
                                                   "DTDForbidden", "NotSupportedError"}:
        return (f"{path.name} contains XML entity declarations or external references, which are refused "
                "for safety (an XML bomb or a file crafted to read other files); re-save it in Excel")
    return f"{path.name} cannot be read as an .xlsx workbook ({kind}: {str(exc)[:160]})"
