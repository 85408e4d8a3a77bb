"""What other archives may read: nothing until an administrator opens it; a post's own mark wins
over its account's; every mark is kept, and the table refuses changes to them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from catalog.errors import CatalogError
from catalog.open_access import current_marks, is_open, open_posts, set_open
from catalog.schema import posts

AT = "2026-01-01T00:00:00.000000Z"


@pytest.fixture
def db(catalogs):
    """A fresh catalog (SQLite, and PostgreSQL where one answers) with three posts."""
    database = catalogs.open()
    with database.write() as conn:
        for n, account in ((1, "weibo:1669879400"), (2, "weibo:1669879400"), (3, "weibo:2222222222")):
            conn.execute(posts.insert().values(
                platform="weibo", post_id=f"49000{n}", account=account, current_version=1,
                first_captured=AT, last_captured=f"2026-01-0{n}T00:00:00.000000Z", status="live",
                pinned=0, url=f"https://m.weibo.cn/detail/49000{n}"))
    return database


def keys(db):
    with db.read() as conn:
        return [r.post_id for r in open_posts(conn)]


def test_nothing_is_open_until_an_administrator_opens_it(db):
    assert keys(db) == []
    with db.write() as conn:
        assert set_open(conn, "account", "https://weibo.com/u/1669879400", True, "boss", AT)
        assert not set_open(conn, "account", "weibo:1669879400", True, "boss", AT)  # already open
    assert keys(db) == ["490001", "490002"]
    with db.write() as conn:
        set_open(conn, "post", "weibo:490002", False, "boss", AT, "个人信息")
        set_open(conn, "post", "weibo:490003", True, "boss", AT)
    assert keys(db) == ["490001", "490003"]
    with db.read() as conn:
        assert is_open(conn, "weibo", "490003") and not is_open(conn, "weibo", "490002")
        assert [(m.kind, m.subject, m.open) for m in current_marks(conn)] == [
            ("account", "weibo:1669879400", True), ("post", "weibo:490002", False),
            ("post", "weibo:490003", True)]


def test_paging_goes_on_after_the_last_row_seen(db):
    with db.write() as conn:
        set_open(conn, "account", "weibo:1669879400", True, "boss", AT)
        set_open(conn, "account", "weibo:2222222222", True, "boss", AT)
    with db.read() as conn:
        first = open_posts(conn, limit=2)
        rest = open_posts(conn, limit=2, after=(first[-1].last_captured, "weibo", first[-1].post_id))
    assert [r.post_id for r in first + rest] == ["490001", "490002", "490003"]


def test_marks_are_never_changed_or_deleted(db):
    with db.write() as conn:
        set_open(conn, "account", "weibo:1669879400", True, "boss", AT)
    for statement in ("UPDATE open_marks SET open = 0", "DELETE FROM open_marks"):
        with pytest.raises(DBAPIError), db.write() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize("kind, subject", [("topic", "weibo:1"), ("post", "490001"), ("account", "x")])
def test_what_cannot_be_marked_is_refused(db, kind, subject):
    with pytest.raises(CatalogError), db.write() as conn:
        set_open(conn, kind, subject, True, "boss", AT)
    with db.read() as conn:
        assert current_marks(conn) == []


def test_a_post_opened_after_its_capture_changes_then(db):
    later = "2026-03-01T00:00:00.000000Z"
    with db.write() as conn:
        set_open(conn, "account", "weibo:1669879400", True, "boss", AT)
        set_open(conn, "post", "weibo:490003", True, "boss", later)
    with db.read() as conn:
        rows = open_posts(conn)
        assert [(r.post_id, r.changed_at) for r in rows] == [
            ("490001", "2026-01-01T00:00:00.000000Z"), ("490002", "2026-01-02T00:00:00.000000Z"),
            ("490003", later)]
        # an incremental harvest since the last captures finds the post opened since
        assert [r.post_id for r in open_posts(conn, since="2026-02-01T00:00:00.000000Z")] == ["490003"]
