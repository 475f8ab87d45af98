"""A journal of finished solves beside a batch's output, so no finished work is ever lost.

Why: a batch can die after hours of solving (a lost worker, Ctrl-C, kill -9, a full disk while
writing the workbook). Each result is appended to `<output stem>.journal.jsonl` the moment it
arrives in the parent and flushed to disk, so whatever happens later the finished solves are kept;
`--resume` reads them back and solves only what is missing.

Format: JSON lines (text, append-only, readable by anything; no pickle, so a journal cannot run
code). Line 1 is a header naming the command, the input workbook's SHA-256 and the run's options
(a resume against a changed workbook or other options is refused). Every later line is one
`Result`, its tables stored as columns, dtypes and rows. A line cut short by kill -9 is ignored.
The journal is removed once the workbook is written; it stays while the batch is unfinished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.batch.runner import Result
from model.errors import InputError

VERSION = 1


def journal_path(output: Path) -> Path:
    output = Path(output)
    return output.with_name(f"{output.stem}.journal.jsonl")


def fingerprint(workbook: Path) -> str:
    """SHA-256 of the input workbook: a journal only resumes the batch of the same inputs."""
    digest = hashlib.sha256()
    with open(workbook, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Journal:
    """Append-only record of finished results; `append` is durable when it returns."""

    def __init__(self, path: Path, header: dict[str, Any], *, resume: bool = False):
        self.path = Path(path)
        self.header = {"journal": VERSION, **header}
        self.kept: list[Result] = []
        if resume:
            self.kept = self._read()
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (lives with the run)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
            self._write(self.header)

    @property
    def done(self) -> set[str]:
        return {r.key for r in self.kept}

    def append(self, result: Result) -> None:
        self._write(encode(result))

    def _write(self, record: dict) -> None:
        self._handle.write(json.dumps(record, default=_plain, allow_nan=True) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self, *, remove: bool = False) -> None:
        if not self._handle.closed:
            self._handle.close()
        if remove:
            self.path.unlink(missing_ok=True)

    def _read(self) -> list[Result]:
        if not self.path.exists():
            raise InputError(f"--resume: no journal at {self.path}; run without --resume to start")
        with open(self.path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        try:
            header = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            raise InputError(f"--resume: {self.path} is not a batch journal") from None
        if not isinstance(header, dict) or header.get("journal") != VERSION:
            raise InputError(f"--resume: {self.path} is not a batch journal of this version")
        for key in ("command", "input_sha256", "options"):
            if header.get(key) != self.header.get(key):
                what = {"command": "another command", "input_sha256": "another version of the "
                        "input workbook", "options": "other options"}[key]
                raise InputError(
                    f"--resume: the journal {self.path} records a run of {what} "
                    f"({header.get(key)!r}, now {self.header.get(key)!r}); run without --resume "
                    "to start again"
                )
        kept: dict[str, Result] = {}
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                result = decode(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # the last line cut short by a kill: that solve is simply redone
            kept[result.key] = result
        return list(kept.values())


# ------------------------------------------------------------------ encoding

_SCALAR = {f.name for f in fields(Result)} - {"tables", "changes", "binding"}


def encode(r: Result) -> dict:
    record = {name: getattr(r, name) for name in _SCALAR}
    record["binding"] = [list(b) for b in r.binding]
    record["tables"] = {name: _frame(t) for name, t in r.tables.items()}
    record["changes"] = None if r.changes is None else _frame(r.changes)
    return record


def decode(record: dict) -> Result:
    kwargs = {name: record[name] for name in _SCALAR}
    kwargs = {k: (math.nan if v is None and isinstance(getattr(Result, k, None), float) else v)
              for k, v in kwargs.items()}
    return Result(
        **kwargs,
        binding=[(str(k), int(t)) for k, t in record["binding"]],
        tables={name: _unframe(t) for name, t in record["tables"].items()},
        changes=None if record["changes"] is None else _unframe(record["changes"]),
    )


def _frame(df: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes],
            "rows": df.to_numpy(dtype=object).tolist()}


def _unframe(obj: dict) -> pd.DataFrame:
    df = pd.DataFrame(obj["rows"], columns=obj["columns"])
    for col, dtype in zip(obj["columns"], obj["dtypes"], strict=True):
        if dtype in ("object", "str", "string"):
            continue
        with contextlib.suppress(TypeError, ValueError):  # else keep what JSON gave
            df[col] = df[col].astype(dtype)
    return df


def _plain(v: Any) -> Any:
    """JSON for numpy and pandas scalars (everything else in a Result is already plain)."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)
