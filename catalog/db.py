"""The catalog database: one SQLite file (``HOME/catalog.sqlite`` by default), migrated forward in code.

Every table is one of two kinds, and the kind decides how it is protected:

- **authoritative**: what only the archive knows and nothing else can recreate: the registered
  accounts (with their credentials *references*, never the secrets, and their schedules), the
  audit trail of their changes (``account_events``), and later the harvest run history and
  appraisal decisions. These must be backed up (``Database.backup``) and every change to them is
  logged as an event in the same transaction. Rows are never deleted (triggers refuse it): an
  account that is removed is marked inactive and keeps its history.
- **derived**: what the WARC files already hold: posts, their versions, media and post statuses
  (deleted, blocked). They are created by the crawler's migrations and are rebuilt from the WARCs
  alone (``weidang catalog rebuild``); after a crash a rerun repairs them. They may refer to
  ``accounts.id``, never the other way round, so rebuilding them never touches an authoritative
  row.

``schema_version`` holds one row per applied migration. A migration is a version number and a SQL
script, applied in its own transaction; a database newer than this code is refused rather than
guessed at. The connection runs in WAL mode (readers never block the daemon's writer) with
foreign keys on.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalog.errors import DatabaseError

AUTHORITATIVE_TABLES = ("accounts", "account_events")
DERIVED_TABLES: tuple[str, ...] = ()  # posts, versions, media, statuses: added with the crawler

# Triggers that make {table} append-only; the capture history in catalog.store uses them too.
APPEND_ONLY = """
CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
"""

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    credentials TEXT,                -- a NAME in credentials.toml or WEIDANG_CRED_<NAME>_*; never a secret
    source TEXT,                     -- listing source (WeChat: api, backend, feed, urls); NULL = inferred
    interval_seconds INTEGER CHECK (interval_seconds IS NULL OR interval_seconds > 0),
    cron TEXT,                       -- five-field crontab expression, China time
    jitter_seconds INTEGER CHECK (jitter_seconds IS NULL OR jitter_seconds >= 0),
    notes TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT,
    UNIQUE (platform, account_id),
    CHECK (interval_seconds IS NULL OR cron IS NULL)
);
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
BEGIN SELECT RAISE(ABORT, 'accounts are never deleted; mark them inactive'); END;
CREATE TABLE account_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    account TEXT NOT NULL,           -- platform:id
    action TEXT NOT NULL CHECK (action IN ('add', 'update', 'remove', 'restore')),
    changes TEXT NOT NULL,           -- JSON {field: [old, new]}
    via TEXT NOT NULL DEFAULT ''     -- e.g. "command line", "import accounts.csv"
);
CREATE INDEX account_events_by_account ON account_events (account, seq);
""" + APPEND_ONLY.format(table="account_events")),
]


class Database:
    """An open catalog. Use ``transaction()`` for every write so that a change and its event land together."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are begun explicitly, so none is left open by accident.
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(f"the catalog {self.path} cannot be opened ({exc})") from exc
        self.migrate()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; BEGIN IMMEDIATE takes the write lock up front, so no upgrade deadlock."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if not exists:
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def migrate(self, migrations: list[tuple[int, str]] | None = None) -> int:
        """Apply every migration newer than the database; returns the resulting version."""
        steps = sorted(MIGRATIONS if migrations is None else migrations)
        known = steps[-1][0] if steps else 0
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                         "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        current = self.schema_version()
        if current > known:
            raise DatabaseError(
                f"the catalog {self.path} was written by a newer weidang (schema {current}, this "
                f"one knows up to {known}); upgrade weidang before using it")
        for version, script in steps:
            if version <= current:
                continue
            with self.transaction() as conn:
                # executescript would COMMIT first; run the statements inside our transaction.
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?, ?)",
                             (version, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
            current = version
        return current

    def backup(self, destination: Path | str) -> None:
        """Copy the whole catalog consistently while it is in use (SQLite's online backup)."""
        target = sqlite3.connect(Path(destination))
        try:
            self.conn.backup(target)
        finally:
            target.close()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def open_catalog(path: Path | str) -> Database:
    """Open (creating and migrating if needed) the catalog at ``path``."""
    return Database(path)
