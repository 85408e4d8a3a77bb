"""The capture tables of the catalog: posts and what happened to them, and the harvest history.

They live in the same SQLite file as the account registry (``catalog.db``) but keep their own
schema versions, in ``catalog_schema`` (one row per part), so that they can evolve without
touching the registry's migrations:

- part ``derived``: posts, versions, media, statuses and captures. Everything in them comes from
  the metadata records of the WARC files (``catalog.metadata``), so they are not migrated: when
  this code knows a newer layout, the old tables are dropped, recreated empty and the catalog is
  marked as needing ``weidang catalog rebuild`` (``needs_rebuild``). They use natural keys only (no
  row counters), so a rebuild gives exactly the rows the harvests wrote, whatever order
  independent harvests ran in.
- part ``history``: runs, pauses, catalog_events, account_identities (the ids and names each
  account was first seen under: ``catalog.identity``) and backfills (where an account's backfill
  goes on: ``catalog.backfills``). Authoritative (nothing else knows them):
  migrated forward, never dropped, backed up with the rest of the file, and every change is
  logged in ``catalog_events`` in the same transaction.

A database whose parts are newer than this code is refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from catalog.db import APPEND_ONLY
from catalog.errors import DatabaseError
from harvesters.records import CATALOG_STATUSES

DERIVED_VERSION = 1
DERIVED_TABLES = ("posts", "versions", "media", "statuses", "captures")
AUTHORITATIVE_TABLES = ("runs", "pauses", "catalog_events", "account_identities", "backfills")

DERIVED_DDL = """
CREATE TABLE posts (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    account TEXT NOT NULL,               -- platform:id of the account that published it
    current_version INTEGER NOT NULL,
    first_captured TEXT NOT NULL,        -- UTC, ISO 8601
    last_captured TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN (%STATUSES%)),
    pinned INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,                   -- UTC, ISO 8601
    url TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX posts_by_account ON posts (account, published_at);
CREATE TABLE versions (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    outcome TEXT NOT NULL,               -- new | edited
    fingerprint TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    metadata_record_id TEXT NOT NULL UNIQUE,
    evidence TEXT NOT NULL,              -- JSON [{record_id, url, role, payload_digest, ...}]
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    post TEXT NOT NULL,                  -- Post.to_json(), as JSON
    PRIMARY KEY (platform, post_id, version)
);
CREATE TABLE media (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    media_id TEXT NOT NULL,
    record_id TEXT,                      -- the response (or revisit) holding the bytes, if fetched
    payload_digest TEXT,
    revisit_of TEXT,
    PRIMARY KEY (platform, post_id, version, position)
);
CREATE TABLE statuses (
    metadata_record_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence_record_id TEXT,             -- the platform's answer, in the WARC
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX statuses_by_post ON statuses (platform, post_id, at);
CREATE TABLE captures (
    metadata_record_id TEXT PRIMARY KEY, -- every post metadata record applied, whatever its outcome
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    pinned INTEGER NOT NULL
);
CREATE INDEX captures_by_post ON captures (platform, post_id, captured_at);
""".replace("%STATUSES%", ", ".join(f"'{s}'" for s in CATALOG_STATUSES))


HISTORY_MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,             -- the harvest id written into the WARC records
    account TEXT NOT NULL,               -- platform:id
    kind TEXT NOT NULL CHECK (kind IN ('harvest', 'full', 'recheck')),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'partial', 'failed', 'stopped')),
    reason TEXT NOT NULL DEFAULT '',
    advice TEXT NOT NULL DEFAULT '',
    posts_new INTEGER NOT NULL DEFAULT 0,
    posts_edited INTEGER NOT NULL DEFAULT 0,
    posts_unchanged INTEGER NOT NULL DEFAULT 0,
    posts_deleted INTEGER NOT NULL DEFAULT 0,
    bytes_written INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    reported_total INTEGER,              -- what the platform says the account holds
    captured_total INTEGER               -- posts of the account in the catalog after the run
);
CREATE INDEX runs_by_account ON runs (account, started_at);
CREATE TRIGGER runs_never_deleted BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'the run history is never deleted'); END;
CREATE TABLE pauses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,                 -- platform:weibo | login:<credentials ref> | weibo:<id>
    reason TEXT NOT NULL,
    advice TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL,
    until TEXT,                          -- NULL: until cleared by hand
    cleared_at TEXT,
    run_id TEXT                          -- the harvest that ran into it, if any
);
CREATE INDEX pauses_by_scope ON pauses (scope, cleared_at);
CREATE TRIGGER pauses_never_deleted BEFORE DELETE ON pauses
BEGIN SELECT RAISE(ABORT, 'pauses are never deleted; clear them'); END;
CREATE TABLE catalog_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    subject TEXT NOT NULL,               -- a run id or a pause scope
    action TEXT NOT NULL,
    details TEXT NOT NULL                -- JSON
);
CREATE INDEX catalog_events_by_subject ON catalog_events (subject, seq);
""" + APPEND_ONLY.format(table="catalog_events")),
    (2, """
CREATE TABLE account_identities (
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,            -- the id its posts are stored under (WeChat: the __biz)
    kind TEXT NOT NULL CHECK (kind IN ('user_name', 'name')),
    value TEXT NOT NULL,                 -- user_name: WeChat's gh_ id; name: the name shown
    first_seen TEXT NOT NULL,            -- UTC, ISO 8601: the capture that showed it first
    harvest_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, kind, value, account_id)
);
CREATE INDEX account_identities_by_account ON account_identities (platform, account_id);
""" + APPEND_ONLY.format(table="account_identities") + """
INSERT OR IGNORE INTO account_identities
SELECT platform, json_extract(post, '$.account_id'), 'user_name',
       json_extract(post, '$.extras.user_name'), MIN(captured_at), harvest_id
FROM versions WHERE platform = 'wechat' AND json_extract(post, '$.extras.user_name') LIKE 'gh!_%'
     ESCAPE '!' AND COALESCE(json_extract(post, '$.account_id'), '') != ''
GROUP BY 1, 2, 4;
INSERT OR IGNORE INTO account_identities
SELECT platform, json_extract(post, '$.account_id'), 'name', json_extract(post, '$.account_name'),
       MIN(captured_at), harvest_id
FROM versions WHERE COALESCE(json_extract(post, '$.account_name'), '') != ''
     AND COALESCE(json_extract(post, '$.account_id'), '') != ''
GROUP BY 1, 2, 4;
"""),
    (3, """
CREATE TABLE backfills (
    account TEXT PRIMARY KEY,            -- platform:id
    origin_run_id TEXT NOT NULL,         -- the run that began it from the top of the listing
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,                    -- NULL: it goes on at the account's next harvest
    cursor TEXT,                         -- JSON: where the listing continues (no login in it)
    pages INTEGER NOT NULL DEFAULT 0,    -- listing pages it has walked, over all its runs
    runs INTEGER NOT NULL DEFAULT 0,
    last_run_id TEXT
);
CREATE TRIGGER backfills_never_deleted BEFORE DELETE ON backfills
BEGIN SELECT RAISE(ABORT, 'backfill progress is never deleted; restart it with --full'); END;
"""),
]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: one format everywhere, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError(f"a time without a time zone cannot be catalogued ({moment.isoformat()})")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write; nested in a caller's transaction (a rebuild, a batch) as a savepoint."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT catalog_write")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO catalog_write")
            conn.execute("RELEASE catalog_write")
            raise
        conn.execute("RELEASE catalog_write")
        return
    # BEGIN IMMEDIATE takes the write lock up front: no deadlock upgrading a read lock.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _part_version(conn: sqlite3.Connection, part: str) -> int | None:
    row = conn.execute("SELECT version FROM catalog_schema WHERE part = ?", (part,)).fetchone()
    return int(row[0]) if row else None


def _set_part(conn: sqlite3.Connection, part: str, version: int) -> None:
    conn.execute("INSERT INTO catalog_schema (part, version, applied_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (part) DO UPDATE SET version = excluded.version, "
                 "applied_at = excluded.applied_at", (part, version, iso(utc_now())))


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create or bring forward the capture tables (cheap when they are current)."""
    try:
        with write(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS catalog_schema (part TEXT PRIMARY KEY, "
                         "version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
            derived = _part_version(conn, "derived")
            history = _part_version(conn, "history") or 0
            known_history = max(v for v, _ in HISTORY_MIGRATIONS)
            if (derived or 0) > DERIVED_VERSION or history > known_history:
                raise DatabaseError(
                    "the catalog was written by a newer weidang (its post or run tables are of a "
                    "later layout); upgrade weidang before using it")
            if derived is None or derived < DERIVED_VERSION:
                create_derived(conn)
                _set_part(conn, "derived", DERIVED_VERSION)
                if derived is not None:  # an older layout was dropped: its rows come from the WARCs
                    _set_part(conn, "needs_rebuild", 1)
            for version, script in sorted(HISTORY_MIGRATIONS):
                if version > history:
                    _run_script(conn, script)
                    _set_part(conn, "history", version)
    except sqlite3.Error as exc:
        raise DatabaseError(f"the catalog's post and run tables cannot be prepared ({exc})") from exc


def create_derived(conn: sqlite3.Connection) -> None:
    """Drop the derived tables (if any) and create them empty, inside the caller's transaction."""
    for table in DERIVED_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    _run_script(conn, DERIVED_DDL)
    # Row numbers start again in the new tables: whoever follows them by row (the search index)
    # sees by the generation that its place in the old ones means nothing now.
    _set_part(conn, "derived_generation", derived_generation(conn) + 1)


def derived_generation(conn: sqlite3.Connection) -> int:
    """How many times the derived tables were (re)created; 0 before the first time."""
    return _part_version(conn, "derived_generation") or 0


def needs_rebuild(conn: sqlite3.Connection) -> bool:
    return bool(_part_version(conn, "needs_rebuild"))


def mark_rebuilt(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM catalog_schema WHERE part = 'needs_rebuild'")


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript would COMMIT first; run the statements one by one inside our transaction.
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                conn.execute(pending)
            pending = ""
    if pending.strip():
        conn.execute(pending)
