"""The catalog's one schema: every table, how it is brought forward, and the one timestamp format.

Every table is one of two kinds, and the kind decides how it is protected and upgraded:

- **authoritative**: what only the archive knows and nothing else can recreate: the registered
  accounts (credentials *references*, never secrets; schedules) and the audit trail of their
  changes (``account_events``), the harvest runs, pauses and their events (``catalog_events``),
  the ids and names each account was seen under (``account_identities``) and where each
  backfill goes on (``backfills``), and appraisal: each decision (``appraisals``), the 档号
  given (``archival_codes``), each account's codes for them (``account_archive_codes``) and the
  topics (``topics``, ``topic_members``), what is open to other archives (``open_marks``)
  and the transfer packages written (``transfers``).
  They are brought forward by ``MIGRATIONS``, an ordered list applied once each, never dropped,
  and must be backed up. Rows are never deleted, and the event
  and identity tables are append-only: triggers refuse it, on SQLite and on PostgreSQL alike.
- **derived**: what the WARC files already hold: posts, their versions, media, status events,
  captures, and the comments read from archived comment answers (``catalog.comments``). They
  carry one layout number, ``DERIVED_LAYOUT``: a catalog with another layout has them dropped,
  recreated empty and marked as needing ``weidang catalog rebuild`` (``needs_rebuild``); only
  layout 1 (SQLite, before ``seq``) is carried over row by row, and layout 2 keeps its rows
  (layout 3 only adds ``comments``, which no harvest asked for before it). Their rows use natural keys;
  ``captures`` and ``statuses`` also number their rows (``seq``) so that the search index can
  follow them, a number that means nothing across a rebuild (the derived generation says so).

``catalog_schema`` keeps the bookkeeping: the migrations applied, the derived layout, the derived
generation and the rebuild mark. Both kinds are prepared once, when the database is opened
(``upgrade``); a catalog newer than this code is refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)

from catalog.errors import DatabaseError
from harvesters.records import CATALOG_STATUSES

# 2: captures and statuses number their rows (seq), on every database; 3: comments
DERIVED_LAYOUT = 3
DERIVED_TABLES = ("posts", "versions", "media", "statuses", "captures", "comments")
_LAYOUT_1_TABLES = DERIVED_TABLES[:5]
AUTHORITATIVE_TABLES = ("accounts", "account_events", "runs", "pauses", "catalog_events",
                        "account_identities", "backfills", "appraisals", "archival_codes",
                        "account_archive_codes", "topics", "topic_members", "users",
                        "user_events", "transfers")

# Byte order on PostgreSQL as on SQLite: ISO times and ids compare as text, the same everywhere.
TEXT = Text().with_variant(Text(collation="C"), "postgresql")
# A row counter: SQLite's INTEGER PRIMARY KEY (the rowid), PostgreSQL's bigint identity.
SEQ = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _col(name: str, nullable: bool = False, default: str | int | None = None) -> Column[Any]:
    kind = Integer if isinstance(default, int) else TEXT
    server = None if default is None else text(repr(default) if isinstance(default, str) else str(default))
    return Column(name, kind, nullable=nullable, server_default=server)


def _int(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, Integer, nullable=nullable)


def _text(name: str) -> Column[Any]:
    return Column(name, TEXT, nullable=True)


accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    _col("platform"), _col("account_id"), _col("name", default=""),
    _text("credentials"),  # a NAME in credentials.toml or WEIDANG_CRED_<NAME>_*; never a secret
    _text("source"),  # listing source (WeChat: api, backend, feed, urls); NULL = inferred
    _int("interval_seconds"), _text("cron"), _int("jitter_seconds"), _col("notes", default=""),
    _col("active", default=1), _col("created_at"), _col("updated_at"), _text("removed_at"),
    _int("browser"),  # 0: never render its posts' pages in Chromium; NULL or 1: as the settings say
    _int("comments"),  # 1: its new posts' comments are asked for and archived; NULL or 0: not
    UniqueConstraint("platform", "account_id"),
    CheckConstraint("interval_seconds IS NULL OR interval_seconds > 0"),
    CheckConstraint("jitter_seconds IS NULL OR jitter_seconds >= 0"),
    CheckConstraint("active IN (0, 1)"),
    CheckConstraint("interval_seconds IS NULL OR cron IS NULL"),
)
account_events = Table(
    "account_events", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("at"), _col("actor"), _col("account"), _col("action"),
    _col("changes"),  # JSON {field: [old, new]}
    _col("via", default=""),  # e.g. "command line", "import accounts.csv"
    CheckConstraint("action IN ('add', 'update', 'remove', 'restore')"),
    Index("account_events_by_account", "account", "seq"),
    sqlite_autoincrement=True,
)
runs = Table(
    "runs", metadata,
    Column("run_id", TEXT, primary_key=True),  # the harvest id written into the WARC records
    _col("account"), _col("kind"), _col("started_at"), _text("ended_at"), _text("outcome"),
    _col("reason", default=""), _col("advice", default=""),
    *(_col(name, default=0) for name in ("posts_new", "posts_edited", "posts_unchanged",
                                         "posts_deleted", "bytes_written", "requests", "errors")),
    _int("reported_total"),  # what the platform says the account holds
    _int("captured_total"),  # posts of the account in the catalog after the run
    CheckConstraint("kind IN ('harvest', 'full', 'recheck')"),
    CheckConstraint("outcome IS NULL OR outcome IN ('ok', 'partial', 'failed', 'stopped')"),
    Index("runs_by_account", "account", "started_at"),
)
pauses = Table(
    "pauses", metadata,
    Column("id", SEQ, primary_key=True, autoincrement=True),
    _col("scope"),  # platform:weibo | login:<credentials ref> | weibo:<id>
    _col("reason"), _col("advice", default=""), _col("since"),
    _text("until"),  # NULL: until cleared by hand
    _text("cleared_at"), _text("run_id"),
    Index("pauses_by_scope", "scope", "cleared_at"),
    sqlite_autoincrement=True,
)
catalog_events = Table(
    "catalog_events", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("at"), _col("subject"), _col("action"), _col("details"),  # subject: a run id or a scope
    Index("catalog_events_by_subject", "subject", "seq"),
    sqlite_autoincrement=True,
)
account_identities = Table(
    "account_identities", metadata,
    _col("platform"), _col("account_id"),  # the id its posts are stored under (WeChat: the __biz)
    _col("kind"), _col("value"),  # user_name: WeChat's gh_ id; name: the name shown
    _col("first_seen"), _col("harvest_id", default=""),
    PrimaryKeyConstraint("platform", "kind", "value", "account_id"),
    CheckConstraint("kind IN ('user_name', 'name')"),
    Index("account_identities_by_account", "platform", "account_id"),
)
backfills = Table(
    "backfills", metadata,
    Column("account", TEXT, primary_key=True),
    _col("origin_run_id"),  # the run that began it from the top of the listing
    _col("started_at"), _col("updated_at"),
    _text("finished_at"),  # NULL: it goes on at the account's next harvest
    _text("cursor"),  # JSON: where the listing continues (no login in it)
    _col("pages", default=0), _col("runs", default=0), _text("last_run_id"),
)

# Appraisal (鉴定): each decision a row, never changed; the current one is the latest per post.
RETENTION_CODES = {"永久": "Y", "定期30年": "D30", "定期10年": "D10"}  # DA/T 22-2015
_RETENTIONS = ", ".join(f"'{r}'" for r in RETENTION_CODES)
appraisals = Table(
    "appraisals", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("platform"), _col("post_id"), _col("decision"), _col("retention"),
    _col("reason", default=""), _col("classification", default=""), _col("reviewer"), _col("at"),
    _text("code"),  # the 档号 a keep gave or kept; NULL for a discard
    _col("collection"),  # whose event log holds the decision's event
    _int("event_seq", nullable=False), _col("event_hash"),  # that event, for the audit to match
    CheckConstraint("decision IN ('keep', 'discard')"),
    CheckConstraint(f"retention IN ({_RETENTIONS})"),
    CheckConstraint("decision = 'keep' OR length(reason) > 0"),
    Index("appraisals_by_post", "platform", "post_id", "seq"),
    sqlite_autoincrement=True,
)
# 档号 (DA/T 22-2015): given once, never reused; item numbers follow each other within a group.
archival_codes = Table(
    "archival_codes", metadata,
    Column("code", TEXT, primary_key=True),
    _col("grouping"),  # the code less its item number: 全宗号-门类代码·年度-保管期限-机构代码
    _int("item", nullable=False), _col("platform"), _col("post_id"), _col("assigned_at"),
    UniqueConstraint("grouping", "item"),
    CheckConstraint("item > 0"),
    Index("archival_codes_by_post", "platform", "post_id"),
)
# Per account: the fonds, category and unit codes its posts' 档号 use (latest row wins).
account_archive_codes = Table(
    "account_archive_codes", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("account"), _col("fonds"), _col("category"), _col("unit"), _col("at"), _col("actor"),
    Index("account_archive_codes_by_account", "account", "seq"),
    sqlite_autoincrement=True,
)
# 专题: a named selection, by a saved search (query JSON) or by hand (its members).
topics = Table(
    "topics", metadata,
    Column("name", TEXT, primary_key=True),
    _col("kind"), _col("query", default=""), _col("description", default=""),
    _col("created_at"), _col("created_by"),
    CheckConstraint("kind IN ('search', 'list')"),
)
topic_members = Table(
    "topic_members", metadata,
    _col("topic"), _col("platform"), _col("post_id"), _col("added_at"), _col("added_by"),
    PrimaryKeyConstraint("topic", "platform", "post_id"),
)

# The people who may use the web interface (catalog/users.py): never deleted, only disabled.
users = Table(
    "users", metadata,
    Column("name", TEXT, primary_key=True),  # a login name: lower-case, never changed
    _col("role"), _col("display_name", default=""),
    _col("password_hash"),  # argon2id, with its salt and cost; never shown
    Column("disabled", Boolean, nullable=False, default=False),
    _col("created_at"), _col("password_changed_at"),
)
user_events = Table(
    "user_events", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("at"), _col("actor"), _col("user"), _col("action"),
    _col("details"),  # JSON, never password material
    sqlite_autoincrement=True,
)

# What other archives may read (the JSON API and OAI-PMH, catalog/open_access.py): each row an
# administrator's decision to open or close an account's posts or one post, never changed; the
# latest row per subject is in force, and the rows are the decisions' history.
open_marks = Table(
    "open_marks", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("kind"), _col("platform"), _col("subject_id"),  # an account id or a post id
    Column("open", Boolean, nullable=False), _col("reason", default=""), _col("actor"), _col("at"),
    CheckConstraint("kind IN ('account', 'post')"),
    Index("open_marks_by_subject", "kind", "platform", "subject_id", "seq"),
    sqlite_autoincrement=True,
)

# 移交: each transfer package written, never changed (catalog/transfer/record.py).
transfers = Table(
    "transfers", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    _col("transfer_id"),  # the package's id, also in its bag-info.txt (External-Identifier)
    _col("created_at"), _col("actor"), _col("selection"),  # selection: what was asked, in words
    _col("folder"),  # where the package was written
    _int("items", nullable=False), Column("payload_bytes", BigInteger, nullable=False),
    _col("payload_sha256"),  # SHA-256 of manifest-sha256.txt: the package digest on the form
    _col("demo", default=0), _col("posts"),  # posts: JSON [[platform, post_id, 档号], ...]
    _col("events"),  # JSON {collection: [event number, event hash]} of the transfer events
    UniqueConstraint("transfer_id"),
    CheckConstraint("demo IN (0, 1)"),
    sqlite_autoincrement=True,
)

_STATUSES = ", ".join(f"'{s}'" for s in CATALOG_STATUSES)
posts = Table(
    "posts", metadata,
    _col("platform"), _col("post_id"), _col("account"), _col("current_version", default=0),
    _col("first_captured"), _col("last_captured"), _col("status"), _col("pinned", default=0),
    _text("published_at"), _col("url", default=""),
    PrimaryKeyConstraint("platform", "post_id"),
    CheckConstraint(f"status IN ({_STATUSES})"),
    Index("posts_by_account", "account", "published_at"),
)
versions = Table(
    "versions", metadata,
    _col("platform"), _col("post_id"), _col("version", default=0), _col("outcome"),
    _col("fingerprint"), _col("captured_at"), _col("harvest_id"), _col("collection"),
    Column("metadata_record_id", TEXT, nullable=False, unique=True),
    _col("evidence"),  # JSON [{record_id, url, role, payload_digest, ...}]
    _col("title"), _col("text"), _col("post"),  # post: Post.to_json(), as JSON
    PrimaryKeyConstraint("platform", "post_id", "version"),
    Index("versions_by_harvest", "harvest_id"),
)
media = Table(
    "media", metadata,
    _col("platform"), _col("post_id"), _col("version", default=0), _col("position", default=0),
    _col("kind"), _col("url"), _col("media_id"),
    _text("record_id"),  # the response (or revisit) holding the bytes, if fetched
    _text("payload_digest"), _text("revisit_of"),
    PrimaryKeyConstraint("platform", "post_id", "version", "position"),
)
statuses = Table(
    "statuses", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("metadata_record_id", TEXT, nullable=False, unique=True),
    _col("platform"), _col("post_id"), _col("status"), _col("reason"),
    _text("evidence_record_id"),  # the platform's answer, in the WARC
    _col("harvest_id"), _col("collection"), _col("at"),
    Index("statuses_by_post", "platform", "post_id", "at"),
    sqlite_autoincrement=True,
)
captures = Table(
    "captures", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    # every post metadata record applied, whatever its outcome
    Column("metadata_record_id", TEXT, nullable=False, unique=True),
    _col("platform"), _col("post_id"), _col("version", default=0), _col("outcome"),
    _col("captured_at"), _col("harvest_id"), _col("collection"), _col("pinned", default=0),
    Index("captures_by_post", "platform", "post_id", "captured_at"),
    sqlite_autoincrement=True,
)
comments = Table(
    "comments", metadata,
    _col("platform"), _col("post_id"), _col("comment_id"),
    _col("reply_to", default=""),  # the comment this one answers ("" for a comment on the post)
    _col("author_id", default=""), _col("author_name", default=""), _col("text", default=""),
    _text("published_at"), _int("likes"),
    _col("record_id"),  # the response holding the answer it was read from (never a revisit)
    _col("collection"),
    _col("comment"),  # Comment.to_json() without its replies, as JSON
    PrimaryKeyConstraint("platform", "post_id", "comment_id"),
)
catalog_schema = Table(
    "catalog_schema", metadata,
    Column("part", TEXT, primary_key=True),  # migrations | derived | derived_generation | needs_rebuild
    _col("version", default=0), _col("applied_at"),
)


# -- time ------------------------------------------------------------------------------------
def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: one format in every table, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError(f"a time without a time zone cannot be catalogued ({moment.isoformat()})")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- writing helpers both databases understand -------------------------------------------------
def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> int:
    """Insert a row unless one with the same key exists; returns 1 if inserted, else 0."""
    # Counted by what comes back: a driver's rowcount is -1 for statements that return rows.
    statement = _insert_ignore_statement(conn.dialect.name, table)
    return len(conn.execute(statement, dict(values)).all())


def insert_ignore_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert each row whose key is not held yet (one statement for them all)."""
    if rows:
        conn.execute(_insert_ignore_many_statement(conn.dialect.name, table), list(rows))


def upsert(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str],
           updates: Mapping[str, Any] | None = None) -> None:
    """Insert a row, or set its other columns (or ``updates``) when its ``keys`` exist."""
    if updates is None:  # the usual case, once per post recorded: one statement per shape
        statement = _upsert_statement(conn.dialect.name, table, tuple(values), tuple(keys))
        conn.execute(statement, dict(values))
        return
    statement = _insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=dict(updates)))


# Built once per shape and reused: building a statement (and its cache key) for every row cost
# more CPU than running it, in a harvest that records thousands of posts.
# The row's values are the execution's parameters, so the statement's columns are theirs.
@functools.lru_cache(maxsize=64)
def _insert_ignore_statement(dialect: str, table: Table) -> Any:
    key = next(iter(table.primary_key.columns))
    return _dialect_insert(dialect, table).on_conflict_do_nothing().returning(key)


@functools.lru_cache(maxsize=64)
def _insert_ignore_many_statement(dialect: str, table: Table) -> Any:
    return _dialect_insert(dialect, table).on_conflict_do_nothing()


@functools.lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]) -> Any:
    statement = _dialect_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={n: statement.excluded[n] for n in names if n not in keys})


def _insert(conn: Connection, table: Table) -> Any:
    return _dialect_insert(conn.dialect.name, table)


def _dialect_insert(dialect: str, table: Table) -> Any:
    # Imported here: a command that only reads loads neither dialect's insert.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert  # noqa: PLC0415

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

    return sqlite_insert(table)


# -- guards: rows never deleted, tables append-only --------------------------------------------
def _refuse(conn: Connection, table: str, name: str, operation: str, message: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                          f"EXECUTE FUNCTION catalog_refuse('{message}')"))
        if operation == "DELETE":  # TRUNCATE passes row triggers by
            conn.execute(text(f"CREATE TRIGGER {name}_truncate BEFORE TRUNCATE ON {table} "
                              f"FOR EACH STATEMENT EXECUTE FUNCTION catalog_refuse('{message}')"))
    else:
        conn.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                          f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))


def never_deleted(conn: Connection, table: str, message: str) -> None:
    _refuse(conn, table, f"{table}_never_deleted", "DELETE", message)


def append_only(conn: Connection, table: str) -> None:
    for operation in ("UPDATE", "DELETE"):
        _refuse(conn, table, f"{table}_append_only_{operation.lower()}", operation,
                f"{table} is append-only")


def _refusal_function(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("CREATE OR REPLACE FUNCTION catalog_refuse() RETURNS trigger "
                          "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0] "
                          "USING ERRCODE = 'integrity_constraint_violation'; END $$"))


# -- the migrations of the authoritative tables ----------------------------------------------------
def _accounts(conn: Connection) -> None:
    _refusal_function(conn)
    accounts.create(conn)
    never_deleted(conn, "accounts", "accounts are never deleted; mark them inactive")
    account_events.create(conn)
    append_only(conn, "account_events")


def _history(conn: Connection) -> None:
    runs.create(conn)
    never_deleted(conn, "runs", "the run history is never deleted")
    pauses.create(conn)
    never_deleted(conn, "pauses", "pauses are never deleted; clear them")
    catalog_events.create(conn)
    append_only(conn, "catalog_events")


def _identities(conn: Connection) -> None:
    account_identities.create(conn)
    append_only(conn, "account_identities")


def _backfills(conn: Connection) -> None:
    backfills.create(conn)
    never_deleted(conn, "backfills", "backfill progress is never deleted; restart it with --full")


def _one_time_format(conn: Connection) -> None:
    """Account times written by weidang before this schema lacked microseconds (SQLite only)."""
    if conn.dialect.name != "sqlite":
        return
    short = "length({c}) = 20 AND {c} LIKE '%Z'"
    widen = "{c} = substr({c}, 1, 19) || '.000000Z'"
    for column in ("created_at", "updated_at", "removed_at"):
        conn.execute(text(f"UPDATE accounts SET {widen.format(c=column)} "
                          f"WHERE {short.format(c=column)}"))
    # The event log is append-only; its guard steps aside for this one rewrite of its times.
    for operation in ("update", "delete"):
        conn.execute(text(f"DROP TRIGGER IF EXISTS account_events_append_only_{operation}"))
    conn.execute(text(f"UPDATE account_events SET {widen.format(c='at')} "
                      f"WHERE {short.format(c='at')}"))
    append_only(conn, "account_events")


def _appraisal(conn: Connection) -> None:
    for table in (appraisals, archival_codes, account_archive_codes, topics, topic_members):
        table.create(conn)
        append_only(conn, table.name)


def _users(conn: Connection) -> None:
    users.create(conn)
    never_deleted(conn, "users", "users are never deleted; disable them")
    user_events.create(conn)
    append_only(conn, "user_events")


def _open_marks(conn: Connection) -> None:
    open_marks.create(conn)
    append_only(conn, "open_marks")


def _transfers(conn: Connection) -> None:
    transfers.create(conn)
    append_only(conn, "transfers")


def _account_browser(conn: Connection) -> None:
    """The per-account browser switch (a catalog made since has it from ``_accounts``)."""
    if "browser" not in {c["name"] for c in inspect(conn).get_columns("accounts")}:
        conn.execute(text("ALTER TABLE accounts ADD COLUMN browser INTEGER"))


def _account_comments(conn: Connection) -> None:
    """The per-account comments switch (a catalog made since has it from ``_accounts``)."""
    if "comments" not in {c["name"] for c in inspect(conn).get_columns("accounts")}:
        conn.execute(text("ALTER TABLE accounts ADD COLUMN comments INTEGER"))


Migration = tuple[int, str, Callable[[Connection], None]]
MIGRATIONS: list[Migration] = [
    (1, "accounts and their events", _accounts),
    (2, "runs, pauses and catalog events", _history),
    (3, "account identities", _identities),
    (4, "backfills", _backfills),
    (5, "one timestamp format", _one_time_format),
    (6, "appraisal, archival codes (档号) and topics (专题)", _appraisal),
    (7, "users of the web interface and their events", _users),
    (8, "what is open to other archives (open_marks)", _open_marks),
    (9, "transfer packages (移交)", _transfers),
    (10, "a browser capture switch per account", _account_browser),
    (11, "a comments switch per account", _account_comments),
]


def _identities_seen_before(conn: Connection) -> None:
    """A catalog of weidang before identities had its posts' names and ids only in ``versions``
    (an old SQLite catalog only: its JSON is read with SQLite's own functions)."""
    if conn.dialect.name != "sqlite" or not inspect(conn).has_table("versions"):
        return
    post = "json_extract(post, '$.{}')"
    has_id = f"COALESCE({post.format('account_id')}, '') != ''"
    conn.execute(text(
        f"INSERT OR IGNORE INTO account_identities SELECT platform, {post.format('account_id')}, "
        f"'user_name', {post.format('extras.user_name')}, MIN(captured_at), harvest_id "
        f"FROM versions WHERE platform = 'wechat' AND {post.format('extras.user_name')} "
        f"LIKE 'gh!_%' ESCAPE '!' AND {has_id} GROUP BY 1, 2, 4"))
    conn.execute(text(
        f"INSERT OR IGNORE INTO account_identities SELECT platform, {post.format('account_id')}, "
        f"'name', {post.format('account_name')}, MIN(captured_at), harvest_id FROM versions "
        f"WHERE COALESCE({post.format('account_name')}, '') != '' AND {has_id} GROUP BY 1, 2, 4"))


# -- bookkeeping -----------------------------------------------------------------------------------
def _parts(conn: Connection) -> dict[str, int]:
    if not inspect(conn).has_table("catalog_schema"):
        return {}
    rows = conn.execute(select(catalog_schema.c.part, catalog_schema.c.version))
    return {str(part): int(version) for part, version in rows}


def _set_part(conn: Connection, part: str, version: int) -> None:
    upsert(conn, catalog_schema, {"part": part, "version": version, "applied_at": iso(utc_now())},
           keys=("part",))


def derived_generation(conn: Connection) -> int:
    """How many times the derived tables were (re)created; 0 before the first time."""
    return _parts(conn).get("derived_generation", 0)


def needs_rebuild(conn: Connection) -> bool:
    """Whether the derived tables were recreated empty for a new layout and wait for a rebuild."""
    return bool(_parts(conn).get("needs_rebuild"))


def mark_rebuilt(conn: Connection) -> None:
    conn.execute(catalog_schema.delete().where(catalog_schema.c.part == "needs_rebuild"))


def create_derived(conn: Connection) -> None:
    """Drop the derived tables (if any) and create them empty, inside the caller's transaction."""
    for name in DERIVED_TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    for name in DERIVED_TABLES:
        metadata.tables[name].create(conn)
    # Row numbers start again in the new tables: whoever follows them by number (the search
    # index) sees by the generation that its place in the old ones means nothing now.
    _set_part(conn, "derived_generation", derived_generation(conn) + 1)


# -- opening: bring a catalog to this code's schema ----------------------------------------------
def is_current(conn: Connection) -> bool:
    """Whether the catalog needs nothing done (checked without taking the write lock)."""
    parts = _parts(conn)
    return parts.get("migrations") == len(MIGRATIONS) and parts.get("derived") == DERIVED_LAYOUT


def upgrade(conn: Connection, name: str) -> None:
    """Apply what the catalog lacks, inside the caller's write transaction."""
    catalog_schema.create(conn, checkfirst=True)
    parts = _parts(conn)
    applied = parts.get("migrations")
    if applied is None:
        applied = _legacy_level(conn, parts, name)
    derived = parts.get("derived")
    if applied > len(MIGRATIONS) or (derived or 0) > DERIVED_LAYOUT:
        raise DatabaseError(
            f"the catalog {name} was written by a newer weidang (schema {applied}, post tables "
            f"layout {derived}; this one knows up to {len(MIGRATIONS)} and {DERIVED_LAYOUT}); "
            "upgrade weidang before using it")
    for number, _what, step in MIGRATIONS:
        if number > applied:
            step(conn)
            if number == 3:
                _identities_seen_before(conn)
            _set_part(conn, "migrations", number)
    if derived == 1 and conn.dialect.name == "sqlite":
        _carry_layout_1(conn)
        comments.create(conn, checkfirst=True)
        _set_part(conn, "derived", DERIVED_LAYOUT)
    elif derived == 2:
        # Layout 3 only adds comments, which no harvest before it asked for: nothing to rebuild.
        comments.create(conn, checkfirst=True)
        _set_part(conn, "derived", DERIVED_LAYOUT)
    elif derived != DERIVED_LAYOUT:
        create_derived(conn)
        _set_part(conn, "derived", DERIVED_LAYOUT)
        if derived is not None:  # an older layout was dropped: its rows come from the WARCs
            _set_part(conn, "needs_rebuild", 1)


def _carry_layout_1(conn: Connection) -> None:
    """Layout 1 (SQLite only) had the same columns less ``seq``, which SQLite's rowid was: the
    rows are copied, numbered by it, so no rebuild is needed and an index cursor stays right."""
    for index in ("posts_by_account", "statuses_by_post", "captures_by_post"):
        conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
    for name in _LAYOUT_1_TABLES:
        conn.execute(text(f"ALTER TABLE {name} RENAME TO layout1_{name}"))
        table = metadata.tables[name]
        table.create(conn)
        columns = [c.name for c in table.columns if c.name != "seq"]
        numbered = ("seq", "rowid") if "seq" in table.columns else ()
        into = ", ".join([*numbered[:1], *columns])
        conn.execute(text(f"INSERT INTO {name} ({into}) SELECT {', '.join([*numbered[1:], *columns])} "
                          f"FROM layout1_{name} ORDER BY rowid"))
        conn.execute(text(f"DROP TABLE layout1_{name}"))


def _legacy_level(conn: Connection, parts: dict[str, int], name: str) -> int:
    """The migrations a catalog of weidang before this schema holds: its ``schema_version``
    (accounts) and its ``history`` part (runs..., identities, backfills) in one number."""
    found = inspect(conn)
    level = 0
    if found.has_table("schema_version"):
        newest = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
        if (newest or 0) > 1:
            raise DatabaseError(f"the catalog {name} was written by a newer weidang (accounts "
                                f"schema {newest}); upgrade weidang before using it")
        conn.execute(text("DROP TABLE schema_version"))
    if found.has_table("accounts"):
        level = 1
    history = parts.get("history", 0)
    if history > 3:
        raise DatabaseError(f"the catalog {name} was written by a newer weidang (history "
                            f"schema {history}); upgrade weidang before using it")
    if history and not level:  # run tables made by an older crawler without a registry
        _accounts(conn)
    if history:
        level = 1 + history
        conn.execute(catalog_schema.delete().where(catalog_schema.c.part == "history"))
    return level
