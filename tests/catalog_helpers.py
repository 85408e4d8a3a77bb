"""Harvests for the catalog tests, written the way the crawler writes them: real WARC exchanges of
the real timeline samples, one metadata record per post, then the catalog."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from catalog.db import Database
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


POSTGRES_ENV = "WEIDANG_TEST_POSTGRES_URL"
DIALECTS = ("sqlite", "postgresql")


def postgres_url() -> tuple[str | None, str]:
    """The test server's URL from ``WEIDANG_TEST_POSTGRES_URL``, or None and why not."""
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        return None, (f"{POSTGRES_ENV} is not set: the catalog tests run on SQLite only (set it, "
                      "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test, to run them on "
                      "PostgreSQL too)")
    parsed = make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=2).close()
    except OSError as exc:
        where = f"{parsed.host}:{parsed.port or 5432}"
        return None, f"{POSTGRES_ENV} names {where}, which does not answer ({exc})"
    return url, ""


class Catalogs:
    """Fresh catalogs for one test: SQLite files in ``tmp_path``, or PostgreSQL schemas of the
    test server (one per name, dropped afterwards)."""

    def __init__(self, dialect: str, tmp_path: Path) -> None:
        self.dialect = dialect
        self.tmp_path = tmp_path
        self._schemas: dict[str, str] = {}
        self._opened: list[Database] = []
        self._server = postgres_url()[0] if dialect == "postgresql" else None

    def target(self, name: str = "catalog") -> Path | str:
        """Where the catalog ``name`` lives (a path or a URL), the same each time it is asked."""
        if self._server is None:
            return self.tmp_path / f"{name}.sqlite"
        if name not in self._schemas:
            schema = f"t_{secrets.token_hex(6)}"
            with create_engine(self._server).begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            self._schemas[name] = schema
        sep = "&" if "?" in self._server else "?"
        return f"{self._server}{sep}options={quote('-csearch_path=' + self._schemas[name])}"

    def open(self, name: str = "catalog") -> Database:
        db = Database(self.target(name))
        self._opened.append(db)
        return db

    def close(self) -> None:
        for db in self._opened:
            db.close()
        if self._server is not None and self._schemas:
            engine = create_engine(self._server)
            with engine.begin() as conn:
                for schema in self._schemas.values():
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()


def rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Every row of a query (named parameters, ``:name``), as plain tuples."""
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).fetchall()]


def execute(db: Database, sql: str, **params: Any) -> int:
    """One statement in its own write; returns the rows it changed."""
    with db.write() as conn:
        return int(conn.execute(text(sql), params).rowcount)


def harvest(writer: CaptureWriter, catalog: PostCatalog, posts: list[Post], body: bytes,
            harvest_id: str, fetch_media: bool = True,
            decided: Decision | None = None) -> list[Decision]:
    """Record the listing, each post's media (the bytes are stand-ins: the media URLs are real),
    and one metadata record per post, as the crawler does. ``decided``: what every post was
    decided to be before (two harvests that decided at once, then recorded one after the other)."""
    listing = writer.write_exchange(
        HttpRequest("GET", LISTING_URL, [("Host", "m.weibo.cn")]),
        HttpResponse(200, "OK", [("Content-Type", "application/json; charset=utf-8")], body))
    decisions = []
    for post in posts:
        decision = decided or catalog.decide(post)
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


def derived_tables(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every derived table, in a fixed order, for table-by-table comparison; the
    row numbers (``seq``) aside, which only say in what order rows were added."""
    out = {}
    with db.read() as conn:
        for table in DERIVED:
            result = conn.execute(text(f"SELECT * FROM {table}"))
            keep = [i for i, name in enumerate(result.keys()) if name != "seq"]
            out[table] = sorted(tuple(row[i] for i in keep) for row in result)
    return out


def stored_bytes(db: Database) -> bytes:
    """Everything the catalog holds: its files on SQLite (after a checkpoint), every row of every
    table on a server."""
    from catalog.schema import metadata

    if db.path is not None:
        rows(db, "PRAGMA wal_checkpoint(FULL)")
        return b"".join(p.read_bytes() for p in db.path.parent.iterdir()
                        if p.name.startswith(db.path.name))
    return repr([rows(db, f"SELECT * FROM {t}") for t in metadata.tables]).encode()
