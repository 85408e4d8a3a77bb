"""What the archive holds of each post: its versions, media and status events.

``PostCatalog`` writes the derived tables of ``catalog.schema``. The crawler asks it, for each post
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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, TextClause, bindparam, func, select, text

from catalog.db import Database
from catalog.errors import CatalogError
from catalog.identity import account_keys, record_identities, record_identity
from catalog.metadata import Evidence, MetadataRecord
from catalog.schema import captures, insert_ignore, iso, media, statuses, upsert, versions
from catalog.schema import posts as posts_table
from harvesters.records import CATALOG_STATUSES, POST_STATUSES, Media, Post

EVIDENCE_LIKE = Evidence | Mapping[str, Any]

# The statements recording a post runs, built once: building them anew for every post (and
# their cache keys) cost more CPU than running them.
_OF_POST = "WHERE platform = :platform AND post_id = :post_id"
_LATEST_FINGERPRINT = text(f"SELECT version, fingerprint FROM versions {_OF_POST} "
                           "ORDER BY version DESC LIMIT 1")
_LATEST_POST = text(f"SELECT post FROM versions {_OF_POST} ORDER BY version DESC LIMIT 1")
_LATEST_VERSION = text(f"SELECT version, post FROM versions {_OF_POST} ORDER BY version DESC LIMIT 1")
_ANY_VERSION = text(f"SELECT version FROM versions {_OF_POST} LIMIT 1")
_CAPTURE_SPAN = text(f"SELECT MIN(captured_at), MAX(captured_at) FROM captures {_OF_POST}")
_LAST_PINNED = text(f"SELECT pinned FROM captures {_OF_POST} "
                    "ORDER BY captured_at DESC, metadata_record_id DESC LIMIT 1")
_LAST_STATUS = text(f"SELECT status, at FROM statuses {_OF_POST} "
                    "ORDER BY at DESC, metadata_record_id DESC LIMIT 1")
_CAPTURED = select(captures.c.version).where(
    captures.c.metadata_record_id == bindparam("metadata_record_id"))
_CAPTURED_AMONG = text("SELECT metadata_record_id FROM captures WHERE metadata_record_id IN :ids"
                       ).bindparams(bindparam("ids", expanding=True))
# Any row at all of these posts: then a capture of one of them is not simply its first.
_KNOWN_AMONG = text(" UNION ".join(
    f"SELECT post_id FROM {table} WHERE platform = :platform AND post_id IN :ids"
    for table in ("versions", "captures", "statuses", "posts"))).bindparams(
    bindparam("ids", expanding=True))
_VERSIONS_AMONG = text("SELECT post_id, version, fingerprint FROM versions "
                       "WHERE platform = :platform AND post_id IN :ids").bindparams(
    bindparam("ids", expanding=True))
_HELD = select(versions.c.fingerprint, versions.c.captured_at, versions.c.metadata_record_id).where(
    versions.c.platform == bindparam("platform"), versions.c.post_id == bindparam("post_id"),
    versions.c.version == bindparam("version"))


_HELD_BY_COMPLETE_RUN = text(
    "SELECT 1 FROM versions v JOIN runs r ON r.run_id = v.harvest_id "
    "WHERE v.platform = :platform AND v.post_id IN :post_ids AND r.account = :account "
    "AND (r.outcome = 'ok' OR (r.outcome = 'partial' AND COALESCE(r.reason, '') = '') "
    "OR r.run_id IN (SELECT origin_run_id FROM backfills WHERE account = r.account)) LIMIT 1"
).bindparams(bindparam("post_ids", expanding=True))


@dataclass(frozen=True)
class Decision:
    """What a freshly read post is to the catalog, and the version number to write it under."""

    outcome: str  # new | edited | unchanged
    version: int


def decision(post: Post, latest: tuple[int, str] | None) -> Decision:
    """What ``post`` is to a catalog whose latest version of it is ``latest`` (number,
    fingerprint), or which holds none."""
    if latest is None:
        return Decision("new", 1)
    if latest[1] == post.content_fingerprint():
        return Decision("unchanged", latest[0])
    return Decision("edited", latest[0] + 1)


class Capture(NamedTuple):
    """One capture of a post to record: ``PostCatalog.record_version``'s arguments."""

    post: Post
    version: int
    outcome: str
    metadata_record_id: str
    evidence: Sequence[EVIDENCE_LIKE]
    harvest_id: str
    captured_at: dt.datetime | None = None
    post_json: Mapping[str, Any] | None = None  # ``post.to_json()``, if taken already


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
    """The post tables of an open catalog; ``collection`` names where records lie."""

    def __init__(self, db: Database, collection: str = "default") -> None:
        self.db = db
        self.collection = collection

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (a rebuild, a page of posts): much faster, all or none."""
        with self.db.write():
            yield

    def _one(self, sql: str | TextClause, **params: Any) -> Any:
        """The first row of a query, or None."""
        with self.db.read() as conn:
            return conn.execute(text(sql) if isinstance(sql, str) else sql, params).first()

    # -- deciding --------------------------------------------------------------------------
    def decide(self, post: Post) -> Decision:
        """New post, edit, or the version already held; counts (likes, reposts) never matter."""
        row = self._one(_LATEST_FINGERPRINT, platform=post.platform, post_id=post.post_id)
        return decision(post, (int(row[0]), str(row[1])) if row is not None else None)

    def latest_versions(self, platform: str, post_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """The latest version (number, fingerprint) of each of these posts the catalog holds, in
        one query for an answer's posts (``decision`` then says what each is)."""
        latest: dict[str, tuple[int, str]] = {}
        with self.db.read() as conn:
            for chunk in _chunks(list(post_ids)):
                for post_id, version, fingerprint in conn.execute(
                        _VERSIONS_AMONG, {"platform": platform, "ids": chunk}):
                    if int(version) > latest.get(post_id, (0, ""))[0]:
                        latest[str(post_id)] = (int(version), str(fingerprint))
        return latest

    def versions_of_harvest(self, harvest_id: str) -> int:
        """How many post versions (new or edited) the harvest ``harvest_id`` has recorded so far."""
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(versions)
                                    .where(versions.c.harvest_id == harvest_id)).scalar_one())

    def current_post(self, platform: str, post_id: str) -> Post | None:
        """The post as its latest version holds it, or None when none is held."""
        row = self._one(_LATEST_POST, platform=platform, post_id=post_id)
        return Post.from_json(json.loads(row[0])) if row and row[0] else None

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
        capture = Capture(post, version, outcome, metadata_record_id, evidence, harvest_id,
                          captured_at)
        when = _checked(capture)
        proofs = [Evidence.of(e) for e in evidence]
        fingerprint = post.content_fingerprint()
        key = {"platform": post.platform, "post_id": post.post_id}
        with self.db.write() as conn:
            done = conn.execute(_CAPTURED, {"metadata_record_id": metadata_record_id}).scalar()
            if done is not None:
                return int(done)
            held = conn.execute(_HELD, {**key, "version": version}).first()
            if held is not None and held[0] == fingerprint:
                if (iso(when), metadata_record_id) < (held[1], held[2]):
                    self._cite_earlier(conn, post, version, when, harvest_id,
                                       metadata_record_id, proofs)
                else:
                    self._fill_media(conn, post, version, proofs)
            else:
                if held is not None:
                    version = int(conn.execute(select(func.max(versions.c.version)).filter_by(
                        **key)).scalar_one()) + 1
                self._insert_version(conn, post, version, fingerprint, when, harvest_id,
                                     metadata_record_id, proofs)
            conn.execute(captures.insert(), self._capture_row(capture._replace(version=version), when))
            self._refresh(conn, post.platform, post.post_id)
            record_identity(conn, post, harvest_id, when)
        return version

    def record_versions(self, batch: Sequence[Capture]) -> list[int]:
        """``record_version`` for many captures, in their order, in one write; returns the
        version each is held under.

        The usual capture in a harvest is the first of a post the catalog has never seen, and
        nothing about it needs a question to the database: those are found with two queries and
        written with one statement per table. Every other capture (a post seen before, a
        status event first, a post twice in the batch) goes through ``record_version`` in turn,
        so the tables come out exactly as if each had been recorded alone.
        """
        if not batch:
            return []
        whens = [_checked(c) for c in batch]
        held: list[int] = []
        with self.db.write() as conn:
            first = self._first_captures(conn, batch)
            run: list[int] = []
            for i, capture in enumerate(batch):
                if i in first:
                    run.append(i)
                    continue
                self._record_first(conn, [batch[j] for j in run], [whens[j] for j in run])
                held += [batch[j].version for j in run] + [self._record_alone(capture)]
                run = []
            self._record_first(conn, [batch[j] for j in run], [whens[j] for j in run])
            held += [batch[j].version for j in run]
        return held

    def _record_alone(self, capture: Capture) -> int:
        return self.record_version(capture.post, capture.version, capture.outcome,
                                   capture.metadata_record_id, capture.evidence,
                                   capture.harvest_id, capture.captured_at)

    def _first_captures(self, conn: Connection, batch: Sequence[Capture]) -> set[int]:
        """Which of ``batch`` are the one capture in it of a post the catalog holds nothing of."""
        keys = Counter((c.post.platform, c.post.post_id) for c in batch)
        ids = Counter(c.metadata_record_id for c in batch)
        recorded = {str(r[0]) for chunk in _chunks(list(ids))
                    for r in conn.execute(_CAPTURED_AMONG, {"ids": chunk})}
        by_platform: dict[str, list[str]] = {}
        for platform, post_id in keys:
            by_platform.setdefault(platform, []).append(post_id)
        known = {(platform, str(r[0])) for platform, post_ids in by_platform.items()
                 for chunk in _chunks(post_ids)
                 for r in conn.execute(_KNOWN_AMONG, {"platform": platform, "ids": chunk})}
        return {i for i, c in enumerate(batch)
                if keys[(c.post.platform, c.post.post_id)] == 1
                and (c.post.platform, c.post.post_id) not in known
                and ids[c.metadata_record_id] == 1 and c.metadata_record_id not in recorded}

    def _record_first(self, conn: Connection, batch: Sequence[Capture],
                      whens: Sequence[dt.datetime]) -> None:
        """The first captures of posts new to the catalog: what ``record_version`` would write
        for each, without asking (one statement per table)."""
        if not batch:
            return
        version_rows, media_rows, summaries = [], [], []
        for capture, when in zip(batch, whens, strict=True):
            post, proofs = capture.post, [Evidence.of(e) for e in capture.evidence]
            data = capture.post_json or post.to_json()
            version_rows.append(self._version_row(capture, "new", post.content_fingerprint(),
                                                  when, proofs, _json_text(data)))
            media_rows += _media_rows(post, capture.version, proofs)
            stamp = iso(when)
            summaries.append(_summary_row(post.platform, post.post_id, capture.version, data,
                                          stamp, stamp, int(post.pinned), None))
        conn.execute(versions.insert(), version_rows)
        if media_rows:
            conn.execute(media.insert(), media_rows)
        conn.execute(captures.insert(), [self._capture_row(c, w)
                                         for c, w in zip(batch, whens, strict=True)])
        conn.execute(posts_table.insert(), summaries)
        record_identities(conn, [(c.post, c.harvest_id, w) for c, w in zip(batch, whens, strict=True)])

    def _capture_row(self, capture: Capture, when: dt.datetime) -> dict[str, Any]:
        post = capture.post
        return {"metadata_record_id": capture.metadata_record_id, "platform": post.platform,
                "post_id": post.post_id, "version": capture.version, "outcome": capture.outcome,
                "captured_at": iso(when), "harvest_id": capture.harvest_id,
                "collection": self.collection, "pinned": int(post.pinned)}

    def _version_row(self, capture: Capture, outcome: str, fingerprint: str, when: dt.datetime,
                     proofs: Sequence[Evidence], post_json: str) -> dict[str, Any]:
        post = capture.post
        return {"platform": post.platform, "post_id": post.post_id, "version": capture.version,
                "outcome": outcome, "fingerprint": fingerprint, "captured_at": iso(when),
                "harvest_id": capture.harvest_id, "collection": self.collection,
                "metadata_record_id": capture.metadata_record_id,
                "evidence": json.dumps([p.to_json() for p in proofs], ensure_ascii=False),
                "title": post.title, "text": post.text, "post": post_json}

    def _insert_version(self, conn: Connection, post: Post, version: int, fingerprint: str,
                        when: dt.datetime, harvest_id: str, metadata_record_id: str,
                        proofs: Sequence[Evidence]) -> None:
        """Add a version with content the catalog did not hold under that number."""
        key = {"platform": post.platform, "post_id": post.post_id}
        earlier = conn.execute(_ANY_VERSION, key).first()
        capture = Capture(post, version, "", metadata_record_id, proofs, harvest_id, when)
        conn.execute(versions.insert(), self._version_row(
            capture, "edited" if earlier else "new", fingerprint, when, proofs, _post_json(post)))
        rows = _media_rows(post, version, proofs)
        if rows:
            conn.execute(media.insert(), rows)

    def _cite_earlier(self, conn: Connection, post: Post, version: int, when: dt.datetime,
                      harvest_id: str, metadata_record_id: str, proofs: Sequence[Evidence]) -> None:
        """An identical capture earlier than the one the version cites becomes its citation.

        Two harvests (two workers, or two local children) may capture one post as new at the
        same moment, and either may reach the catalog first. Keeping the earliest capture (then
        the smaller record id), whatever the order of arrival, makes the tables the same live
        and after a rebuild, which reads the collections in another order. Its media fetches
        replace the cited ones; what it did not fetch keeps the later sighting's."""
        key = {"platform": post.platform, "post_id": post.post_id, "version": version}
        conn.execute(versions.update().filter_by(**key).values(
            captured_at=iso(when), harvest_id=harvest_id, collection=self.collection,
            metadata_record_id=metadata_record_id,
            evidence=json.dumps([p.to_json() for p in proofs], ensure_ascii=False),
            title=post.title, text=post.text, post=_post_json(post)))
        fetched = _media_evidence(proofs)
        for position, (item, _) in enumerate(_all_media(post)):
            proof = _match(item, fetched)
            if proof is not None:
                conn.execute(media.update().filter_by(**key, position=position).values(
                    record_id=proof.record_id, payload_digest=proof.payload_digest,
                    revisit_of=proof.revisit_of))

    def record_status(self, platform: str, post_id: str, status: str, reason: str,
                      evidence_record_id: str | None, metadata_record_id: str, harvest_id: str,
                      when: dt.datetime) -> bool:
        """Record a status event (deleted, blocked, ...); the versions already held stay.

        Returns False when this metadata record was recorded before.
        """
        if status not in POST_STATUSES:
            raise CatalogError(f"post status {status!r} is not one of {', '.join(POST_STATUSES)}")
        with self.db.write() as conn:
            added = insert_ignore(conn, statuses, {
                "metadata_record_id": metadata_record_id, "platform": platform, "post_id": post_id,
                "status": status, "reason": reason, "evidence_record_id": evidence_record_id,
                "harvest_id": harvest_id, "collection": self.collection, "at": iso(when)})
            if not added:
                return False
            self._refresh(conn, platform, post_id)
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

    def apply_many(self, records: Iterable[tuple[MetadataRecord, str]], batch: int = 500) -> None:
        """``apply`` for many records read back, in their order: the post versions between two
        status events are recorded together (``record_versions``), ``batch`` at most at once."""
        run: list[Capture] = []
        for record, metadata_record_id in records:
            if record.outcome == "status":
                self.record_versions(run)
                run = []
                self.apply(record, metadata_record_id)
            elif record.post is not None:
                run.append(Capture(record.post, record.version, record.outcome, metadata_record_id,
                                   record.evidence, record.harvest_id, record.captured_at))
                if len(run) >= batch:
                    self.record_versions(run)
                    run = []
        self.record_versions(run)

    # -- reading ---------------------------------------------------------------------------
    def known(self, platform: str, post_id: str) -> bool:
        return self._one("SELECT 1 FROM posts WHERE platform = :platform AND post_id = :post_id",
                         platform=platform, post_id=post_id) is not None

    def held_by_complete_run(self, platform: str, post_ids: Sequence[str], account: str) -> bool:
        """Whether a harvest of ``account`` that walked its whole listing recorded any of these
        posts (one query for a listing page's posts).

        Only then is everything published before it held too: a run stopped by the platform
        (418, captcha), cut short by a shutdown or killed never listed the older posts. A run
        that ended "partial" only because some files failed did walk its listing (no reason).
        The run that began the account's backfill from the top counts however it ended: the
        backfill goes on from where that run stopped (``catalog.backfills``), so what lies
        between is held or being walked.
        """
        if not post_ids:
            return False
        with self.db.read() as conn:
            return conn.execute(_HELD_BY_COMPLETE_RUN, {
                "platform": platform, "post_ids": list(post_ids), "account": account}).first() is not None

    def newest_post_id(self, platform: str, account_id: str) -> str | None:
        """The most recently published post held (pinned posts aside): incremental harvests stop there."""
        row = self._of_account_one(
            f"{platform}:{account_id}", "SELECT post_id FROM posts WHERE account IN :keys "
            f"AND pinned = 0 ORDER BY {_NEWEST_FIRST} LIMIT 1")
        return str(row[0]) if row else None

    def recent_posts(self, platform: str, account_id: str,
                     since: dt.datetime) -> list[RecentPost]:
        """``(post_id, url, status)`` of the posts first captured at or after ``since``, newest first."""
        rows = self._of_account_rows(
            f"{platform}:{account_id}", "SELECT post_id, url, status FROM posts WHERE account IN "
            f":keys AND first_captured >= :since ORDER BY {_NEWEST_FIRST}", since=iso(since))
        return [RecentPost(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def current_version(self, platform: str, post_id: str) -> int | None:
        row = self._one("SELECT MAX(version) FROM versions WHERE platform = :platform "
                        "AND post_id = :post_id", platform=platform, post_id=post_id)
        return int(row[0]) if row and row[0] is not None else None

    def status(self, platform: str, post_id: str) -> str | None:
        row = self._one("SELECT status FROM posts WHERE platform = :platform AND post_id = :post_id",
                        platform=platform, post_id=post_id)
        return str(row[0]) if row else None

    def versions(self, platform: str, post_id: str) -> list[StoredVersion]:
        with self.db.read() as conn:
            rows = conn.execute(text(
                "SELECT platform, post_id, version, outcome, fingerprint, captured_at, harvest_id, "
                "collection, metadata_record_id, evidence, title, text, post FROM versions "
                "WHERE platform = :platform AND post_id = :post_id ORDER BY version"),
                {"platform": platform, "post_id": post_id}).fetchall()
        return [StoredVersion(
            platform=r[0], post_id=r[1], version=int(r[2]), outcome=r[3], fingerprint=r[4],
            captured_at=r[5], harvest_id=r[6], collection=r[7], metadata_record_id=r[8],
            evidence=tuple(Evidence.of(e) for e in json.loads(r[9])), title=r[10], text=r[11],
            post_json=json.loads(r[12])) for r in rows]

    def counts(self, account: str) -> dict[str, int]:
        """Posts of ``account`` (``platform:id``, its linked ids too) by status, plus ``posts``,
        ``versions``, ``media``."""
        out = {status: 0 for status in CATALOG_STATUSES}
        for status, n in self._of_account_rows(
                account, "SELECT status, COUNT(*) FROM posts WHERE account IN :keys GROUP BY status"):
            out[str(status)] = int(n)
        out["posts"] = sum(out.values())
        for table in ("versions", "media"):
            out[table] = int(self._of_account_one(
                account, f"SELECT COUNT(*) FROM {table} t JOIN posts p ON p.platform = t.platform "
                "AND p.post_id = t.post_id WHERE p.account IN :keys")[0])
        return out

    def count(self, platform: str, account_id: str) -> int:
        """How many posts of the account the archive holds (whatever their status), under any
        of its ids (a WeChat account registered by its gh_ id has its posts under its __biz)."""
        return int(self._of_account_one(f"{platform}:{account_id}",
                                        "SELECT COUNT(*) FROM posts WHERE account IN :keys")[0])

    def account_keys(self, account: str) -> frozenset[str]:
        """Every ``platform:id`` of the account ``account`` (``catalog.identity``)."""
        platform, _, account_id = account.partition(":")
        with self.db.read() as conn:
            return account_keys(conn, account_id, platform)

    def known_metadata_ids(self) -> set[str]:
        """Every metadata record id already recorded (what repair need not read again)."""
        with self.db.read() as conn:
            return {str(r[0]) for r in conn.execute(text(
                "SELECT metadata_record_id FROM captures UNION SELECT metadata_record_id FROM statuses"))}

    def recorded(self) -> dict[str, tuple[str, str]]:
        """Every metadata record id of this collection the catalog holds, with its post."""
        with self.db.read() as conn:
            rows = conn.execute(text(
                "SELECT metadata_record_id, platform, post_id FROM captures WHERE collection = :c "
                "UNION ALL SELECT metadata_record_id, platform, post_id FROM statuses "
                "WHERE collection = :c"), {"c": self.collection})
            return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def forget(self, posts: set[tuple[str, str]]) -> int:
        """Drop this collection's rows of ``posts`` (to be read again from the WARC files);
        returns how many captures and status events went. Derived rows only: nothing is lost."""
        dropped = 0
        where = "platform = :platform AND post_id = :post_id AND collection = :collection"
        with self.db.write() as conn:
            for platform, post_id in sorted(posts):
                args = {"platform": platform, "post_id": post_id, "collection": self.collection}
                conn.execute(text("DELETE FROM media WHERE platform = :platform AND post_id = :post_id "
                                  f"AND version IN (SELECT version FROM versions WHERE {where})"), args)
                conn.execute(text(f"DELETE FROM versions WHERE {where}"), args)
                for table in ("captures", "statuses"):
                    dropped += conn.execute(text(f"DELETE FROM {table} WHERE {where}"), args).rowcount
                conn.execute(posts_table.delete().filter_by(platform=platform, post_id=post_id))
                self._refresh(conn, platform, post_id)  # rows of other collections make it again
        return dropped

    # -- internals -------------------------------------------------------------------------
    def _of_account_rows(self, account: str, sql: str, **params: Any) -> list[Any]:
        """A query whose ``:keys`` are every key of the account (``catalog.identity``)."""
        keys = sorted(self.account_keys(account))
        with self.db.read() as conn:
            query = text(sql).bindparams(bindparam("keys", expanding=True))
            return list(conn.execute(query, {"keys": keys, **params}).fetchall())

    def _of_account_one(self, account: str, sql: str, **params: Any) -> Any:
        rows = self._of_account_rows(account, sql, **params)
        return rows[0] if rows else None

    def _fill_media(self, conn: Connection, post: Post, version: int,
                    proofs: Sequence[Evidence]) -> None:
        """A later sighting may bring media the first capture could not fetch."""
        fetched = _media_evidence(proofs)
        if not fetched:
            return
        for position, (item, _) in enumerate(_all_media(post)):
            proof = _match(item, fetched)
            if proof is not None:
                conn.execute(media.update().where(
                    media.c.platform == post.platform, media.c.post_id == post.post_id,
                    media.c.version == version, media.c.position == position,
                    media.c.record_id.is_(None)).values(
                    record_id=proof.record_id, payload_digest=proof.payload_digest,
                    revisit_of=proof.revisit_of))

    def _refresh(self, conn: Connection, platform: str, post_id: str) -> None:
        """Recompute the post's summary row from its versions, captures and status events."""
        key = {"platform": platform, "post_id": post_id}
        current = conn.execute(_LATEST_VERSION, key).first()
        if current is None:
            return  # a status event for a post whose capture is not (yet) recorded
        first, last = conn.execute(_CAPTURE_SPAN, key).one()
        pinned = conn.execute(_LAST_PINNED, key).scalar_one()
        event = conn.execute(_LAST_STATUS, key).first()
        row = _summary_row(platform, post_id, int(current[0]), json.loads(current[1]), first, last,
                           pinned, event)
        upsert(conn, posts_table, row, keys=("platform", "post_id"))


# Newest publication first, the posts without a time last (on every database), then the longer
# (later) id first.
_NEWEST_FIRST = "published_at IS NULL, published_at DESC, length(post_id) DESC, post_id DESC"


def _utc_text(published: str | None) -> str | None:
    """A publication time in the catalog's one format (a zone-less time is kept as written)."""
    if not published:
        return None
    try:
        return iso(dt.datetime.fromisoformat(published))
    except ValueError:
        return published


def _post_json(post: Post) -> str:
    return _json_text(post.to_json())


def _json_text(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _summary_row(platform: str, post_id: str, version: int, data: Mapping[str, Any], first: str,
                 last: str, pinned: int, event: Any) -> dict[str, Any]:
    """The ``posts`` row: from its latest version (``data``: the post as that version holds
    it), the span and last pin of its captures, and its last status event (status, at)."""
    status = "edited" if version > 1 else "live"
    if event is not None and event[0] != "live" and event[1] >= last:
        status = str(event[0])
    return {"platform": platform, "post_id": post_id,
            "account": f"{platform}:{data.get('account_id', '')}", "current_version": version,
            "first_captured": first, "last_captured": last, "status": status, "pinned": pinned,
            "published_at": _utc_text(data.get("published_at")), "url": data.get("url") or ""}


def _checked(capture: Capture) -> dt.datetime:
    """The capture's time, once its outcome and time are known to be sound."""
    if capture.outcome not in ("new", "edited", "unchanged"):
        raise CatalogError("a post capture's outcome must be new, edited or unchanged, "
                           f"not {capture.outcome!r}")
    when = capture.captured_at or capture.post.captured_at
    if when is None:
        raise CatalogError(f"the capture of post {capture.post.platform}:{capture.post.post_id} "
                           "has no time")
    return when


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Slices small enough for one IN list on every database."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def _media_rows(post: Post, version: int, proofs: Sequence[Evidence]) -> list[dict[str, Any]]:
    """The media rows of a version: each item, and the fetch that holds its bytes if any."""
    fetched = _media_evidence(proofs)
    rows = []
    for position, (item, in_repost) in enumerate(_all_media(post)):
        proof = _match(item, fetched)
        rows.append({"platform": post.platform, "post_id": post.post_id, "version": version,
                     "position": position, "kind": f"repost {item.kind}" if in_repost else item.kind,
                     "url": item.url, "media_id": item.id,
                     "record_id": proof.record_id if proof else None,
                     "payload_digest": proof.payload_digest if proof else None,
                     "revisit_of": proof.revisit_of if proof else None})
    return rows


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
