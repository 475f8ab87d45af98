"""Atomic output: a crash, a full disk or `kill -9` mid-write leaves the previous output as it was.

How (README "What happens when"):

* The new content is written into the target's own folder (so the final move is a rename on one
  filesystem), flushed and fsynced, then moved over the target with `os.replace`, and the folder
  is fsynced. Readers see the old file or the new one, never half of one.
* On Linux the content goes into an anonymous file (`O_TMPFILE`): it has no name until it is
  complete, so a killed writer leaves nothing behind. It is then linked under a unique hidden
  name and renamed over the target.
* Elsewhere (or where the filesystem has no `O_TMPFILE`) it goes into a named temporary file
  `.~<name>.<pid>.<random>.tmp`, removed on any exception. A process killed outright cannot
  clean up, so every write first sweeps the folder for such files whose process is dead and that
  have not changed for `STALE_AFTER_S` seconds (the age check protects writers on other machines
  sharing a network folder).
* Every writer gets its own temporary file, so parallel writers to one folder never collide; the
  last rename wins and every file written is complete.
* Refusals (raised as InputError, so the command line says why and exits 2): the output is one of
  the inputs (compared by resolved path and by file identity, which catches symlinks, hard
  links, `..` segments and case differences on case-insensitive filesystems), the output has
  the wrong extension, the output is a folder, or Excel/LibreOffice has it open (a lock file
  `~$<name>` or `.~lock.<name>#` beside it).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from model.errors import InputError

STALE_AFTER_S = 300.0
_TEMP_NAME = re.compile(r"^\.~(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{8,})\.tmp$")
_COPY_CHUNK = 1 << 20


def write_atomically(path: Path, write: Callable[[BinaryIO], None], *, inputs: Sequence[Path] = (),
                     suffixes: Iterable[str] | None = None, create_folder: bool = False) -> None:
    """Write `path` through `write(handle)` atomically.

    `inputs` are files the output must never replace; `suffixes` (e.g. ``(".xlsx",)``), when
    given, are the allowed extensions, compared case-insensitively. A symlink is followed: its
    target is written and the link stays. An existing file keeps its mode and (where this user
    may set it) its owner; a read-only file is never replaced. The output folder is created
    (`create_folder`) only after every check has accepted the output.
    """
    path = Path(path)
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if path.suffix.lower() not in allowed:
            raise InputError(f"the output {path} must end in {' or '.join(allowed)}")
    refuse_if_input(path, inputs)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise InputError(f"the output {path} is a folder; give a file name")
    folder = path.parent
    refuse_if_locked(path)
    refuse_if_read_only(path)
    if not folder.is_dir():
        if not create_folder:
            raise InputError(f"the output folder {folder} does not exist")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"the output folder {folder} cannot be created ({exc.strerror})") from None
    sweep_stale_temp_files(folder)
    try:
        existing = os.stat(path)
    except OSError:
        existing = None

    def write_as_before(handle: BinaryIO) -> None:
        write(handle)
        _keep_owner_and_mode(handle.fileno(), existing)

    full = None
    hook = sys.unraisablehook
    try:
        if not _write_via_tmpfile(path, write_as_before):
            _write_via_named_temp(path, write_as_before)
    except PermissionError:
        raise InputError(f"the output {path} cannot be written (permission denied, or another program "
                         "has it open); close it or choose another output path") from None
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        full = exc.strerror
        # a writer cut short (openpyxl's zip) complains when it is collected: not the analyst's business
        sys.unraisablehook = lambda _args: None
    if full is not None:
        try:
            gc.collect()
        finally:
            sys.unraisablehook = hook
        raise DiskFullError(f"no space left on the disk holding {folder} ({full}); {path.name} was left as "
                            "it was. Free some space and run again")
    _fsync_folder(folder)


class DiskFullError(InputError):
    """The disk (or quota) is full: nothing was replaced; exit 2 with one line, like any refusal."""


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def refuse_if_read_only(path: Path, what: str = "output") -> None:
    """Never replace a file that is read-only (no write bit for anyone) or that this user may not
    write: the atomic rename would otherwise replace it whenever the folder is writable."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        return
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not _opens_for_writing(path):
        raise InputError(f"the {what} {path} is read-only (or you may not write it); nothing was written. "
                         "Make it writable, or choose another path")


def _opens_for_writing(path: Path) -> bool:
    """Ask by opening (no truncation, nothing written): os.access is wrong for some network shares."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError:
        return False
    except OSError:
        return True  # another kind of trouble: the write itself will say what it is
    os.close(fd)
    return True


def _keep_owner_and_mode(fd: int, existing: os.stat_result | None) -> None:
    """Give the new file the mode and owner of the file it replaces (owner only where allowed)."""
    if existing is None:
        return
    with contextlib.suppress(OSError):
        os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "fchown"):
        mine = os.fstat(fd)
        if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
            with contextlib.suppress(OSError):
                os.fchown(fd, existing.st_uid, existing.st_gid)
            with contextlib.suppress(OSError):  # a user may keep at least the group it belongs to
                os.fchown(fd, -1, existing.st_gid)


def refuse_if_input(path: Path, inputs: Sequence[Path]) -> None:
    """Refuse when `path` is, or would overwrite, one of `inputs`."""
    target = _real(path)
    for source in inputs:
        source = Path(source)
        same = target == _real(source)
        if not same:
            try:
                same = os.path.samefile(path, source)  # hard links, case-insensitive names
            except OSError:
                same = False
        if same:
            raise InputError(f"the output {path} is the input workbook {source}; choose another output path "
                             "(the input is never overwritten)")


def _real(path: Path) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def lock_files(path: Path) -> list[Path]:
    """The lock files Excel (``~$<name>``) and LibreOffice (``.~lock.<name>#``) create beside a
    workbook they have open."""
    path = Path(path)
    return [path.parent / f"~${path.name}", path.parent / f".~lock.{path.name}#"]


def refuse_if_locked(path: Path) -> None:
    """Refuse while Excel (or LibreOffice) has `path` open, i.e. its lock file exists beside it."""
    path = Path(path)
    for lock in lock_files(path):
        if lock.exists():
            raise InputError(f"the output {path} is open in Excel or LibreOffice (lock file {lock.name}); "
                             f"close it and run again (if no program has it open, delete {lock.name})")


def sweep_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files left in `folder` by writers that were killed; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_file(follow_symlinks=False):
                continue
            if now - info.st_mtime < STALE_AFTER_S or _pid_alive(int(match["pid"])):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue  # another writer swept it first, or it is not ours to remove
    return removed


def _temp_name(path: Path) -> Path:
    return path.parent / f".~{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"


def _write_via_tmpfile(path: Path, write: Callable[[BinaryIO], None]) -> bool:
    """Linux: write into an unnamed file, name it only when complete. False if unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(path.parent, flag | os.O_RDWR, 0o666)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.ENOTSUP):
            return False
        raise
    with os.fdopen(fd, "w+b") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
        temp = _temp_name(path)
        try:
            os.link(f"/proc/self/fd/{handle.fileno()}", temp, follow_symlinks=True)
        except OSError:
            # cannot name an O_TMPFILE here: copy the finished content into a named temp file
            handle.seek(0)
            def copy_with_mode(out: BinaryIO) -> None:
                _copy(handle, out)
                _keep_owner_and_mode(out.fileno(), os.fstat(handle.fileno()))

            _write_via_named_temp(path, copy_with_mode)
            return True
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    return True


def _write_via_named_temp(path: Path, write: Callable[[BinaryIO], None]) -> None:
    temp = _temp_name(path)
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise


def _copy(source: BinaryIO, target: BinaryIO) -> None:
    while block := source.read(_COPY_CHUNK):
        target.write(block)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (never signals it)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return bool(ok) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
