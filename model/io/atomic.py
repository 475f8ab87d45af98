"""Atomic output: write to a temporary file in the target folder, then move it into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from model.errors import InputError


def write_atomically(path: Path, write: Callable[[BinaryIO], None], *, inputs: Sequence[Path] = ()) -> None:
    path = Path(path)
    for source in inputs:
        if Path(os.path.realpath(path)) == Path(os.path.realpath(source)) or (
            path.exists() and Path(source).exists() and os.path.samefile(path, source)
        ):
            raise InputError(f"the output {path} is the input workbook; choose another output path")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".~{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
