"""What the archive holds of each post: its versions, media and status events.

``PostCatalog`` writes the derived tables of ``catalog.store``. The crawler asks it, for each post
it reads, whether this is a new post, an edit (a new version) or the version already held
(``decide``), then records what it wrote to the WARC (``record_version``, ``record_status``).
``catalog.rebuild`` feeds the same two methods from the metadata records of the WARC files, which
is why every write is idempotent (keyed by the metadata record id) and every summary column of
``posts`` is recomputed from the rows beneath it rather than updated in place: the tables come
out the same whether they were written live or rebuilt.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from catalog.db import Database
from catalog.errors import CatalogError
from catalog.identity import account_keys, record_identity
from catalog.metadata import Evidence, MetadataRecord
from catalog.store import ensure_schema, iso, write
from harvesters.records import CATALOG_STATUSES, POST_STATUSES, Media, Post

EVIDENCE_LIKE = Evidence | Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    """What a freshly read post is to the catalog, and the version number to write it under."""

    outcome: str  # new | edited | unchanged
    version: int


class RecentPost(NamedTuple):
    post_id: str
    url: str
    status: str


@dataclass(frozen=True)
class StoredVersion:
    platform: str
    post_id: str
    version: int
    outcome: str  # new | edited
    fingerprint: str
    captured_at: str  # UTC, ISO 8601
    harvest_id: str
    collection: str
    metadata_record_id: str
    evidence: tuple[Evidence, ...]
    title: str
    text: str
    post_json: dict[str, Any]

    def post(self) -> Post:
        return Post.from_json(self.post_json)


class PostCatalog:
    """The post tables over an open SQLite connection; ``collection`` names where records lie."""

    def __init__(self, conn: sqlite3.Connection | Database, collection: str = "default") -> None:
        self.conn = conn.conn if isinstance(conn, Database) else conn
        self.collection = collection
        ensure_schema(self.conn)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (a rebuild, a page of posts): much faster, all or none."""
        with write(self.conn):
            yield

    # -- deciding --------------------------------------------------------------------------
    def decide(self, post: Post) -> Decision:
        """New post, edit, or the version already held; counts (likes, reposts) never matter."""
        row = self.conn.execute(
            "SELECT version, fingerprint FROM versions WHERE platform = ? AND post_id = ? "
            "ORDER BY version DESC LIMIT 1", (post.platform, post.post_id)).fetchone()
        if row is None:
            return Decision("new", 1)
        if row[1] == post.content_fingerprint():
            return Decision("unchanged", int(row[0]))
        return Decision("edited", int(row[0]) + 1)

    # -- recording -------------------------------------------------------------------------
    def record_version(self, post: Post, version: int, outcome: str, metadata_record_id: str,
                       evidence: Sequence[EVIDENCE_LIKE], harvest_id: str,
                       captured_at: dt.datetime | None = None) -> int:
        """Record one capture of a post, written to the WARC as ``metadata_record_id``.

        Returns the version number the catalog holds it under. Recording the same metadata
        record again changes nothing. A capture whose content matches the version it names is a
        sighting of that version; if that number is already taken by other content (a crawler
        that did not repair after a crash), the capture becomes the next free version, and the
        metadata record id stays its link to the WARC.
        """
        if outcome not in ("new", "edited", "unchanged"):
            raise CatalogError(f"a post capture's outcome must be new, edited or unchanged, not {outcome!r}")
        when = captured_at or post.captured_at
        if when is None:
            raise CatalogError(f"the capture of post {post.platform}:{post.post_id} has no time")
        proofs = [Evidence.of(e) for e in evidence]
        fingerprint = post.content_fingerprint()
        key = (post.platform, post.post_id)
        with write(self.conn) as conn:
            done = conn.execute("SELECT version FROM captures WHERE metadata_record_id = ?",
                                (metadata_record_id,)).fetchone()
            if done is not None:
                return int(done[0])
            held = conn.execute("SELECT fingerprint FROM versions WHERE platform = ? AND post_id = ? "
                                "AND version = ?", (*key, version)).fetchone()
            if held is not None and held[0] == fingerprint:
                self._fill_media(post, version, proofs)
            else:
                if held is not None:
                    version = int(conn.execute("SELECT MAX(version) FROM versions WHERE platform = ? "
                                               "AND post_id = ?", key).fetchone()[0]) + 1
                self._insert_version(conn, post, version, fingerprint, when, harvest_id,
                                     metadata_record_id, proofs)
            conn.execute(
                "INSERT INTO captures (metadata_record_id, platform, post_id, version, outcome, "
                "captured_at, harvest_id, collection, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (metadata_record_id, *key, version, outcome, iso(when), harvest_id,
                 self.collection, int(post.pinned)))
            self._refresh(*key)
            record_identity(conn, post, harvest_id, when)
        return version

    def _insert_version(self, conn: sqlite3.Connection, post: Post, version: int, fingerprint: str,
                        when: dt.datetime, harvest_id: str, metadata_record_id: str,
                        proofs: Sequence[Evidence]) -> None:
        """Add a version with content the catalog did not hold under that number."""
        key = (post.platform, post.post_id)
        earlier = conn.execute("SELECT 1 FROM versions WHERE platform = ? AND post_id = ? "
                               "LIMIT 1", key).fetchone()
        conn.execute(
            "INSERT INTO versions (platform, post_id, version, outcome, fingerprint, "
            "captured_at, harvest_id, collection, metadata_record_id, evidence, title, text, "
            "post) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, version, "edited" if earlier else "new", fingerprint, iso(when),
             harvest_id, self.collection, metadata_record_id,
             json.dumps([p.to_json() for p in proofs], ensure_ascii=False),
             post.title, post.text, _post_json(post)))
        self._insert_media(post, version, proofs)

    def record_status(self, platform: str, post_id: str, status: str, reason: str,
                      evidence_record_id: str | None, metadata_record_id: str, harvest_id: str,
                      when: dt.datetime) -> bool:
        """Record a status event (deleted, blocked, ...); the versions already held stay.

        Returns False when this metadata record was recorded before.
        """
        if status not in POST_STATUSES:
            raise CatalogError(f"post status {status!r} is not one of {', '.join(POST_STATUSES)}")
        with write(self.conn) as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO statuses (metadata_record_id, platform, post_id, status, "
                "reason, evidence_record_id, harvest_id, collection, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (metadata_record_id, platform, post_id, status, reason, evidence_record_id,
                 harvest_id, self.collection, iso(when)))
            if cursor.rowcount == 0:
                return False
            self._refresh(platform, post_id)
        return True

    def apply(self, record: MetadataRecord, metadata_record_id: str) -> None:
        """Record a metadata record read back from a WARC file (rebuild, repair)."""
        if record.outcome == "status":
            evidence = next((e.record_id for e in record.evidence if e.role == "recheck"),
                            record.evidence[0].record_id if record.evidence else None)
            self.record_status(record.platform, record.post_id, record.status, record.reason,
                               evidence, metadata_record_id, record.harvest_id, record.captured_at)
        elif record.post is not None:
            self.record_version(record.post, record.version, record.outcome, metadata_record_id,
                                record.evidence, record.harvest_id, record.captured_at)

    # -- reading ---------------------------------------------------------------------------
    def known(self, platform: str, post_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM posts WHERE platform = ? AND post_id = ?",
                                 (platform, post_id)).fetchone() is not None

    def held_by_complete_run(self, platform: str, post_id: str, account: str) -> bool:
        """Whether a harvest of ``account`` that walked its whole listing recorded this post.

        Only then is everything published before it held too: a run stopped by the platform
        (418, captcha), cut short by a shutdown or killed never listed the older posts. A run
        that ended "partial" only because some files failed did walk its listing (no reason).
        The run that began the account's backfill from the top counts however it ended: the
        backfill goes on from where that run stopped (``catalog.backfills``), so what lies
        between is held or being walked.
        """
        return self.conn.execute(
            "SELECT 1 FROM versions v JOIN runs r ON r.run_id = v.harvest_id "
            "WHERE v.platform = ? AND v.post_id = ? AND r.account = ? AND (r.outcome = 'ok' "
            "OR (r.outcome = 'partial' AND COALESCE(r.reason, '') = '') OR r.run_id IN "
            "(SELECT origin_run_id FROM backfills WHERE account = r.account)) LIMIT 1",
            (platform, post_id, account)).fetchone() is not None

    def newest_post_id(self, platform: str, account_id: str) -> str | None:
        """The most recently published post held (pinned posts aside): incremental harvests stop there."""
        where, keys = self._of_account(f"{platform}:{account_id}", "account")
        row = self.conn.execute(
            f"SELECT post_id FROM posts WHERE {where} AND pinned = 0 "
            "ORDER BY published_at DESC, length(post_id) DESC, post_id DESC LIMIT 1",
            keys).fetchone()
        return str(row[0]) if row else None

    def recent_posts(self, platform: str, account_id: str,
                     since: dt.datetime) -> list[RecentPost]:
        """``(post_id, url, status)`` of the posts first captured at or after ``since``, newest first."""
        where, keys = self._of_account(f"{platform}:{account_id}", "account")
        rows = self.conn.execute(
            f"SELECT post_id, url, status FROM posts WHERE {where} AND first_captured >= ? "
            "ORDER BY published_at DESC, length(post_id) DESC, post_id DESC",
            (*keys, iso(since))).fetchall()
        return [RecentPost(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def current_version(self, platform: str, post_id: str) -> int | None:
        row = self.conn.execute("SELECT MAX(version) FROM versions WHERE platform = ? AND post_id = ?",
                                (platform, post_id)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def status(self, platform: str, post_id: str) -> str | None:
        row = self.conn.execute("SELECT status FROM posts WHERE platform = ? AND post_id = ?",
                                (platform, post_id)).fetchone()
        return str(row[0]) if row else None

    def versions(self, platform: str, post_id: str) -> list[StoredVersion]:
        rows = self.conn.execute(
            "SELECT platform, post_id, version, outcome, fingerprint, captured_at, harvest_id, "
            "collection, metadata_record_id, evidence, title, text, post FROM versions "
            "WHERE platform = ? AND post_id = ? ORDER BY version", (platform, post_id)).fetchall()
        return [StoredVersion(
            platform=r[0], post_id=r[1], version=int(r[2]), outcome=r[3], fingerprint=r[4],
            captured_at=r[5], harvest_id=r[6], collection=r[7], metadata_record_id=r[8],
            evidence=tuple(Evidence.of(e) for e in json.loads(r[9])), title=r[10], text=r[11],
            post_json=json.loads(r[12])) for r in rows]

    def counts(self, account: str) -> dict[str, int]:
        """Posts of ``account`` (``platform:id``, its linked ids too) by status, plus ``posts``,
        ``versions``, ``media``."""
        out = {status: 0 for status in CATALOG_STATUSES}
        where, keys = self._of_account(account, "account")
        for status, n in self.conn.execute(
                f"SELECT status, COUNT(*) FROM posts WHERE {where} GROUP BY status", keys):
            out[str(status)] = int(n)
        out["posts"] = sum(out.values())
        where, keys = self._of_account(account, "p.account")
        for table in ("versions", "media"):
            out[table] = int(self.conn.execute(
                f"SELECT COUNT(*) FROM {table} t JOIN posts p ON p.platform = t.platform "
                f"AND p.post_id = t.post_id WHERE {where}", keys).fetchone()[0])
        return out

    def count(self, platform: str, account_id: str) -> int:
        """How many posts of the account the archive holds (whatever their status), under any
        of its ids (a WeChat account registered by its gh_ id has its posts under its __biz)."""
        where, keys = self._of_account(f"{platform}:{account_id}", "account")
        return int(self.conn.execute(f"SELECT COUNT(*) FROM posts WHERE {where}",
                                     keys).fetchone()[0])

    def account_keys(self, account: str) -> frozenset[str]:
        """Every ``platform:id`` of the account ``account`` (``catalog.identity``)."""
        platform, _, account_id = account.partition(":")
        return account_keys(self.conn, account_id, platform)

    def known_metadata_ids(self) -> set[str]:
        """Every metadata record id already recorded (what repair need not read again)."""
        return {str(r[0]) for r in self.conn.execute(
            "SELECT metadata_record_id FROM captures UNION SELECT metadata_record_id FROM statuses")}

    def recorded(self) -> dict[str, tuple[str, str]]:
        """Every metadata record id of this collection the catalog holds, with its post."""
        rows = self.conn.execute(
            "SELECT metadata_record_id, platform, post_id FROM captures WHERE collection = ? "
            "UNION ALL SELECT metadata_record_id, platform, post_id FROM statuses "
            "WHERE collection = ?", (self.collection, self.collection))
        return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def forget(self, posts: set[tuple[str, str]]) -> int:
        """Drop this collection's rows of ``posts`` (to be read again from the WARC files);
        returns how many captures and status events went. Derived rows only: nothing is lost."""
        dropped = 0
        with write(self.conn) as conn:
            for key in sorted(posts):
                where = "platform = ? AND post_id = ? AND collection = ?"
                args = (*key, self.collection)
                conn.execute("DELETE FROM media WHERE platform = ? AND post_id = ? AND version IN "
                             f"(SELECT version FROM versions WHERE {where})", (*key, *args))
                conn.execute(f"DELETE FROM versions WHERE {where}", args)
                for table in ("captures", "statuses"):
                    dropped += conn.execute(f"DELETE FROM {table} WHERE {where}", args).rowcount
                conn.execute("DELETE FROM posts WHERE platform = ? AND post_id = ?", key)
                self._refresh(*key)  # rows of other collections, if any, make it again
        return dropped

    # -- internals -------------------------------------------------------------------------
    def _of_account(self, account: str, column: str) -> tuple[str, tuple[str, ...]]:
        """``column IN (...)`` over the account's keys, and the keys."""
        keys = tuple(sorted(self.account_keys(account)))
        return f"{column} IN ({', '.join('?' * len(keys))})", keys

    def _insert_media(self, post: Post, version: int, proofs: Sequence[Evidence]) -> None:
        fetched = _media_evidence(proofs)
        for position, (item, in_repost) in enumerate(_all_media(post)):
            proof = _match(item, fetched)
            self.conn.execute(
                "INSERT INTO media (platform, post_id, version, position, kind, url, media_id, "
                "record_id, payload_digest, revisit_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (post.platform, post.post_id, version, position,
                 f"repost {item.kind}" if in_repost else item.kind, item.url, item.id,
                 proof.record_id if proof else None, proof.payload_digest if proof else None,
                 proof.revisit_of if proof else None))

    def _fill_media(self, post: Post, version: int, proofs: Sequence[Evidence]) -> None:
        """A later sighting may bring media the first capture could not fetch."""
        fetched = _media_evidence(proofs)
        if not fetched:
            return
        for position, (item, _) in enumerate(_all_media(post)):
            proof = _match(item, fetched)
            if proof is not None:
                self.conn.execute(
                    "UPDATE media SET record_id = ?, payload_digest = ?, revisit_of = ? "
                    "WHERE platform = ? AND post_id = ? AND version = ? AND position = ? "
                    "AND record_id IS NULL",
                    (proof.record_id, proof.payload_digest, proof.revisit_of, post.platform,
                     post.post_id, version, position))

    def _refresh(self, platform: str, post_id: str) -> None:
        """Recompute the post's summary row from its versions, captures and status events."""
        key = (platform, post_id)
        current = self.conn.execute(
            "SELECT version, post FROM versions WHERE platform = ? AND post_id = ? "
            "ORDER BY version DESC LIMIT 1", key).fetchone()
        if current is None:
            return  # a status event for a post whose capture is not (yet) recorded
        first, last = self.conn.execute(
            "SELECT MIN(captured_at), MAX(captured_at) FROM captures WHERE platform = ? "
            "AND post_id = ?", key).fetchone()
        pinned = self.conn.execute(
            "SELECT pinned FROM captures WHERE platform = ? AND post_id = ? "
            "ORDER BY captured_at DESC, metadata_record_id DESC LIMIT 1", key).fetchone()[0]
        event = self.conn.execute(
            "SELECT status, at FROM statuses WHERE platform = ? AND post_id = ? "
            "ORDER BY at DESC, metadata_record_id DESC LIMIT 1", key).fetchone()
        version = int(current[0])
        status = "edited" if version > 1 else "live"
        if event is not None and event[0] != "live" and event[1] >= last:
            status = str(event[0])
        data = json.loads(current[1])
        published = data.get("published_at")
        self.conn.execute(
            "INSERT INTO posts (platform, post_id, account, current_version, first_captured, "
            "last_captured, status, pinned, published_at, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, post_id) DO UPDATE SET account = excluded.account, "
            "current_version = excluded.current_version, first_captured = excluded.first_captured, "
            "last_captured = excluded.last_captured, status = excluded.status, "
            "pinned = excluded.pinned, published_at = excluded.published_at, url = excluded.url",
            (*key, f"{platform}:{data.get('account_id', '')}", version, first, last, status,
             pinned, _utc_text(published), data.get("url") or ""))


def _utc_text(published: str | None) -> str | None:
    """A publication time in the catalog's one format (a zone-less time is kept as written)."""
    if not published:
        return None
    try:
        return iso(dt.datetime.fromisoformat(published))
    except ValueError:
        return published


def _post_json(post: Post) -> str:
    return json.dumps(post.to_json(), ensure_ascii=False, sort_keys=True)


def _all_media(post: Post) -> list[tuple[Media, bool]]:
    own = [(m, False) for m in post.media]
    return own + ([(m, True) for m in post.repost.media] if post.repost is not None else [])


def _media_evidence(proofs: Sequence[Evidence]) -> dict[str, Evidence]:
    return {p.url: p for p in proofs if p.role == "media"}


def _match(item: Media, fetched: Mapping[str, Evidence]) -> Evidence | None:
    for url in (item.url, *item.alternatives):
        if url in fetched:
            return fetched[url]
    return None
