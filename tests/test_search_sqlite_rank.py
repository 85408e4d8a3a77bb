"""The embedded index's own bm25 over candidates, and its totals capped like Elasticsearch's."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from catalog.search import IndexedPost, SearchQuery, open_index, sqlite_fts
from catalog.search.sqlite_rank import phrase_count, varints
from catalog.search.text import normalise

CST = dt.timezone(dt.timedelta(hours=8))
PIECES = ("档案", "档", "案", "管理", "档案管理", "疫情", "防控", "疫情防控", "COVID", "covid-19",
          "１９", "情", "，", "。", " ", "_", "abc", "档档档", "加强", "工作", "【疫情】", "x",
          "ＣＯＶＩＤ", "…", "（", "\u3000", "\uf9b6", "\u2f08", "e\u0301", "ｌ")
QUERIES = ("档案", "档", "档案管理", "疫情 防控", '"疫情 防控"', "covid", "covid-19", "19",
           "档档", '"档 案"', '"管理 档"', "情", "疫情 档案", '"covid 19 疫情"', '"abc 档案"',
           '"档案 abc"', '"案 管理 covid"', "加强工作")


def post(i: int, title: str, text: str, repost: str = "") -> IndexedPost:
    return IndexedPost(platform="weibo", account_id="1", account_name="北京发布", post_id=f"p{i}",
                       version=1, url=f"https://weibo.com/1/p{i}",
                       published_at=dt.datetime(2024, 1, 1, tzinfo=CST) + dt.timedelta(hours=i),
                       captured_at=dt.datetime(2024, 2, 1, tzinfo=CST), title=title, text=text,
                       repost_text=repost)


def corpus(count: int, seed: int = 7) -> list[IndexedPost]:
    rng = random.Random(seed)

    def words(n: int) -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, n)))

    return [post(i, words(3), words(25), words(8)) for i in range(count)]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    with open_index("sqlite", tmp_path_factory.mktemp("rank") / "s.sqlite") as index:
        index.upsert(corpus(400))
        yield index


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_fts5_bm25_when_every_phrase_is_counted_exactly(index, query):
    parsed = SearchQuery.parse(query)
    match = sqlite_fts.fts_expression(parsed)
    weights = ", ".join(str(w) for w in sqlite_fts.WEIGHTS)
    fts5 = dict(index._db.execute(
        f"SELECT rowid, -bm25(posts_fts, {weights}) FROM posts_fts WHERE posts_fts MATCH ?",
        [match]))
    rowid_of = dict(index._db.execute("SELECT doc_id, rowid FROM posts"))
    results = index.search(query, limit=1000)
    assert results.total == len(fts5) and results.total_is_exact
    assert len(results.hits) == len(fts5)
    for hit in results.hits:
        assert hit.score == pytest.approx(fts5[rowid_of[hit.doc_id]], abs=2e-6), hit.doc_id
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)


def test_enclosed_and_compatibility_ideographs_count_as_the_ideographs_they_fold_to(tmp_path):
    # ㊥ folds to 中 and 豈 (U+F900) to 豈 (U+8C48): the index finds 中国 in ㊥国, so its
    # score must count it there too (the raw text does not hold 中国).
    texts = ["㊥国中国", "中国", "\uf900国中国", "豈国"] + [f"第{i}份档案" for i in range(40)]
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        index.upsert([post(i, "", text) for i, text in enumerate(texts)])
        for query in ("中国", "豈国"):
            fts5 = dict(index._db.execute(
                "SELECT rowid, -bm25(posts_fts, 3.0, 1.0, 0.5) FROM posts_fts "
                "WHERE posts_fts MATCH ?", [sqlite_fts.fts_expression(SearchQuery.parse(query))]))
            rowid_of = dict(index._db.execute("SELECT doc_id, rowid FROM posts"))
            hits = index.search(query).hits
            assert len(hits) == len(fts5) >= 2
            for hit in hits:
                assert hit.score == pytest.approx(fts5[rowid_of[hit.doc_id]], rel=1e-6)


def test_phrase_counts_follow_the_token_rules():
    def count(text: str, query: str) -> int:
        return phrase_count(normalise(text), SearchQuery.parse(query).terms[0])

    assert count("档案管理档案", "档案") == 2
    assert count("档档档", "档档") == 2  # overlapping, as FTS5 counts phrase instances
    assert count("归档，案卷", '"档 案"') == 1  # 档 closes its run, 案 opens the next
    assert count("档，档案", '"档 案"') == 0  # 档案 is one run: 档 does not close it
    assert count("疫情防控", '"疫情 防控"') == 0 and count("疫情，防控", '"疫情 防控"') == 1
    assert count("covid-19疫情", '"covid 19 疫情"') == 1
    assert count("COVID19", "covid") == 0 and count("ｃｏｖｉｄ，", "covid") == 1


def test_varints_read_sqlite_varints():
    assert varints(bytes([0x8C, 0x9A, 0x40, 0x05, 0x00])) == [200_000, 5, 0]


def test_totals_beyond_the_cap_are_at_least_and_scan_still_finds_every_hit(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_fts, "TOTAL_CAP", 4)
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        index.upsert([post(i, "", f"第{i}份档案") for i in range(1, 10)] + [post(10, "", "疫情")])
        results = index.search("档案", limit=3)
        assert (results.total, results.total_is_exact, results.total_text()) == (4, False, "4+")
        assert len(results.hits) == 3
        assert len(list(index.scan("档案"))) == 9
        exact = index.search("疫情")
        assert (exact.total, exact.total_is_exact, exact.total_text()) == (1, True, "1")
        assert index.search("档案 第9份").total == 1


def test_idf_of_a_phrase_beyond_the_cap_is_estimated_from_its_newest_matches(tmp_path,
                                                                             monkeypatch):
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        # 档案 in one post of three (past the cap), 疫情 in one of twelve (under it).
        index.upsert([post(i, "", ("档案" if i % 3 == 0 else "工作") + ("疫情" if i % 12 == 0 else ""))
                      for i in range(1, 201)])
        exact = {h.doc_id: h.score for h in index.search("档案 疫情", limit=100).hits}
        monkeypatch.setattr(sqlite_fts, "TOTAL_CAP", 20)
        estimated = {h.doc_id: h.score for h in index.search("档案 疫情", limit=100).hits}
        assert len(exact) == 16 and estimated.keys() == exact.keys()
        assert estimated == pytest.approx(exact, rel=0.05)
