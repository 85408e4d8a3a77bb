"""One set of search tests, run on both embedded indexes (SQLite and tantivy) and, when
WEIDANG_ES_URL names a live cluster, on Elasticsearch: every backend must give a query the same
meaning."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

from catalog.search import IndexedPost, SearchFilters, open_index

CST = dt.timezone(dt.timedelta(hours=8))
ES_URL = os.environ.get("WEIDANG_ES_URL", "")


def post(post_id: str, text: str, *, day: int = 1, version: int = 1, **kw: object) -> IndexedPost:
    fields: dict = dict(
        platform="weibo", account_id="2803301701", account_name="北京发布", post_id=post_id,
        version=version, url=f"https://weibo.com/2803301701/{post_id}",
        published_at=dt.datetime(2024, 3, day, 9, 30, tzinfo=CST),
        captured_at=dt.datetime(2024, 4, 1, 8, 0, tzinfo=dt.UTC), text=text,
        warc_file="weidang-weibo-20240401080000-00001.warc.gz",
        warc_record_id=f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, post_id + str(version))}>",
        payload_sha256="ab" * 32,
    )
    fields.update(kw)
    return IndexedPost(**fields)


CORPUS = [
    post("a1", "加强档案管理工作，提升档案服务水平。", day=1),
    post("a2", "档案馆开放日；管理部门参加。", day=2),
    post("a3", "疫情防控工作通报：COVID-19 疫情总体平稳。", day=3),
    post("a4", "关于疫情期间档案查阅的通知", day=4, platform="wechat", account_id="gjdaj",
         account_name="国家档案局", status="deleted", url="https://mp.weixin.qq.com/s/a4"),
    post("a5", "结案管。管理", day=5),
    post("a6", "疫情疫情疫情，疫情防控不松劲。", day=6, title="疫情防控最新通报", demo=True),
    post("a7", "城乡居民建档", day=7, status="edited"),
]


@pytest.fixture(params=["sqlite", "tantivy", "elasticsearch"])
def index(request, tmp_path):
    if request.param == "sqlite":
        ix = open_index("sqlite", tmp_path / "index" / "search.sqlite")
    elif request.param == "tantivy":
        ix = open_index("tantivy", tmp_path / "index" / "search.tantivy")
    else:
        if not ES_URL:
            pytest.skip("set WEIDANG_ES_URL to a live Elasticsearch 8/9 cluster to run these")
        ix = open_index("elasticsearch", ES_URL, index=f"weidang-test-{uuid.uuid4().hex[:8]}")
    ix.upsert(CORPUS)
    yield ix
    if request.param == "elasticsearch":
        ix.client.indices.delete(index=f"{ix.alias}-*")
        ix.client.indices.delete_index_template(name=ix.alias)
    ix.close()


def ids(results) -> set[str]:
    return {h.post_id for h in results.hits}


def test_two_character_word_is_found(index):
    assert ids(index.search("疫情")) == {"a3", "a4", "a6"}
    assert ids(index.search("档案")) == {"a1", "a2", "a4"}


def test_four_character_phrase_matches_only_contiguous_text(index):
    # a2 has 档案 and 管理 apart: a bag of bigrams would match it, a phrase must not.
    assert ids(index.search("档案管理")) == {"a1"}


def test_punctuation_between_runs_never_joins_a_phrase(index):
    # a5 reads 案管。管理: its bigrams 案管 and 管理 must not form 案管理.
    assert ids(index.search("案管理")) == {"a1"}
    assert ids(index.search('"案管 管理"')) == {"a5"}


def test_single_character_anywhere_in_a_run(index):
    assert ids(index.search("档")) == {"a1", "a2", "a4", "a7"}  # a7 ends with 档


def test_terms_are_anded(index):
    assert ids(index.search("疫情 档案")) == {"a4"}
    assert ids(index.search("疫情 不存在")) == set()


def test_latin_and_digit_tokens_ignore_case(index):
    assert ids(index.search("covid-19")) == {"a3"}
    assert ids(index.search("COVID")) == {"a3"}
    assert ids(index.search("ｃｏｖｉｄ")) == {"a3"}  # full-width letters fold
    assert ids(index.search("covi")) == set()  # whole words, not prefixes


def test_ranking_puts_the_densest_match_first(index):
    results = index.search("疫情")
    assert results.hits[0].post_id == "a6"  # in the title and four times in the text
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_snippet_highlights_the_query_in_its_context(index):
    long = "各区要" + "持续做好基层工作，" * 10 + "全面加强档案管理，确保安全。" + "其他事项另行通知。" * 8
    index.upsert([post("long", long, day=9)])
    hit = index.search("档案管理").hits
    hit = next(h for h in hit if h.post_id == "long")
    assert "档案管理" in hit.snippet and len(hit.snippet) < len(long)
    assert [hit.snippet[s:e] for s, e in hit.highlights] == ["档案管理"]
    assert "全面加强«档案管理»，确保" in hit.marked()
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")


def test_hits_carry_the_citation(index):
    hit = index.search("档案管理").hits[0]
    assert (hit.platform, hit.account_id, hit.account_name) == ("weibo", "2803301701", "北京发布")
    assert hit.url == "https://weibo.com/2803301701/a1"
    assert hit.published_at == dt.datetime(2024, 3, 1, 9, 30, tzinfo=CST)
    assert hit.captured_at == dt.datetime(2024, 4, 1, 8, 0, tzinfo=dt.UTC)
    assert hit.warc_file == "weidang-weibo-20240401080000-00001.warc.gz"
    assert hit.warc_record_id == CORPUS[0].warc_record_id
    assert hit.payload_sha256 == "ab" * 32 and hit.doc_id == "weibo:a1:v1"


def test_demo_flag_is_kept(index):
    flags = {h.post_id: h.demo for h in index.search("疫情").hits}
    assert flags == {"a3": False, "a4": False, "a6": True}


def test_filters(index):
    assert ids(index.search("疫情", SearchFilters(platform="wechat"))) == {"a4"}
    assert ids(index.search("档案", SearchFilters(account="国家档案局"))) == {"a4"}
    assert ids(index.search("档案", SearchFilters(account="2803301701"))) == {"a1", "a2"}
    assert ids(index.search("疫情", SearchFilters(status="deleted"))) == {"a4"}
    since = dt.datetime(2024, 3, 4, tzinfo=CST)
    until = dt.datetime(2024, 3, 6, 9, 30, tzinfo=CST)  # inclusive
    assert ids(index.search("疫情", SearchFilters(since=since))) == {"a4", "a6"}
    assert ids(index.search("疫情", SearchFilters(since=since, until=until))) == {"a4", "a6"}
    assert ids(index.search("疫情", SearchFilters(until=since))) == {"a3"}
    assert index.count(SearchFilters(status="edited")) == 1


def test_accounts_filter_matches_any_of_its_platform_id_keys(index):
    both = SearchFilters(accounts=frozenset({"wechat:gjdaj", "weibo:2803301701"}))
    assert ids(index.search("档案", both)) == {"a1", "a2", "a4"}
    assert ids(index.search("档案", SearchFilters(accounts=frozenset({"weibo:gjdaj"})))) == set()
    assert index.count(SearchFilters(accounts=frozenset({"wechat:gjdaj"}))) == 1
    assert ids(index.search("档案", SearchFilters(accounts=frozenset()))) == set()


def test_empty_query_lists_newest_first_within_filters(index):
    results = index.search("", SearchFilters(platform="weibo"), limit=3)
    assert results.total == 6
    assert [h.post_id for h in results.hits] == ["a7", "a6", "a5"]


def test_paging_keeps_the_total(index):
    first = index.search("档", limit=2)
    second = index.search("档", limit=2, offset=2)
    assert first.total == second.total == 4
    assert len(ids(first) | ids(second)) == 4


def test_upsert_is_idempotent_and_replaces_a_version(index):
    assert index.count() == len(CORPUS)
    index.upsert(CORPUS)
    assert index.count() == len(CORPUS)
    index.upsert([post("a1", "改为讨论公文处理。", day=1)])
    assert index.count() == len(CORPUS)
    assert ids(index.search("档案管理")) == set()
    assert ids(index.search("公文处理")) == {"a1"}


def test_each_version_is_its_own_document(index):
    index.upsert([post("a1", "加强档案管理，修订后。", day=1, version=2, status="edited")])
    hits = index.search("档案管理").hits
    assert sorted(h.doc_id for h in hits) == ["weibo:a1:v1", "weibo:a1:v2"]


def test_delete(index):
    assert index.delete(["weibo:a1:v1", "weibo:nothing:v1"]) == 1
    assert ids(index.search("档案管理")) == set()
    assert index.count() == len(CORPUS) - 1


def test_rebuild_replaces_everything(index):
    assert index.rebuild([post("b1", "重建后的档案管理")]) == 1
    assert index.count() == 1
    assert ids(index.search("档案管理")) == {"b1"}
    index.clear()
    assert index.count() == 0


def test_scan_yields_every_hit(index):
    assert {h.post_id for h in index.scan("档")} == {"a1", "a2", "a4", "a7"}
