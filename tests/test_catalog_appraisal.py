"""Appraisal in the catalog, on SQLite and PostgreSQL: decisions that supersede and never erase,
档号 numbered without gaps or repeats (two appraisers at once included), topics, append-only
tables, and each decision's event in the collection's hash-chained log."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from catalog_helpers import FIRST, PAGE1, execute, harvest, timeline
from sqlalchemy.exc import DBAPIError

from catalog.appraisal import (
    AppraisalError,
    ArchiveCodes,
    Ask,
    account_codes,
    appraise,
    archival_codes,
    current_decisions,
    decision_history,
    set_account_codes,
    unmatched_events,
)
from catalog.db import Database
from catalog.posts import PostCatalog
from catalog.topics import TopicError, add_members, create_topic, list_topics, members
from harvesters.dates import SHANGHAI
from warc_store import CaptureWriter, Collection

CODES = ArchiveCodes("0194", "XM", "BGS")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def archive(tmp_path, catalogs):
    collection = Collection.create(tmp_path / "default")
    db = catalogs.open()
    with CaptureWriter(collection) as writer:
        body, posts = timeline(PAGE1, FIRST)
        harvest(writer, PostCatalog(db, collection.name), posts, body, "run-1")
    keys = [("weibo", p.post_id) for p in posts]
    return collection, db, keys, catalogs


def _sink(collection: Collection):
    def sink(_name, detail):
        entry = collection.record_event("appraisal", "success", detail)
        return entry["seq"], entry["hash"]
    return sink


def _keep(db: Database, collection: Collection, keys, retention="永久", reviewer="李档案"):
    return appraise(db, keys, Ask(True, retention, reviewer), CODES, _sink(collection), lambda: NOW)


def test_keep_gives_consecutive_codes_of_the_publication_year_in_china_time(archive):
    collection, db, keys, _ = archive
    done = _keep(db, collection, keys)
    year = FIRST.astimezone(SHANGHAI).year
    assert [d.code for d in done] == [f"0194-XM·{year}-Y-BGS-{n:04d}" for n in range(1, len(keys) + 1)]
    with db.read() as conn:
        codes = archival_codes(conn)
        assert [c.item for c in codes] == list(range(1, len(keys) + 1)) and all(c.current for c in codes)
        assert {(d.platform, d.post_id, d.decision) for d in current_decisions(conn)} == \
            {(p, i, "keep") for p, i in keys}
    # Appraising again in the same group changes nothing about the number.
    again = _keep(db, collection, keys[:1])
    assert again[0].code == done[0].code


def test_a_later_decision_supersedes_and_the_code_stays_reserved(archive):
    collection, db, keys, _ = archive
    first = _keep(db, collection, keys[:3])
    with pytest.raises(AppraisalError, match="needs a reason"):
        appraise(db, keys[1:2], Ask(False, "永久", "王"), CODES, _sink(collection), lambda: NOW)
    appraise(db, keys[1:2], Ask(False, "定期10年", "王", reason="重复转发"), CODES,
             _sink(collection), lambda: NOW)
    moved = _keep(db, collection, keys[2:3], retention="定期30年")  # another group: a new number
    fourth = _keep(db, collection, keys[3:4])
    with db.read() as conn:
        history = decision_history(conn, *keys[1])
        assert [d.decision for d in history] == ["keep", "discard"] and history[0].code == first[1].code
        current = {(d.platform, d.post_id): d for d in current_decisions(conn)}
        assert current[keys[1]].decision == "discard" and current[keys[1]].code is None
        assert [d.post_id for d in current_decisions(conn, decision="discard")] == [keys[1][1]]
        codes = {c.code: c for c in archival_codes(conn)}
    # The discarded post's number and the moved post's first number are never given again.
    assert not codes[first[1].code].current and not codes[first[2].code].current
    assert fourth[0].code.endswith("-Y-BGS-0004") and moved[0].code.endswith("-D30-BGS-0001")
    assert codes[moved[0].code].current
    # Kept again in its first group, the discarded post gets its own number back.
    assert _keep(db, collection, keys[1:2])[0].code == first[1].code


def test_two_appraisers_at_once_leave_no_gap_and_no_repeat(archive):
    collection, db, keys, catalogs = archive
    halves = [keys[0::2], keys[1::2]]
    errors: list[BaseException] = []

    def appraiser(part):
        # Each its own connection to the catalog, as two archivists at two desks.
        own = Database(catalogs.target())
        try:
            for key in part:
                _keep(own, collection, [key])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=appraiser, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as conn:
        codes = archival_codes(conn)
    assert sorted(c.item for c in codes) == list(range(1, len(keys) + 1))
    assert len({c.code for c in codes}) == len({(c.platform, c.post_id) for c in codes}) == len(keys)
    assert collection.events.check() == []


def test_every_decision_is_an_event_the_row_names(archive):
    collection, db, keys, _ = archive
    done = _keep(db, collection, keys[:2])
    events = {e["seq"]: e for e in collection.events.entries()}
    for d in done:
        event = events[d.event_seq]
        assert event["hash"] == d.event_hash and event["type"] == "appraisal"
        assert event["type_uri"].endswith("/app")
        assert event["detail"]["post"] == f"{d.platform}:{d.post_id}" and event["detail"]["code"] == d.code
    assert collection.events.check() == []
    with db.read() as conn:
        assert unmatched_events(conn, collection.name, collection.events.entries()) == []
        # An event whose catalog write failed is told apart.
        stray = collection.record_event("appraisal", "success", {"post": "weibo:1", "code": None})
        assert unmatched_events(conn, collection.name, collection.events.entries()) == [
            f"appraisal event {stray['seq']} has no decision in the catalog (its write failed)"]


def test_codes_come_from_the_account_before_the_settings(archive):
    collection, db, keys, _ = archive
    with db.write() as conn:
        set_account_codes(conn, "weibo:6279793937", ArchiveCodes("0200", "WB", "XCK"), "管理员", NOW)
        assert account_codes(conn, "weibo:6279793937") == ArchiveCodes("0200", "WB", "XCK")
        with pytest.raises(AppraisalError, match="not usable in a 档号"):
            set_account_codes(conn, "weibo:1", ArchiveCodes("01-94", "WB", "X"), "x", NOW)
    assert _keep(db, collection, keys[:1])[0].code.startswith("0200-WB·")
    # An account with no codes of its own, and none in the settings: a keep is refused.
    execute(db, "UPDATE posts SET account = 'weibo:999999' WHERE post_id = :p", p=keys[1][1])
    with pytest.raises(AppraisalError, match="no fonds, category and unit codes"):
        appraise(db, keys[1:2], Ask(True, "永久", "x"), None, _sink(collection), lambda: NOW)


def test_unknown_posts_and_retentions_are_refused_in_plain_words(archive):
    collection, db, _keys, _ = archive
    with pytest.raises(AppraisalError, match="not in the catalog"):
        _keep(db, collection, [("weibo", "123")])
    with pytest.raises(AppraisalError, match="not a retention period"):
        _keep(db, collection, [("weibo", "123")], retention="长期")


def test_topics_hold_a_search_or_picked_posts(archive):
    _collection, db, keys, _ = archive
    with db.write() as conn:
        create_topic(conn, "疫情防控", {"text": "疫情"}, "", "x", NOW)
        create_topic(conn, "精选", None, "手选", "x", NOW)
        assert add_members(conn, "精选", keys[:2], "x", NOW) == 2
        assert add_members(conn, "精选", keys[:3], "x", NOW) == 1
        with pytest.raises(TopicError, match="exists already"):
            create_topic(conn, "精选", None, "", "x", NOW)
        with pytest.raises(TopicError, match="saved search"):
            add_members(conn, "疫情防控", keys[:1], "x", NOW)
        with pytest.raises(TopicError, match="not in the catalog"):
            add_members(conn, "精选", [("weibo", "1")], "x", NOW)
    with db.read() as conn:
        assert members(conn, "精选") == sorted(keys[:3])  # added at one time: by post
        assert [(t.name, t.kind, t.members) for t in list_topics(conn)] == [
            ("疫情防控", "search", 0), ("精选", "list", 3)]


def test_the_appraisal_tables_are_append_only(archive):
    collection, db, keys, _ = archive
    _keep(db, collection, keys[:1])
    with db.write() as conn:
        create_topic(conn, "精选", None, "", "x", NOW)
        add_members(conn, "精选", keys[:1], "x", NOW)
        set_account_codes(conn, "weibo:1", CODES, "x", NOW)
    for table, column in (("appraisals", "reviewer"), ("archival_codes", "platform"),
                          ("account_archive_codes", "actor"), ("topics", "created_by"),
                          ("topic_members", "added_by")):
        for sql in (f"UPDATE {table} SET {column} = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"):
                execute(db, sql)
