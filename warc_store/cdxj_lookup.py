"""Where each line of ``index.cdxj`` lies, by record id, URL, WARC file and payload digest.

An archive's index grows for decades: held in memory it took 672 bytes a record, and every
process read it whole at its first look-up (9.7 s of CPU and 632 MB at a million
records). This table, a SQLite file beside the index (``.index-lookup.sqlite``), gives each
complete line a row: its place in the file and 64-bit keys of its record id, its URL, its WARC
file and, for a response, its payload digest. It is built once and then only extended by what
was appended, whichever process asks first; the others read it.

The index file stays the only truth. A look-up reads the lines the table points at and keeps
those that truly say what was asked: two values sharing a key cost one more line read, and a row
whose line no longer carries its keys shows a table that does not fit the file; so does a file
replaced since (recovery rewrites it; a copy of the collection), or one whose last line read
differs. The table is then built again. Where the file cannot be written (a read-only copy, a
full disk), the same table is kept in memory for the process.

A writer asks after every payload it stores (a revisit?) and appends a page's lines at a time.
Reading its own lines back into the table after each page cost a harvest about a sixth of its
recording time, so the lines a process appends right after what the table holds are kept as rows
in memory (``_Own``) and found there; the table takes them in once another writer's lines follow
them, or once there are ``OWN_ROWS`` of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from warc_store.errors import StoreError

LOOKUP_NAME = ".index-lookup.sqlite"
BUSY_SECONDS = 120.0  # another process building the table for a large index
_BATCH = 20_000  # rows inserted at once while reading the index
WAL_LIMIT = 8 << 20  # bytes of write-ahead log kept after a checkpoint
CACHE_KIB = 65_536  # SQLite's page cache: the keys' B-trees of a large index fit while it is read
OWN_ROWS = 20_000  # lines of this process's own kept in memory (some 8 MB) before the table takes them

_TABLES = """
CREATE TABLE IF NOT EXISTS state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    inode INTEGER NOT NULL, read_to INTEGER NOT NULL, last_line BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lines (
    offset INTEGER PRIMARY KEY, length INTEGER NOT NULL, id_key INTEGER NOT NULL,
    url_key INTEGER NOT NULL, digest_key INTEGER, file_key INTEGER NOT NULL);
"""
SCHEMA_VERSION = 2  # 2: the WARC file of each line; another version's table is built anew
_INDEXES = """
CREATE INDEX IF NOT EXISTS lines_by_id ON lines (id_key);
CREATE INDEX IF NOT EXISTS lines_by_url ON lines (url_key);
CREATE INDEX IF NOT EXISTS lines_by_digest ON lines (digest_key) WHERE digest_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS lines_by_file ON lines (file_key);
"""
_NO_INDEXES = "DROP INDEX IF EXISTS lines_by_id; DROP INDEX IF EXISTS lines_by_url; " \
              "DROP INDEX IF EXISTS lines_by_digest; DROP INDEX IF EXISTS lines_by_file;"

# What a look-up asks: the column of the key, and which of a line's ``_values`` it was made from.
BY_ID = ("id_key", 0)
BY_URL = ("url_key", 1)
BY_DIGEST = ("digest_key", 2)
BY_FILE = ("file_key", 3)
Fields = dict[str, Any]
Row = tuple[int, int, int, int, int | None, int]  # offset, length and the keys, as in ``lines``
T = TypeVar("T")  # what a line is read as
R = TypeVar("R")


def key(value: str) -> int:
    """A signed 64-bit key of ``value`` (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(),
                          "big", signed=True)


def line_fields(raw: bytes) -> tuple[str, Fields]:
    """The timestamp and JSON fields of an index line; ValueError if it is not one."""
    parts = raw.rstrip(b"\n").split(b" ", 2)
    if len(parts) != 3:
        raise ValueError("an index line has three parts")
    fields = json.loads(parts[2])
    if not isinstance(fields, dict) or not isinstance(fields.get("record_id"), str):
        raise ValueError("an index line names its record")
    return parts[1].decode("utf-8"), fields


def damaged(path: Path, offset: int) -> StoreError:
    return StoreError(f"the index {path} is damaged at byte {offset}; run `weidang verify`")


def _values(fields: Fields) -> tuple[str, str, str | None, str]:
    """What a line is found by: its record id, its URL, its payload digest if a response, and
    its WARC file."""
    digest = fields.get("digest")
    payload = str(digest) if digest is not None and fields.get("record_type") == "response" else None
    return (str(fields["record_id"]), str(fields.get("url") or ""), payload,
            str(fields.get("filename") or ""))


def _keys(fields: Fields) -> tuple[int, int, int | None, int]:
    record_id, url, digest, filename = _values(fields)
    return key(record_id), key(url), None if digest is None else key(digest), key(filename)


_INHERITED: list[sqlite3.Connection] = []


@dataclass
class _Own:
    """Lines this process appended, one after the other, right where the table's reading stops
    (``start``): their rows, and where each key finds them."""

    inode: int
    start: int
    end: int = 0
    last: bytes = b""
    rows: list[Row] = field(default_factory=list)
    places: tuple[dict[int, list[tuple[int, int]]], ...] = field(
        default_factory=lambda: tuple({} for _ in range(4)))

    def add(self, offset: int, raw: bytes, keys: tuple[int, int, int | None, int]) -> None:
        self.rows.append((offset, len(raw), *keys))
        for which, k in enumerate(keys):
            if k is not None:
                self.places[which].setdefault(k, []).append((offset, len(raw)))
        self.end, self.last = offset + len(raw), raw


class StaleLookup(StoreError):
    """The table points at a line that does not carry its keys: it no longer fits the file."""


class LineLookup(Generic[T]):
    """The table for the index file ``path``; safe to share between threads, and across a fork
    (a child opens its own connection). ``parse`` turns a line's timestamp and fields (and its
    offset, for an error) into what look-ups return, and raises for a damaged one, as reading
    the index does."""

    def __init__(self, path: Path, parse: Callable[[str, Fields, int], T]) -> None:
        self.path = path
        self.file = path.with_name(LOOKUP_NAME)
        self._parse = parse
        self._guard = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._in_memory = False
        self._own: _Own | None = None

    # -- the connection --------------------------------------------------------------------

    def _leave_inherited(self) -> None:
        """A connection inherited across a fork is never used nor closed in the child: closing
        it could take the parent's WAL file for its own last one and remove it."""
        if self._conn is not None and self._pid != os.getpid():
            _INHERITED.append(self._conn)
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        self._leave_inherited()
        if self._conn is None:
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if not self._in_memory and os.access(self.path.parent, os.W_OK):
            try:
                return _prepared(str(self.file))
            except sqlite3.DatabaseError as exc:
                self._discard(exc)
        self._in_memory = True
        return _prepared(":memory:")

    def _discard(self, exc: sqlite3.Error) -> None:
        """Give up the file for this process; remove it if it is damaged, so the next builds
        it again."""
        if not isinstance(exc, sqlite3.OperationalError):  # "file is not a database", "malformed"
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{self.file}{suffix}")
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        self._in_memory = True

    def close(self) -> None:
        with self._guard:
            self._leave_inherited()
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            self._conn = None

    def _with_table(self, work: Callable[[sqlite3.Connection], R]) -> R:
        """``work`` on the table; on the file's failure (full disk, damage, a lock held too
        long) the same work on a table in memory."""
        with self._guard:
            try:
                return work(self._connection())
            except sqlite3.Error as exc:
                if self._in_memory:
                    raise
                self._discard(exc)
                conn = self._connection()
                self._refresh(conn)
                return work(conn)

    # -- reading the index into the table --------------------------------------------------

    def refresh(self) -> bool:
        """Take in the lines appended since the table was last extended (by any process);
        whether there were any not yet known to this process."""
        return self._with_table(self._refresh)

    def _refresh(self, conn: sqlite3.Connection) -> bool:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            status = None
        own = self._own
        if own is not None and status is not None and (status.st_ino, status.st_size) == (own.inode, own.end):
            return False  # nothing but this process's own lines, already found in memory
        self._take_own(conn)
        if _current(conn, status):
            return False
        with _transaction(conn):  # one process extends it; the others wait, then see it
            if not _current(conn, status):
                self._extend(conn, status)
        return True

    def appended(self, inode: int, start: int, lines: Sequence[tuple[bytes, Fields]]) -> None:
        """Lines this process has just appended at ``start`` (under the collection lock), with
        their fields: kept in memory if they follow what the table or the rows already kept
        hold, so that look-ups find them without reading them back. A process that has not
        looked anything up does not open the table for this."""
        if self._conn is None or self._pid != os.getpid():
            return

        def keep(conn: sqlite3.Connection) -> None:
            own = self._own
            if own is None or (own.inode, own.end) != (inode, start):
                if own is not None:
                    return  # another writer's lines came between: a refresh reads on from own.end
                if _state_row(conn) != (inode, start):
                    return  # the table stops elsewhere: a refresh reads these lines from the file
                own = self._own = _Own(inode, start, start)
            offset = start
            for raw, fields in lines:
                own.add(offset, raw, _keys(fields))
                offset += len(raw)
            if len(own.rows) >= OWN_ROWS:
                self._take_own(conn)
        self._with_table(keep)

    def _take_own(self, conn: sqlite3.Connection) -> None:
        """Put the rows kept in memory into the table, if it still stops where they begin
        (another process may have read them from the file already, or rebuilt the table)."""
        own, self._own = self._own, None
        if own is None or not own.rows:
            return
        with _transaction(conn):
            if _state_row(conn) == (own.inode, own.start):
                _insert(conn, own.rows)
                conn.execute("INSERT OR REPLACE INTO state VALUES (1, ?, ?, ?)",
                             (own.inode, own.end, own.last))

    def _extend(self, conn: sqlite3.Connection, status: os.stat_result | None) -> None:
        read_to, last = _state(conn, self.path, status)
        anew = read_to == 0
        if anew:  # the keys' indexes are built after the rows: sorting beats inserting
            _run(conn, _NO_INDEXES)
            conn.execute("DELETE FROM lines")
        if status is not None:
            with open(self.path, "rb") as fh:
                fh.seek(read_to)
                rows: list[Row] = []
                for raw in fh:
                    if not raw.endswith(b"\n"):
                        break  # a line still being appended is taken in next time
                    if raw.strip():
                        rows.append((read_to, len(raw), *_keys(self._fields(raw, read_to)[1])))
                        last = raw
                    read_to += len(raw)
                    if len(rows) >= _BATCH:
                        _insert(conn, rows)
                _insert(conn, rows)
        conn.execute("INSERT OR REPLACE INTO state VALUES (1, ?, ?, ?)",
                     (status.st_ino if status else 0, read_to, last))
        if anew:
            _run(conn, _INDEXES)

    def _fields(self, raw: bytes, offset: int) -> tuple[str, Fields]:
        try:
            return line_fields(raw)
        except ValueError as exc:  # reported, not skipped: its record would be lost to look-ups
            raise damaged(self.path, offset) from exc

    def forget(self) -> None:
        """The index was rewritten in this process: build the table again at the next look-up."""
        def empty(conn: sqlite3.Connection) -> None:
            self._own = None
            with _transaction(conn):
                conn.execute("DELETE FROM state")
                conn.execute("DELETE FROM lines")
        self._with_table(empty)

    # -- look-ups --------------------------------------------------------------------------

    def find(self, by: tuple[str, int], value: str) -> list[T]:
        """Every line found by ``value`` (``BY_ID``, ``BY_URL``, ``BY_DIGEST``, ``BY_FILE``), in
        the order of the file."""
        column, which = by
        for _ in range(2):
            try:
                return self._with_table(lambda conn: self._find(conn, column, which, value))
            except StaleLookup:
                self.forget()
                self.refresh()
        raise StaleLookup(f"the look-up table of {self.path} does not fit it")

    def _find(self, conn: sqlite3.Connection, column: str, which: int, value: str) -> list[T]:
        wanted = key(value)
        places = conn.execute(f"SELECT offset, length FROM lines WHERE {column} = ? "  # noqa: S608
                              "ORDER BY offset", (wanted,)).fetchall()
        mine = self._own.places[which].get(wanted) if self._own is not None else None
        if mine:  # another process may have put them in the table too
            places = sorted({*places, *mine})
        return list(self._read(places, which, value, wanted)) if places else []

    def _read(self, places: list[tuple[int, int]], which: int, value: str,
              wanted: int) -> Iterator[T]:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise StaleLookup(f"{self.path} is gone") from None
        with fh:
            for offset, length in places:
                fh.seek(offset)
                raw = fh.read(length)
                try:
                    timestamp, fields = line_fields(raw) if raw.endswith(b"\n") else ("", None)
                except ValueError:
                    timestamp, fields = "", None
                found = None if fields is None else _values(fields)[which]
                if found == value and fields is not None:
                    yield self._parse(timestamp, fields, offset)
                elif found is None or key(str(found)) != wanted:
                    raise StaleLookup(f"line at {offset} of {self.path}")


def _prepared(where: str) -> sqlite3.Connection:
    conn = sqlite3.connect(where, timeout=BUSY_SECONDS, isolation_level=None,
                           check_same_thread=False)
    try:
        # A table derived from the index: a power cut may take back its last rows (the state
        # row goes with them) or damage it, and then it is built again; no sync is worth it.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")  # a build's WAL is not kept
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        if _version(conn) != SCHEMA_VERSION:
            with _transaction(conn):
                if _version(conn) != SCHEMA_VERSION:  # another process may have just done it
                    _run(conn, "DROP TABLE IF EXISTS state; DROP TABLE IF EXISTS lines")
                    _run(conn, _TABLES + _INDEXES)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Statements one by one (``executescript`` would commit the transaction around them)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _current(conn: sqlite3.Connection, status: os.stat_result | None) -> bool:
    """Whether the table holds every complete line of the file as it is now."""
    row = _state_row(conn)
    if status is None:
        return row is None or row[1] == 0
    return row == (status.st_ino, status.st_size)


def _state_row(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The file (inode) the table was read from, and how far."""
    row = conn.execute("SELECT inode, read_to FROM state").fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _state(conn: sqlite3.Connection, path: Path,
           status: os.stat_result | None) -> tuple[int, bytes]:
    """Where to go on reading the file, and its last line read; from the start if the table
    does not fit the file (replaced, cut, or changed under its last line read)."""
    row = conn.execute("SELECT inode, read_to, last_line FROM state").fetchone()
    if row is None or status is None or row[0] != status.st_ino or row[1] > status.st_size:
        return 0, b""
    read_to, last = int(row[1]), bytes(row[2])
    if last:
        with open(path, "rb") as fh:
            fh.seek(read_to - len(last))
            if fh.read(len(last)) != last:
                return 0, b""
    return read_to, last


def _insert(conn: sqlite3.Connection, rows: list[Row]) -> None:
    conn.executemany("INSERT OR REPLACE INTO lines VALUES (?, ?, ?, ?, ?, ?)", rows)
    rows.clear()

