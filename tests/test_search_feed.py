"""The catalog feeds the index: after each harvest every post version is searchable, with a
citation that resolves in the WARC files, and status changes reach the versions already indexed."""

from __future__ import annotations

import gzip
import hashlib

from search_archive import EDITED_TEXT, WECHAT_BIZ, WEIBO_UID, Harvested, harvested_archive  # noqa: F401 - the fixture

from catalog.index_feed import documents_for, index_status
from catalog.search import SearchFilters
from warc_store import read_record, read_warcinfo


def _words(doc: dict) -> str:
    return " ".join((doc["title"], doc["text"], doc["repost_text"]))


def test_harvests_index_every_version_the_catalog_holds(harvested: Harvested):
    expected = {d.doc_id: d.to_dict() for d in harvested.catalog_documents()}
    versions = harvested.archive.rows("SELECT COUNT(*) FROM versions")[0][0]
    assert len(expected) == versions >= 24  # 12 Weibo and 12 WeChat posts, plus the edit
    assert harvested.indexed() == expected  # incremental indexing left exactly the catalog's view


def test_chinese_words_and_phrases_find_every_post_holding_them(harvested: Harvested):
    indexed = harvested.indexed()
    index = harvested.index()
    try:
        for word in ("疫情", "档案", "应急管理", "档案开放鉴定"):
            holding = {i for i, d in indexed.items() if word in _words(d)}
            assert holding, f"the emulator's texts should contain {word}"
            results = index.search(word, limit=1000)
            assert {h.doc_id for h in results.hits} == holding and results.total == len(holding)
            best = results.hits[0]
            assert word in best.snippet and best.highlights
        # a phrase is a phrase: these two words occur, but never as 疫情档案
        assert index.search("疫情档案").total == sum("疫情档案" in _words(d) for d in indexed.values())
    finally:
        index.close()


def test_citations_resolve_in_the_warc_files_and_their_payloads_match(harvested: Harvested):
    collection = harvested.collection()
    indexed = harvested.indexed()
    for doc in indexed.values():
        record = read_record(collection, doc["warc_record_id"])
        assert record.record_type == "response" and record.filename == doc["warc_file"]
        assert record.header("WARC-Payload-Digest") == "sha256:" + doc["payload_sha256"]
        # the payload as stored, content encoding and all: what the digest covers
        assert hashlib.sha256(record.payload).hexdigest() == doc["payload_sha256"]
        assert doc["account_id"] in (WEIBO_UID, WECHAT_BIZ) and doc["account_name"]
        assert doc["url"].startswith(("https://weibo.com/", "https://mp.weixin.qq.com/s?"))
        assert doc["published_at"] and doc["captured_at"] and doc["demo"] is False
    # the words indexed are in the response cited (WeChat: the article; Weibo: the listing or long text)
    wechat = next(d for d in indexed.values() if d["platform"] == "wechat")
    stored = read_record(collection, wechat["warc_record_id"]).payload  # as it arrived: maybe gzip
    page = (gzip.decompress(stored) if stored[:2] == b"\x1f\x8b" else stored).decode("utf-8")
    assert wechat["title"] and wechat["title"] in page


def test_an_edit_and_deletions_reach_every_indexed_version(harvested: Harvested):
    indexed = harvested.indexed()
    post_id = harvested.edited[1]
    edits = sorted((d for d in indexed.values() if d["post_id"] == post_id), key=lambda d: d["version"])
    assert [d["version"] for d in edits] == [1, 2] and {d["status"] for d in edits} == {"edited"}
    assert EDITED_TEXT in edits[1]["text"] and EDITED_TEXT not in edits[0]["text"]
    for (_, post_id), status in ((harvested.wechat_deleted, "deleted"),
                                        (harvested.weibo_gone, "deleted")):
        versions = [d for d in indexed.values() if d["post_id"] == post_id]
        assert versions and {d["status"] for d in versions} == {status}
    index = harvested.index()
    try:
        found = index.search("", SearchFilters(status="deleted"))
        assert sorted(h.post_id for h in found.hits) == sorted(
            [harvested.wechat_deleted[1], harvested.weibo_gone[1]])
        # the edited words are found in version 2 only, as an edited post
        hits = index.search("疫情通报已更新").hits
        assert [(h.post_id, h.version, h.status) for h in hits] == [(harvested.edited[1], 2, "edited")]
    finally:
        index.close()


def test_documents_for_a_harvest_are_its_posts_with_all_their_versions(harvested: Harvested):
    collection = {"default": harvested.collection()}
    second = [s["harvest_id"] for s in harvested.second]
    with harvested.archive.catalog() as db:
        docs = documents_for(db, collection, harvest_ids=second)
        named = documents_for(db, collection, posts=[harvested.edited], all_demo=True)
    keys = {(d.platform, d.post_id) for d in docs}
    # the edit and both deletions (the second harvest found everything else unchanged)
    assert keys == {harvested.edited, harvested.weibo_gone, harvested.wechat_deleted}
    assert len(docs) == 4  # the edited post's two versions
    assert [(d.version, d.demo) for d in named] == [(1, True), (2, True)]


def test_status_mapping_and_demo_detection(harvested: Harvested, tmp_path):
    assert index_status("deleted", 1) == "deleted" and index_status("expired", 3) == "edited"
    assert index_status("unavailable", 1) == "live"
    warc = sorted(harvested.collection().warcs.glob("*.warc.gz"))[0]
    fields = read_warcinfo(warc)
    assert fields["isPartOf"] == "default" and "weidang-demo" not in fields
    assert read_warcinfo(tmp_path / "missing.warc.gz") == {}


def test_the_tantivy_index_catches_up_to_what_the_harvests_indexed(harvested: Harvested, tmp_path):
    from catalog.index_feed import DocumentFeed, catch_up, index_lag
    from catalog.search.tantivy_index import TantivySearchIndex

    expected = harvested.indexed()  # the SQLite index the harvests fed as they went
    collections = {"default": harvested.collection()}
    with harvested.archive.catalog() as db, TantivySearchIndex(tmp_path / "t") as index:
        feed = DocumentFeed(db, collections.get)
        assert catch_up(index, feed) == len(expected)  # no cursor yet: rebuilt whole
        assert catch_up(index, feed) == 0 and not index_lag(index, feed).behind
        held = {hit.doc_id: index.get(hit.doc_id).to_dict()  # type: ignore[union-attr]
                for hit in index.scan("")}
        assert held == expected
        sqlite = harvested.index()
        try:
            for query in ("疫情", "档案", "疫情通报已更新", "应急管理", "档"):
                assert ({h.doc_id for h in index.scan(query)}
                        == {h.doc_id for h in sqlite.scan(query)}), query
        finally:
            sqlite.close()
