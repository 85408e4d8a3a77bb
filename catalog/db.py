"""The catalog database: SQLite in the home by default, PostgreSQL by URL, the same code on both.

``Database`` opens it (``CATALOG_URL``, else the SQLite file ``CATALOG_DB_FILE`` in the home)
and brings it to this code's schema once (``catalog.schema``). Then:

- ``write()``: one atomic write, so that a change and its event land together. It takes the
  write lock up front (SQLite: ``BEGIN IMMEDIATE``, no deadlock upgrading a read lock;
  PostgreSQL: an advisory lock), so writers take turns; a write inside a write (a batch, a
  rebuild) is a savepoint of the outer one.
- ``read()``: a consistent read that takes no write lock, so that ``weidang status`` or a
  search runs while a harvest writes. Inside a write it reads the writer's own rows.

SQLite runs in WAL mode (readers never block the writer) with foreign keys on and
``synchronous=NORMAL``. The backup is SQLite's online backup (``backup``); a catalog on
PostgreSQL is backed up with ``pg_dump``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from catalog.errors import DatabaseError
from catalog.schema import is_current, upgrade

_WRITE = "catalog_write"  # the execution option that makes SQLite's BEGIN an IMMEDIATE one
_WRITE_LOCK = 2718281828  # PostgreSQL's advisory lock standing for SQLite's write lock


def catalog_url(target: Path | str) -> URL:
    """A database URL (``sqlite:///…``, ``postgresql+psycopg://…``) or a SQLite file's path."""
    if isinstance(target, str) and "://" in target:
        try:
            return make_url(target)
        except ArgumentError as exc:
            raise DatabaseError(f"the catalog address {target!r} is not a database URL ({exc})") from None
    return URL.create("sqlite", database=str(target))


class Database:
    """An open catalog: ``write()`` for every change, ``read()`` for everything else."""

    def __init__(self, target: Path | str, wait_seconds: float = 0.0,
                 tell: Callable[[str], None] | None = None) -> None:
        """``wait_seconds``: how long a connection is retried while a catalog on a server cannot
        be reached (a harvest or the daemon waits out a short outage; a command fails at once);
        ``tell`` hears when the waiting begins and ends."""
        self.url = catalog_url(target)
        self.name = _shown(self.url)
        self._local = threading.local()
        self.wait_seconds = wait_seconds
        self.tell = tell
        try:
            self.engine = _engine(self.url)
            with self.read() as conn:
                current = is_current(conn)
            if not current:
                with self.write() as conn:
                    upgrade(conn, self.name)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the catalog {self.name} cannot be opened ({_reason(exc)})") from exc
        except (OSError, ModuleNotFoundError) as exc:
            raise DatabaseError(f"the catalog {self.name} cannot be opened ({exc})") from exc

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a catalog on a server."""
        database = self.url.database
        return Path(database) if self.dialect == "sqlite" and database not in (None, "", ":memory:") \
            else None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One atomic write; inside another write, a savepoint of it."""
        outer: Connection | None = getattr(self._local, "conn", None)
        if outer is not None:
            with outer.begin_nested():
                yield outer
            return
        with self._plain_errors(), self._connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    # One writer at a time, as on SQLite: row numbers (seq) are then given in
                    # commit order, so a reader following them never passes one still to come;
                    # and two processes opening a new catalog do not both create it.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK})
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read that takes no write lock (inside a write: the write's own connection)."""
        outer: Connection | None = getattr(self._local, "conn", None)
        if outer is not None:
            yield outer
            return
        with self._plain_errors(), self._connect() as conn:
            yield conn

    def _connect(self) -> Connection:
        """A connection; a server that cannot be reached is asked again for ``wait_seconds``
        (a transaction already under way when the server goes is not: it fails whole)."""
        deadline = time.monotonic() + self.wait_seconds
        pause, told = 0.5, False
        while True:
            try:
                conn = self.engine.connect()
            except OperationalError as exc:
                if self.dialect == "sqlite" or time.monotonic() + pause > deadline:
                    raise
                if not told and self.tell is not None:
                    self.tell(f"the catalog {self.name} cannot be reached ({_reason(exc)}); "
                              f"waiting up to {self.wait_seconds:.0f} s for it")
                told = True
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
                continue
            if told and self.tell is not None:
                self.tell(f"the catalog {self.name} answers again")
            return conn

    @contextmanager
    def _plain_errors(self) -> Iterator[None]:
        """A database that cannot be reached, is locked or broken: one sentence naming it."""
        try:
            yield
        except OperationalError as exc:
            raise DatabaseError(f"the catalog {self.name} cannot be used ({_reason(exc)})") from exc

    def backup(self, destination: Path | str) -> None:
        """Copy the whole catalog consistently while it is in use (SQLite's online backup)."""
        if self.path is None:
            raise DatabaseError(f"the catalog {self.name} is on a database server; back it up with "
                                "that server's own tools (pg_dump for PostgreSQL)")
        source = sqlite3.connect(self.path)
        target = sqlite3.connect(Path(destination))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_catalog(target: Path | str, wait_seconds: float = 0.0,
                 tell: Callable[[str], None] | None = None) -> Database:
    """Open (creating and upgrading if needed) the catalog at a path or URL."""
    return Database(target, wait_seconds, tell)


def _engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
    else:  # one connection, or every connection would be a database of its own
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling is off: SQLAlchemy's begin event says BEGIN, so that
    # savepoints work and a write can take its lock up front (SQLAlchemy's pysqlite recipe).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _shown(url: URL) -> str:
    """The database named for the archivist: a file's path, or the URL without its password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original or exc).strip().splitlines()[0]
