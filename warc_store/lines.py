"""Files written whole or not at all: the index and the event log, appended under the lock, and
the files replaced in one rename (the manifest, a rewritten index, the tally).

A full disk can make ``write`` store only part of what it was given, and a crash can stop a
process between two writes: either would leave a torn last line, and the next append would glue
its own line onto it. Appends here loop over short writes, fsync, and on any failure cut the file
back to where it was; a torn tail left by a crash (or by an older weidang) is cut before the next
append, and the caller decides what to keep of it. A file replaced by ``replace_whole`` is
written to a temporary copy, synced, renamed over the old one, and the folder synced, so that
after a crash or a power cut there is either the old file or the new one, never a mix or none.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from warc_store.errors import StoreError

NEWLINE = b"\n"


# How every layer says it (the face, a harvest's outcome, this store's own errors): one wording.
DISK_FULL = "the disk is full"
FREE_SPACE = "free some space (or move the home to a larger disk), then try again"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is a full disk or an exhausted quota
    (SQLite says so in its own way)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full_message(path: Path, exc: OSError) -> str:
    if is_disk_full(exc):
        return f"{DISK_FULL}: nothing was added to {path}; {FREE_SPACE}"
    return f"cannot write {path}: {exc.strerror or exc}"


def append_whole(path: Path, data: bytes, mode: int = 0o644) -> tuple[int, int]:
    """Append ``data`` (complete lines) entirely, fsynced, or leave the file as it was. Returns
    the file's inode and the offset the data begins at (exact when appends are locked)."""
    if not data:
        return 0, 0
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    try:
        status = os.fstat(fd)
        start = status.st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # pragma: no cover - write(2) reports errors, not 0, on files
                    raise OSError(errno.EIO, "nothing written")
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            _cut(fd, start)
            raise StoreError(disk_full_message(path, exc)) from exc
    finally:
        os.close(fd)
    return status.st_ino, start


def replace_whole(path: Path, chunks: Iterable[bytes]) -> None:
    """Replace the file with the concatenated ``chunks``, atomically and durably; on a failure
    (a full disk) the old file is left as it was and StoreError says why."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)  # a buffered file writes all of it or raises
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the rename itself must survive a power cut
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(disk_full_message(path, exc)) from exc


def fsync_dir(path: Path) -> None:
    """Make the names in a folder (a file created or renamed there) survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def torn_tail(path: Path) -> bytes:
    """The bytes after the last newline (an unfinished line), or b"" when the file ends whole."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return b""
            fh.seek(size - 1)
            if fh.read(1) == NEWLINE:
                return b""
            start = _last_line_start(fh, size)
            fh.seek(start)
            return fh.read()
    except FileNotFoundError:
        return b""


def cut_torn_tail(path: Path) -> bytes:
    """Remove an unfinished last line (call under the lock); returns the bytes removed."""
    tail = torn_tail(path)
    if tail:
        fd = os.open(path, os.O_RDWR)
        try:
            _cut(fd, os.fstat(fd).st_size - len(tail))
        finally:
            os.close(fd)
    return tail


def last_line(path: Path) -> bytes:
    """The last complete line, without its newline (b"" if there is none)."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            end = size - len(torn_tail(path))
            if end <= 0:
                return b""
            start = _last_line_start(fh, end - 1)
            fh.seek(start)
            return fh.read(end - 1 - start)
    except FileNotFoundError:
        return b""


def _last_line_start(fh: BinaryIO, end: int) -> int:
    """Offset just after the last newline before ``end`` (0 if none), reading backwards."""
    pos = end
    while pos > 0:
        step = min(65536, pos)
        fh.seek(pos - step)
        chunk = fh.read(step)
        found = chunk.rfind(NEWLINE)
        if found >= 0:
            return pos - step + found + 1
        pos -= step
    return 0


def _cut(fd: int, size: int) -> None:
    os.ftruncate(fd, size)
    os.fsync(fd)
