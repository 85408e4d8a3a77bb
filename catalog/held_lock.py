"""A lock held in the catalog's database for as long as a process lives (PostgreSQL only).

The scheduler must be alone on a catalog: two daemons on one catalog would each run every
account. On a catalog shared by several machines a lock file cannot say so, so the daemon holds
a PostgreSQL session advisory lock on a connection of its own: the server releases it when that
connection ends (the process exits, is killed, or its machine is cut off), so no stale lock is
left behind. The lock is named for the catalog's schema (several catalogs may share a database);
the holder's description is the connection's ``application_name``, which the refused process
reads back from ``pg_stat_activity``.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from catalog.db import Database
from catalog.errors import DatabaseError

_CLASS = 0x7765  # the first key of weidang's two-key advisory locks ("we")
_NAME_MAX = 63  # PostgreSQL keeps that many bytes of an application_name


class HeldLock:
    """``acquire`` once; held until ``release`` or the end of the process."""

    def __init__(self, db: Database, name: str) -> None:
        if db.dialect != "postgresql":
            raise DatabaseError(f"the catalog {db.name} is not on PostgreSQL: it holds no locks")
        self.db = db
        self.name = name
        self._conn: Connection | None = None

    def acquire(self, holder: str) -> bool:
        """Take the lock, describing its holder; False when another connection holds it."""
        try:
            conn = self.db.engine.connect()
            conn.execute(text("SELECT set_config('application_name', :n, false)"),
                         {"n": holder.encode()[:_NAME_MAX].decode(errors="ignore")})
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:c, :k)"),
                                 {"c": _CLASS, "k": self._key(conn)}).scalar_one()
            conn.commit()  # end the transaction the queries began; the session lock stays
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the catalog {self.db.name} cannot be locked ({exc})") from exc
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def holder(self) -> str:
        """Who holds the lock, as its connection described itself (or "unknown")."""
        try:
            with self.db.read() as conn:
                row = conn.execute(text(
                    "SELECT a.application_name, host(a.client_addr), a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database()) AND l.classid::bigint = :c AND l.objid::bigint = :k "
                    "AND l.objsubid = 2"), {"c": _CLASS, "k": self._key(conn)}).first()
        except (SQLAlchemyError, DatabaseError):
            return "unknown"
        if row is None:
            return "unknown"
        name, address, since = row
        where = f" from {address}" if address else ""
        return f"{name or 'a process'}{where}, connected {since:%Y-%m-%d %H:%M:%S %Z}".strip()

    def held(self) -> bool:
        """Whether the lock's connection still answers (the server drops the lock with it)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar_one()
            self._conn.commit()
        except SQLAlchemyError:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # the session ends, and its lock with it (not pooled)
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None

    def _key(self, conn: Connection) -> int:
        """The lock's second key: this lock's name in this catalog's schema."""
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        digest = hashlib.blake2b(f"{schema}\0{self.name}".encode(), digest_size=4).digest()
        return int.from_bytes(digest) & 0x7FFFFFFF
