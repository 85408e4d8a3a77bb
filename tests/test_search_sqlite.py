"""The embedded index's own mechanics: tokens, the FTS5 expression, the file, the rank window."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from catalog.search import IndexedPost, SearchQuery, open_index, sqlite_fts
from catalog.search.errors import IndexUnavailable, QueryError
from catalog.search.query import SearchFilters
from catalog.search.text import index_tokens, phrase_tokens

CST = dt.timezone(dt.timedelta(hours=8))


def post(i: int, text: str) -> IndexedPost:
    return IndexedPost(platform="weibo", account_id="1", account_name="北京发布", post_id=f"p{i}",
                       version=1, url=f"https://weibo.com/1/p{i}",
                       published_at=dt.datetime(2024, 1, 1, tzinfo=CST) + dt.timedelta(hours=i),
                       captured_at=dt.datetime(2024, 2, 1, tzinfo=CST), text=text)


def test_index_tokens_are_bigrams_with_a_closing_character_per_run():
    assert index_tokens("档案管理") == ["档案", "案管", "管理", "理"]
    assert index_tokens("案管。管理") == ["案管", "管", "管理", "理"]
    assert index_tokens("档") == ["档"]
    assert index_tokens("COVID-19疫情ＡＢ") == ["covid", "19", "疫情", "情", "ab"]


def test_query_phrases_drop_the_last_closing_character():
    assert phrase_tokens("档案管理") == ["档案", "案管", "管理"]
    assert phrase_tokens("疫情 防控") == ["疫情", "情", "防控"]


def test_fts_expression_makes_one_phrase_per_term():
    expr = sqlite_fts.fts_expression(SearchQuery.parse('档案管理 "疫情 防控" covid 档'))
    assert expr == '"档案 案管 管理" AND "疫情 情 防控" AND "covid" AND "档" *'


def test_query_parser_drops_punctuation_only_terms_and_keeps_quotes():
    query = SearchQuery.parse('  ， "档案 管理"  ')
    assert [t.text for t in query.terms] == ["档案 管理"]
    assert SearchQuery.parse("").empty


def test_filters_are_checked():
    with pytest.raises(QueryError, match="time zone"):
        SearchFilters(since=dt.datetime(2024, 1, 1))
    with pytest.raises(QueryError, match="unknown"):
        SearchFilters(status="gone")


def test_file_is_wal_and_survives_reopening(tmp_path):
    path = tmp_path / "index" / "search.sqlite"
    with open_index("sqlite", path) as index:
        index.upsert([post(1, "档案管理")])
    with open_index("sqlite", path) as index:
        assert index.search("档案管理").total == 1
        assert index.get("weibo:p1:v1") == post(1, "档案管理")
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_index_from_other_tokenizer_rules_is_not_read_until_rebuilt(tmp_path):
    path = tmp_path / "search.sqlite"
    with open_index("sqlite", path) as index:
        index.upsert([post(1, "档案管理")])
        index.set_note("cursor", "1")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'tokenizer'")
    with open_index("sqlite", path) as index:
        with pytest.raises(IndexUnavailable, match="rebuild it"):
            index.search("档案管理")
        with pytest.raises(IndexUnavailable, match="rebuild it"):
            index.upsert([post(2, "档案")])
        assert index.note("cursor") is None  # so catch_up rebuilds it whole
        assert index.rebuild([post(3, "疫情防控")]) == 1
        assert index.search("疫情").total == 1 and index.search("档案").total == 0
    with open_index("sqlite", path) as index:
        assert index.search("疫情防控").hits[0].post_id == "p3"


def test_an_index_of_an_older_layout_is_rebuilt_by_catch_up_not_misread(tmp_path):
    """A file of another layout (other tables, other tokens) opens; searching it says to
    rebuild, and the next catch-up (a harvest, `weidang index rebuild`) rebuilds it whole."""
    path = tmp_path / "search.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema', '1'), ('tokenizer', '1'), ('note:cursor', 'x');
            CREATE TABLE posts (rowid INTEGER PRIMARY KEY, doc_id TEXT, body TEXT);
            INSERT INTO posts VALUES (7, 'weibo:old:v1', '档案');
            CREATE VIRTUAL TABLE posts_fts USING fts5 (body, content='');
            INSERT INTO posts_fts (rowid, body) VALUES (7, '档 案');
        """)
    with open_index("sqlite", path) as index:
        with pytest.raises(IndexUnavailable, match="another version of weidang"):
            index.count()
        assert index.note("cursor") is None
        assert index.rebuild([post(1, "档案管理"), post(2, "档案")]) == 2
        assert index.count() == 2
        assert index.search("档案").total == 2 and index.search("档案管理").total == 1
        assert index.get("weibo:old:v1") is None
    with sqlite3.connect(path) as db:
        assert dict(db.execute("SELECT key, value FROM meta")) == {
            "schema": str(sqlite_fts.SCHEMA_VERSION), "tokenizer": "1"}


def test_a_file_that_is_not_an_index_is_a_plain_error(tmp_path):
    path = tmp_path / "search.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexUnavailable, match="cannot be opened"):
        open_index("sqlite", path)


def test_broad_queries_rank_within_the_newest_matches_and_keep_the_exact_total(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(sqlite_fts, "RANK_WINDOW", 3)
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        # p1 is the best match (the word three times) but the oldest indexed of five.
        index.upsert([post(1, "档案档案档案")] + [post(i, f"第{i}份档案") for i in range(2, 6)])
        results = index.search("档案", limit=10)
        assert results.total == 5
        assert [h.post_id for h in results.hits] == ["p5", "p4", "p3"]
        filtered = index.search("档案", SearchFilters(account="北京发布"), limit=10)
        assert filtered.total == 5 and len(filtered.hits) == 3
        monkeypatch.setattr(sqlite_fts, "RANK_WINDOW", 100)
        assert index.search("档案").hits[0].post_id == "p1"


def test_page_limits_are_checked(tmp_path):
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        with pytest.raises(QueryError, match="first 10,000"):
            index.search("档案", limit=50, offset=9_990)
