"""The analyst's files are respected (issue 14 items 3, 4 and 16): read-only files are never
replaced, a replaced file keeps its mode and owner, symlinks are written through, a full disk is one
line, and the output folder is created only once the output is accepted."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from model.cli import main
from model.report.template import write_template
from model.report.writeback import PREFIX, backup_path

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
NOBODY = 65534


def solve(*args: str):
    return CliRunner().invoke(main, ["solve", *map(str, args)])


def test_read_only_plan_is_not_replaced(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(b"KEEP ME")
    plan.chmod(0o444)
    result = solve(workbook, "-o", plan)
    assert result.exit_code == 2, result.output
    assert "read-only" in result.output and "Traceback" not in result.output
    assert plan.read_bytes() == b"KEEP ME"


def test_write_back_refuses_a_read_only_workbook(tmp_path: Path):
    workbook = write_template(tmp_path / "mine.xlsx")
    workbook.chmod(0o444)
    before = workbook.read_bytes()
    result = solve(workbook, "--write-back")
    assert result.exit_code == 2 and "read-only" in result.output
    assert workbook.read_bytes() == before and not backup_path(workbook).exists()


def test_replaced_plan_keeps_its_mode(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    plan = tmp_path / "plan.xlsx"
    assert solve(workbook, "-o", plan).exit_code == 0
    plan.chmod(0o640)
    assert solve(workbook, "-o", plan).exit_code == 0
    assert stat.S_IMODE(plan.stat().st_mode) == 0o640


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another owner")
def test_replaced_plan_keeps_its_owner(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    plan = tmp_path / "plan.xlsx"
    assert solve(workbook, "-o", plan).exit_code == 0
    os.chown(plan, NOBODY, NOBODY)
    assert solve(workbook, "-o", plan).exit_code == 0
    info = plan.stat()
    assert (info.st_uid, info.st_gid) == (NOBODY, NOBODY)


@contextlib.contextmanager
def shared_folder():
    """A world-writable folder outside pytest's private tmp (which other users cannot enter)."""
    folder = Path(tempfile.mkdtemp(prefix="sourcing-shared-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_nobody(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"})


def skip_unless_nobody_can_run(home: Path) -> None:
    """Another user needs to read this checkout and its Python; a private checkout cannot be tested."""
    probe = as_nobody("-c", "import model.cli", home=home)
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run the tool from this checkout: {probe.stderr.strip()[-200:]}")


@pytest.mark.skipif(not (IS_ROOT and SETPRIV), reason="needs root and setpriv to run as another user")
def test_another_user_cannot_replace_a_root_owned_read_only_plan():
    """Issue 14 item 3: an ordinary user, a root-owned 0644 plan, a world-writable folder."""
    with shared_folder() as folder:
        skip_unless_nobody_can_run(folder)
        workbook = write_template(folder / "in.xlsx")
        workbook.chmod(0o644)
        plan = folder / "plan.xlsx"
        plan.write_bytes(b"ROOT'S PLAN")
        plan.chmod(0o644)
        proc = as_nobody("-m", "model.cli", "solve", str(workbook), "-o", str(plan), home=folder)
        assert proc.returncode == 2, proc.stderr
        assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
        assert plan.read_bytes() == b"ROOT'S PLAN"
        assert plan.stat().st_uid == 0


def test_output_through_a_symlink_writes_the_target(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    real = tmp_path / "real"
    real.mkdir()
    target = real / "plan.xlsx"
    target.write_bytes(b"old")
    link = tmp_path / "plan.xlsx"
    link.symlink_to(target)
    assert solve(workbook, "-o", link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "Summary" in openpyxl.load_workbook(target, read_only=True).sheetnames


def test_write_back_through_a_symlink_writes_the_workbook(tmp_path: Path):
    real = write_template(tmp_path / "real.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    result = solve(link, "--write-back")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert any(t.startswith(PREFIX) for t in openpyxl.load_workbook(real, read_only=True).sheetnames)
    assert backup_path(real).exists()


def test_output_folder_is_created_only_once_the_output_is_accepted(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    refused = solve(workbook, "-o", tmp_path / "new" / "deeper" / "plan.csv")
    assert refused.exit_code == 2
    assert not (tmp_path / "new").exists()
    done = solve(workbook, "-o", tmp_path / "new" / "deeper" / "plan.xlsx")
    assert done.exit_code == 0 and (tmp_path / "new" / "deeper" / "plan.xlsx").is_file()


@contextlib.contextmanager
def tiny_disk(size: str):
    """A real filesystem that fills up: a small tmpfs (root only; skipped where mounting is not allowed)."""
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root")
    folder = Path(tempfile.mkdtemp(prefix="sourcing-full-"))
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
        folder.rmdir()


def test_full_disk_on_solve_is_one_line_and_keeps_the_old_plan(tmp_path: Path):
    workbook = write_template(tmp_path / "in.xlsx")
    with tiny_disk("12k") as disk:
        plan = disk / "plan.xlsx"
        plan.write_bytes(b"OLD")
        proc = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(workbook), "-o", str(plan)],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert proc.returncode == 2, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "no space left" in lines[0]
        assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
        assert plan.read_bytes() == b"OLD"


def test_full_disk_on_write_back_is_one_line_and_keeps_the_workbook(tmp_path: Path):
    source = write_template(tmp_path / "in.xlsx")
    size = source.stat().st_size
    with tiny_disk(f"{(size * 3 // 2) // 1024 + 4}k") as disk:
        workbook = disk / "in.xlsx"
        shutil.copy(source, workbook)
        before = workbook.read_bytes()
        result = solve(workbook, "--write-back")
        assert result.exit_code == 2, result.output
        assert "no space left" in result.output and "Traceback" not in result.output
        assert workbook.read_bytes() == before


@pytest.mark.skipif(not (IS_ROOT and SETPRIV), reason="needs root and setpriv to run as another user")
def test_another_user_gets_one_line_for_a_folder_it_cannot_write():
    with shared_folder() as folder:
        skip_unless_nobody_can_run(folder)
        workbook = write_template(folder / "in.xlsx")
        workbook.chmod(0o644)
        locked = folder / "locked"
        locked.mkdir(mode=0o755)
        proc = as_nobody("-m", "model.cli", "solve", str(workbook), "-o", str(locked / "plan.xlsx"), home=folder)
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "cannot be written" in errors[0]
        assert "Traceback" not in proc.stderr and list(locked.iterdir()) == []
