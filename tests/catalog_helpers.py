"""Harvests for the catalog tests, written the way the crawler writes them: real WARC exchanges of
the real timeline samples, one metadata record per post, then the catalog."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from catalog.metadata import Evidence, post_metadata, status_metadata
from catalog.posts import Decision, PostCatalog
from catalog.recording import write_post_status, write_post_version
from harvesters import WeiboHarvester
from harvesters.dates import SHANGHAI
from harvesters.records import Post
from warc_store import CaptureWriter, HttpRequest, HttpResponse

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data" / "weibo"
UID = "6279793937"
ACCOUNT = f"weibo:{UID}"
LISTING_URL = f"https://m.weibo.cn/api/container/getIndex?containerid=107603{UID}"
PAGE1 = "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json"
PAGE2 = "mweibo_getIndex_timeline_107603_arknights_page2_newpost.json"  # same timeline, one post more
FIRST = dt.datetime(2021, 6, 17, 16, 30, tzinfo=SHANGHAI)
LATER = dt.datetime(2021, 6, 18, 9, 0, tzinfo=SHANGHAI)


def timeline(sample: str, captured_at: dt.datetime) -> tuple[bytes, list[Post]]:
    harvester = WeiboHarvester()
    body = (DATA / sample).read_bytes()
    result = harvester.parse(harvester.request_for_url(LISTING_URL), 200, {}, body, captured_at)
    return body, result.posts


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def harvest(writer: CaptureWriter, catalog: PostCatalog, posts: list[Post], body: bytes,
            harvest_id: str, fetch_media: bool = True) -> list[Decision]:
    """Record the listing, each post's media (the bytes are stand-ins: the media URLs are real),
    and one metadata record per post, as the crawler does."""
    listing = writer.write_exchange(
        HttpRequest("GET", LISTING_URL, [("Host", "m.weibo.cn")]),
        HttpResponse(200, "OK", [("Content-Type", "application/json; charset=utf-8")], body))
    decisions = []
    for post in posts:
        decision = catalog.decide(post)
        evidence = [Evidence(listing.response_id, listing.url, "listing", listing.payload_digest)]
        if fetch_media and decision.outcome != "unchanged":
            for item in post.media:
                picture = hashlib.sha256(item.id.encode()).digest() * 64
                fetched = writer.write_exchange(
                    HttpRequest("GET", item.url),
                    HttpResponse(200, "OK", [("Content-Type", "image/jpeg")], picture), dedup=True)
                evidence.append(Evidence(fetched.response_id, fetched.url, "media",
                                         fetched.payload_digest, fetched.revisit_of))
        write_version(writer, catalog, post, decision, evidence, harvest_id)
        decisions.append(decision)
    return decisions


def write_version(writer: CaptureWriter, catalog: PostCatalog | None, post: Post, decision: Decision,
                  evidence: list[Evidence], harvest_id: str) -> str:
    """The metadata record, then the catalog (``catalog`` None: the process died in between)."""
    assert post.captured_at is not None
    if catalog is not None:
        return write_post_version(writer, catalog, post, decision, evidence, harvest_id,
                                  post.captured_at)[0]
    uri, body, ctype = post_metadata(post, decision.version, decision.outcome, harvest_id, evidence)
    return writer.write_metadata(uri, body, ctype, refers_to=[e.record_id for e in evidence]).record_id


def recheck_deleted(writer: CaptureWriter, catalog: PostCatalog | None, post_id: str,
                    harvest_id: str, when: dt.datetime) -> str:
    """A re-check finds a post deleted: the platform's answer, its status record, the catalog."""
    url = f"https://m.weibo.cn/statuses/show?id={post_id}"
    answer = writer.write_exchange(
        HttpRequest("GET", url),
        HttpResponse(200, "OK", [("Content-Type", "application/json")],
                     '{"ok":0,"msg":"该微博已被删除","errno":"20101"}'.encode()))
    evidence = [Evidence(answer.response_id, answer.url, "recheck", answer.payload_digest)]
    if catalog is not None:
        return write_post_status(writer, catalog, "weibo", post_id, ACCOUNT, "deleted", "该微博已被删除",
                                 evidence, harvest_id, when)[0]
    uri, body, ctype = status_metadata("weibo", post_id, ACCOUNT, "deleted", "该微博已被删除",
                                       harvest_id, evidence, when)
    return writer.write_metadata(uri, body, ctype, refers_to=[answer.response_id]).record_id


DERIVED = ("posts", "versions", "media", "statuses", "captures")


def derived_tables(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every derived table, in a fixed order, for table-by-table comparison."""
    return {table: sorted(tuple(row) for row in conn.execute(f"SELECT * FROM {table}"))
            for table in DERIVED}
