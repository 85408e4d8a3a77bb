"""A SQLite catalog written before the one schema (``schema_version`` and ``catalog_schema``, the
layout frozen in tests/data) opens with this code and keeps every authoritative row."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from catalog_helpers import execute, rows
from sqlalchemy.exc import DBAPIError

from catalog.accounts import AccountRegistry
from catalog.backfills import Backfills
from catalog.db import Database
from catalog.errors import DatabaseError
from catalog.identity import account_keys
from catalog.posts import PostCatalog
from catalog.runs import RunLog
from catalog.schema import DERIVED_LAYOUT, MIGRATIONS, needs_rebuild

OLD_DDL = (Path(__file__).parent / "data" / "catalog_before_one_schema.sql").read_text(encoding="utf-8")
MARK = "-- history 2: account identities; history 3: backfills"
POST = {"platform": "wechat", "account_id": "MzkwMDAwMDAwMQ==", "account_name": "清河发布",
        "post_id": "2650000001_1", "extras": {"user_name": "gh_0123456789ab"}}


def _old_catalog(path: Path, history: int = 3) -> None:
    """A catalog as the code before wrote it: accounts with times to the second, a run, a pause,
    their events, a backfill, and one post version."""
    script = OLD_DDL if history == 3 else OLD_DDL.split(MARK)[0]
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.executescript(f"""
INSERT INTO schema_version VALUES (1, '2024-05-01T08:00:00Z');
INSERT INTO catalog_schema VALUES ('derived', 1, '2024-05-01T08:00:00.000000Z'),
    ('derived_generation', 1, '2024-05-01T08:00:00.000000Z'),
    ('history', {history}, '2024-05-01T08:00:00.000000Z');
INSERT INTO accounts (platform, account_id, name, interval_seconds, created_at, updated_at)
    VALUES ('wechat', 'gh_0123456789ab', '清河发布', 3600, '2024-05-01T08:01:00Z', '2024-05-01T08:02:00Z');
INSERT INTO account_events (at, actor, account, action, changes, via) VALUES
    ('2024-05-01T08:01:00Z', 'archivist', 'wechat:gh_0123456789ab', 'add', '{{}}', 'command line'),
    ('2024-05-01T08:02:00Z', 'archivist', 'wechat:gh_0123456789ab', 'update', '{{}}', 'command line');
INSERT INTO runs (run_id, account, kind, started_at, ended_at, outcome) VALUES
    ('h1', 'wechat:gh_0123456789ab', 'full', '2024-05-01T09:00:00.000000Z',
     '2024-05-01T09:05:00.000000Z', 'ok');
INSERT INTO pauses (scope, reason, since)
    VALUES ('platform:wechat', '频率限制', '2024-05-01T09:05:00.000000Z');
INSERT INTO catalog_events (at, subject, action, details) VALUES
    ('2024-05-01T09:00:00.000000Z', 'h1', 'run started', '{{}}');
INSERT INTO versions VALUES ('wechat', '2650000001_1', 1, 'new', 'f', '2024-05-01T09:01:00.000000Z',
    'h1', 'default', 'urn:uuid:1', '[]', '', '', '{json.dumps(POST, ensure_ascii=False)}');
INSERT INTO posts VALUES ('wechat', '2650000001_1', 'wechat:MzkwMDAwMDAwMQ==', 1,
    '2024-05-01T09:01:00.000000Z', '2024-05-01T09:01:00.000000Z', 'live', 0, NULL, '');
INSERT INTO captures VALUES ('urn:uuid:1', 'wechat', '2650000001_1', 1, 'new',
    '2024-05-01T09:01:00.000000Z', 'h1', 'default', 0);
""")
    if history == 3:
        conn.execute("INSERT INTO backfills (account, origin_run_id, started_at, updated_at, pages, runs) "
                     "VALUES ('wechat:gh_0123456789ab', 'h1', '2024-05-01T09:00:00.000000Z', "
                     "'2024-05-01T09:05:00.000000Z', 3, 1)")
    conn.commit()
    conn.close()


def test_an_old_catalog_is_upgraded_in_place_keeping_every_authoritative_row(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _old_catalog(path)
    db = Database(path)
    registry = AccountRegistry(db)
    account = registry.get("wechat:gh_0123456789ab")
    assert (account.name, account.interval_seconds) == ("清河发布", 3600)
    # One time format: the account times of the code before gain their microseconds.
    assert (account.created_at, account.updated_at) == ("2024-05-01T08:01:00.000000Z",
                                                        "2024-05-01T08:02:00.000000Z")
    assert [(e.seq, e.at, e.action) for e in registry.events()] == [
        (1, "2024-05-01T08:01:00.000000Z", "add"), (2, "2024-05-01T08:02:00.000000Z", "update")]
    runs = RunLog(db)
    assert runs.get("h1") is not None and runs.get("h1").outcome == "ok"  # type: ignore[union-attr]
    assert [p.reason for p in runs.active_pauses()] == ["频率限制"]
    assert [e["action"] for e in runs.events("h1")] == ["run started"]
    backfill = Backfills(db).get("wechat:gh_0123456789ab")
    assert backfill is not None and (backfill.pages, backfill.origin_run_id) == (3, "h1")
    # One bookkeeping table: the second version table is gone.
    assert rows(db, "SELECT name FROM sqlite_master WHERE name = 'schema_version'") == []
    assert dict(rows(db, "SELECT part, version FROM catalog_schema")) == {
        "migrations": len(MIGRATIONS), "derived": DERIVED_LAYOUT, "derived_generation": 1}
    # The post tables of layout 1 were carried over, their rows numbered as SQLite had them: no
    # rebuild, and the search index's cursor (same generation) still means the same rows.
    with db.read() as conn:
        assert not needs_rebuild(conn)
    assert rows(db, "SELECT seq, metadata_record_id, version FROM captures") == [(1, "urn:uuid:1", 1)]
    assert [v.metadata_record_id for v in PostCatalog(db).versions("wechat", "2650000001_1")] == [
        "urn:uuid:1"]
    # The guards are still there, and new rows follow the old ones.
    for statement in ("DELETE FROM accounts", "UPDATE account_events SET actor = 'x'",
                      "DELETE FROM runs", "DELETE FROM catalog_events"):
        with pytest.raises(DBAPIError, match="append-only|never deleted"):
            execute(db, statement)
    registry.update("wechat:gh_0123456789ab", notes="升级后")
    assert [e.seq for e in registry.events()] == [1, 2, 3]
    db.close()
    parts = dict(rows(Database(path), "SELECT part, version FROM catalog_schema"))
    assert parts["migrations"] == len(MIGRATIONS)


def test_a_catalog_from_before_the_links_learns_them_from_its_versions(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _old_catalog(path, history=1)
    db = Database(path)
    with db.read() as conn:
        expected = {"wechat:gh_0123456789ab", "wechat:MzkwMDAwMDAwMQ=="}
        assert expected <= account_keys(conn, "清河发布")
        assert expected == account_keys(conn, "wechat:MzkwMDAwMDAwMQ==")
    assert PostCatalog(db).count("wechat", "gh_0123456789ab") == 1
    assert rows(db, "SELECT COUNT(*) FROM backfills") == [(0,)]


def test_a_catalog_newer_than_this_code_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _old_catalog(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (2, '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match=f"the catalog {path} was written by a newer weidang"):
        Database(path)
    # Nothing was changed on the way: the code that wrote it can still open it.
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM schema_version").fetchone() == (2,)


def test_a_layout_2_catalog_gains_comments_and_the_switch_without_a_rebuild(tmp_path):
    """Layout 3 only adds ``comments`` and migration 11 the per-account switch: the post rows
    stay, the search index's cursor (same generation) too, and every account's comments are off."""
    path = tmp_path / "catalog.sqlite"
    db = Database(path)
    AccountRegistry(db).add("weibo:1669879400", name="国家档案局")
    execute(db, "INSERT INTO captures (metadata_record_id, platform, post_id, version, outcome, "
                "captured_at, harvest_id, collection) VALUES ('urn:uuid:1', 'weibo', '1', 1, 'new', "
                "'2024-05-01T09:01:00.000000Z', 'h1', 'default')")
    db.close()
    conn = sqlite3.connect(path)  # as the code before wrote it
    conn.executescript("DROP TABLE comments; ALTER TABLE accounts DROP COLUMN comments;"
                       "UPDATE catalog_schema SET version = 2 WHERE part = 'derived';"
                       "UPDATE catalog_schema SET version = 10 WHERE part = 'migrations';")
    conn.close()
    db = Database(path)
    assert dict(rows(db, "SELECT part, version FROM catalog_schema")) == {
        "migrations": len(MIGRATIONS), "derived": DERIVED_LAYOUT, "derived_generation": 1}
    with db.read() as conn:
        assert not needs_rebuild(conn)
    assert rows(db, "SELECT seq, metadata_record_id FROM captures") == [(1, "urn:uuid:1")]
    assert rows(db, "SELECT COUNT(*) FROM comments") == [(0,)]
    assert AccountRegistry(db).get("weibo:1669879400").comments is False
