"""A second harvest of an account: what did not change is not stored again.

An identical payload becomes a revisit pointing at the record that holds its bytes; an edited
post still gets its new version, read from a full response; and the catalog's evidence names a
record for every payload.
"""

from __future__ import annotations

import gzip
import json

from crawler_helpers import Archive, emulator_site, wechat_account, wechat_ids

from catalog.metadata import read_metadata
from warc_store import read_record

BIZ = "MzkwMDAwMDAwMQ=="
KEY = f"wechat:{BIZ}"

site = emulator_site(accounts=1, posts=12)


def _archive(site, tmp_path) -> Archive:
    account = wechat_account(site, BIZ)
    archive = Archive(tmp_path / "home", site)
    archive.add(KEY, source="backend", credentials={"cookie": account["cookie"],
                                                    "token": account["token"]})
    return archive


def _stored_bytes(archive: Archive) -> int:
    return sum(p.stat().st_size for p in archive.warc_files())


def test_an_unchanged_reharvest_stores_revisits_of_the_first_one(site, tmp_path):
    archive = _archive(site, tmp_path)
    first, _ = archive.harvest(KEY)
    assert first["outcome"] == "ok" and first["posts_new"] == len(wechat_ids(wechat_account(site, BIZ)))
    before = {r.record_id for r in archive.records()}
    first_bytes = _stored_bytes(archive)
    second, _ = archive.harvest(KEY)
    assert second["outcome"] == "ok" and second["posts_new"] == second["posts_edited"] == 0, second
    assert second["revisits"] > 0
    new = [r for r in archive.records() if r.record_id not in before]
    pages = [r for r in new if "/s?" in r.uri and r.record_type in ("response", "revisit")]
    assert pages and all(r.record_type == "revisit" for r in pages)
    collection = archive.collection()
    old_digests = {r.header("WARC-Payload-Digest") for r in archive.records()
                   if r.record_id in before and r.record_type == "response"}
    for record in new:
        if record.record_type == "revisit":  # it points at the response holding the same bytes
            original = read_record(collection, record.header("WARC-Refers-To") or "")
            assert original.record_type == "response" and original.payload
            assert original.header("WARC-Payload-Digest") == record.header("WARC-Payload-Digest")
        elif record.record_type == "response":  # never the same bytes stored again
            assert record.header("WARC-Payload-Digest") not in old_digests, record.uri
    assert _stored_bytes(archive) - first_bytes <= 0.05 * first_bytes
    assert archive.weidang("verify").returncode == 0


def test_an_edited_article_gets_its_version_from_a_full_response(site, tmp_path):
    archive = _archive(site, tmp_path)
    first, _ = archive.harvest(KEY)
    assert first["outcome"] == "ok", first
    edited = wechat_ids(wechat_account(site, BIZ))[2]
    mid, idx = edited.split("_")
    site.control("POST", "/mutate", json.dumps({"op": "edit", "platform": "wechat", "biz": BIZ,
                                                "mid": int(mid), "idx": int(idx),
                                                "title": "关于会议时间的更正通知"}).encode())
    second, _ = archive.harvest(KEY)
    assert second["posts_edited"] == 1 and second["posts_new"] == 0, second
    [(metadata_id,)] = archive.rows("SELECT metadata_record_id FROM versions WHERE post_id = ? "
                                    "AND version = 2", edited)
    collection = archive.collection()
    version = read_metadata(read_record(collection, metadata_id).payload)
    assert version.outcome == "edited" and "更正" in version.post.title
    page = next(e for e in version.evidence if e.role == "article")
    record = read_record(collection, page.record_id)
    body = gzip.decompress(record.payload) if record.payload[:2] == b"\x1f\x8b" else record.payload
    assert record.record_type == "response" and "关于会议时间的更正通知".encode() in body
    # every payload of its evidence is named by a record that holds it, or points at one
    for item in version.evidence:
        named = read_record(collection, item.record_id)
        holder = read_record(collection, item.revisit_of) if item.revisit_of else named
        assert holder.record_type == "response"
        assert holder.header("WARC-Payload-Digest") == named.header("WARC-Payload-Digest")
    assert archive.weidang("verify").returncode == 0


def test_an_unchanged_weibo_reharvest_rechecks_through_the_timeline(site, tmp_path):
    """The incremental listing reaches the archive on its first page, but goes on while its pages
    show posts due for a re-check: a page re-checks ten posts for one request, where asking each
    post again (statuses/show) would take one request each."""
    archive = Archive(tmp_path / "home", site)
    key = "weibo:7000000001"
    archive.add(key)
    first, _ = archive.harvest(key)
    assert first["outcome"] == "ok" and first["posts_new"] >= 12
    before = {r.record_id for r in archive.records()}
    second, _ = archive.harvest(key)
    assert second["outcome"] == "ok" and second["posts_new"] == second["posts_edited"] == 0, second
    asked = [r.uri for r in archive.records() if r.record_id not in before and r.record_type == "request"]
    assert sum("/api/container/getIndex" in u for u in asked) >= 2, asked  # beyond the first page
    assert not [u for u in asked if "/statuses/show" in u], asked  # every post was seen listed
    # nor is a long text asked for again: the archive holds it whole and Weibo counts every edit
    own = set(archive.post_ids(key))
    long_posts = {u.split("id=")[1] for u in first_asked(archive, before) if "/statuses/extend" in u} & own
    assert long_posts, "the emulator's account has long posts"
    assert not [u for u in asked if "/statuses/extend" in u and u.split("id=")[1] in own], asked
    # an edit of a long post raises its edit count: its long text is read again, a new version
    edited = sorted(long_posts)[0]
    correction = "更正：" + "本次会议改期举行，具体时间另行通知。" * 20
    site.control("POST", "/mutate", json.dumps({"op": "edit", "platform": "weibo", "id": edited,
                                                "text": correction}).encode())
    third, _ = archive.harvest(key)
    assert third["outcome"] == "ok" and third["posts_edited"] == 1, third
    (text,) = archive.rows("SELECT text FROM versions WHERE platform = 'weibo' AND post_id = ? "
                           "AND version = 2", edited)[0]
    assert "具体时间另行通知" in text


def first_asked(archive: Archive, later: set[str]) -> list[str]:
    """The addresses the harvests before the records ``later`` asked for."""
    return [r.uri for r in archive.records() if r.record_id in later and r.record_type == "request"]
