"""From the catalog to the index: one ``IndexedPost`` per post version the catalog holds.

The index is derived from the catalog (itself derived from the WARC files), so these functions
are all it takes to rebuild it (``all_documents``) or to bring it up to date (``catch_up``: the
index follows the rows of ``captures`` and ``statuses`` by a cursor kept with it, so whatever
the catalog gains, from a harvest or from a repair after a crash, reaches the index). What each
field comes from:

- text, title, account, publication time: the version's parsed post (``versions.post``); the
  account name is the one the platform showed at capture, else the registered one;
- repost text: the text of the post this one forwards; media count: the post's own media;
- comments: the texts of the comments archived under the post (``catalog.comments``), on its
  current version only, so that a word of a comment finds the post once. A post's comments
  come with a new version of it (they are asked for new and edited posts), so following the
  captures brings them to the index too;
- status: the post's status now (``posts.status``, kept from the ``statuses`` events), given to
  every version, so that a post found deleted is found as deleted whichever version matches.
  ``expired`` and ``unavailable`` (the index knows live, edited, deleted, blocked) are indexed
  as live or edited: they say the platform could not show the post, not that it was withdrawn;
- citation: the main response the post was read from (the article, else the long text, else
  the detail, else the listing page): its WARC file, record id and payload SHA-256. A response
  stored as a revisit is cited through the response holding its bytes (same payload digest).
  Without any, the version's metadata record is cited;
- demo: the cited WARC file's ``warcinfo`` says ``weidang-demo: true`` (what ``verify`` reads);
  callers may mark everything demo when the whole home is a demo home (``all_demo``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from catalog.comments import CommentCatalog
from catalog.db import Database
from catalog.schema import derived_generation
from catalog.search.base import SearchIndex
from catalog.search.document import STATUSES, IndexedPost
from harvesters.dates import SHANGHAI
from warc_store import DEMO_FIELD, Collection, IndexEntry, StoreError, read_warcinfo, warc_path

# The record a post's words were read from, most specific first.
CITED_ROLES = ("article", "long_text", "detail", "listing", "recheck")

PostKey = tuple[str, str]  # (platform, post_id)
CollectionSource = Mapping[str, Collection] | Callable[[str], Collection | None]

# The registry's name is the fallback when a post does not say its account's name.
_SELECT = """
SELECT v.platform, v.post_id, v.version, v.captured_at, v.collection, v.metadata_record_id,
       v.evidence, v.title, v.text, v.post, p.status, p.current_version, a.name
FROM versions v
JOIN posts p ON p.platform = v.platform AND p.post_id = v.post_id
LEFT JOIN accounts a ON a.platform = v.platform
     AND a.account_id = substr(p.account, length(v.platform) + 2)
"""


@dataclass(frozen=True)
class FeedCursor:
    """How far an index has followed the catalog: the last rows (``seq``) of ``captures`` and
    ``statuses`` it took in, within one generation of the derived tables (``catalog.schema``).

    Every version and status event the catalog records, by a harvest, a repair or a rebuild,
    adds a row after these, so following the rows misses nothing whoever wrote them.
    """

    generation: int
    captures: int
    statuses: int

    def to_text(self) -> str:
        return json.dumps({"generation": self.generation, "captures": self.captures,
                           "statuses": self.statuses}, sort_keys=True)

    @classmethod
    def from_text(cls, text: str | None) -> FeedCursor | None:
        """The cursor written by ``to_text``, or None (never written, or unreadable)."""
        try:
            data = json.loads(text or "")
            return cls(int(data["generation"]), int(data["captures"]), int(data["statuses"]))
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Citation:
    warc_file: str
    record_id: str
    payload_sha256: str
    demo: bool


class DocumentFeed:
    """Builds documents, remembering per collection and per WARC file what it looked up."""

    def __init__(self, db: Database, collections: CollectionSource,
                 *, all_demo: bool = False) -> None:
        self.db = db
        self._source = collections
        self._collections: dict[str, Collection | None] = {}
        self._demo_files: dict[tuple[str, str], bool] = {}
        self.all_demo = all_demo

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        with self.db.read() as conn:
            return list(conn.execute(text(sql), params).fetchall())

    # -- which versions --------------------------------------------------------------------
    def all(self) -> Iterator[IndexedPost]:
        """Every version the catalog holds, post by post."""
        yield from self._documents(f"{_SELECT} ORDER BY v.platform, v.post_id, v.version", {})

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM versions v JOIN posts p ON "
                              "p.platform = v.platform AND p.post_id = v.post_id")[0][0])

    def cursor(self) -> FeedCursor:
        """Where the catalog ends now: an index holding everything up to here is complete."""
        with self.db.read() as conn:
            captures, statuses = conn.execute(text(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM captures), "
                "(SELECT COALESCE(MAX(seq), 0) FROM statuses)")).one()
            return FeedCursor(derived_generation(conn), int(captures), int(statuses))

    def settled(self, start: FeedCursor | None, end: FeedCursor) -> FeedCursor:
        """``end``, held back before the first capture after ``start`` that cannot be cited
        yet: its metadata record is not in its collection's CDXJ index while the collection
        has open files (a harvest still writing, or killed and not yet recovered, keeps its
        last index lines back). Such posts are indexed now and again once they can be cited;
        a record missing from a collection without open files will not come, and is passed."""
        since = start.captures if start is not None and start.generation == end.generation else 0
        writing: dict[str, bool] = {}
        for seq, name, record_id in self._rows(
                "SELECT seq, collection, metadata_record_id FROM captures WHERE seq > :since "
                "AND seq <= :end ORDER BY seq", since=since, end=end.captures):
            collection = self._collection(str(name))
            if collection is None:
                continue
            if name not in writing:
                writing[name] = bool(collection.open_files())
            if writing[name] and collection.index.by_record_id(str(record_id)) is None:
                return FeedCursor(end.generation, int(seq) - 1, end.statuses)
        return end

    def posts_since(self, cursor: FeedCursor) -> list[PostKey] | None:
        """Posts that gained a version, a sighting or a status event after ``cursor``: all
        their versions must be indexed again. None when the cursor belongs to derived tables
        that were since recreated (``weidang catalog rebuild``): only a whole rebuild will do."""
        with self.db.read() as conn:
            if cursor.generation != derived_generation(conn):
                return None
            rows = conn.execute(text(
                "SELECT platform, post_id FROM captures WHERE seq > :captures UNION "
                "SELECT platform, post_id FROM statuses WHERE seq > :statuses"),
                {"captures": cursor.captures, "statuses": cursor.statuses}).fetchall()
        return sorted((str(r[0]), str(r[1])) for r in rows)

    def posts_of_harvests(self, harvest_ids: Iterable[str]) -> list[PostKey]:
        """Posts a harvest gave a version or a status event: all their versions must be
        re-indexed, as an edit or a deletion changes the status of the earlier versions too."""
        ids = sorted(set(harvest_ids))
        if not ids:
            return []
        query = text("SELECT platform, post_id FROM versions WHERE harvest_id IN :ids UNION "
                     "SELECT platform, post_id FROM statuses WHERE harvest_id IN :ids"
                     ).bindparams(bindparam("ids", expanding=True))
        with self.db.read() as conn:
            rows = conn.execute(query, {"ids": ids}).fetchall()
        return sorted((str(r[0]), str(r[1])) for r in rows)

    def for_posts(self, posts: Iterable[PostKey]) -> Iterator[IndexedPost]:
        """Every version of the given posts."""
        for platform, post_id in posts:
            yield from self._documents(
                f"{_SELECT} WHERE v.platform = :platform AND v.post_id = :post_id "
                "ORDER BY v.version", {"platform": platform, "post_id": post_id})

    # -- building ----------------------------------------------------------------------------
    def _documents(self, sql: str, params: dict[str, Any]) -> Iterator[IndexedPost]:
        # In slices: a rebuild streams every version without holding them all in memory.
        with self.db.read() as conn:
            result = conn.execute(text(sql).execution_options(yield_per=500), params)
            for rows in result.partitions():
                for row in rows:
                    yield self._document(row)

    def _document(self, row: Any) -> IndexedPost:
        (platform, post_id, version, captured_at, collection, metadata_id, evidence, title, text,
         post_json, status, current_version, registered_name) = tuple(row)
        post = json.loads(post_json)
        repost = post.get("repost") or {}
        cite = self.citation(str(collection), json.loads(evidence), str(metadata_id))
        captured = _time(captured_at)
        return IndexedPost(
            platform=str(platform), account_id=str(post.get("account_id") or ""),
            account_name=str(post.get("account_name") or registered_name or ""),
            post_id=str(post_id), version=int(version), url=str(post.get("url") or ""),
            published_at=_time(post.get("published_at")) if post.get("published_at") else captured,
            captured_at=captured, title=str(title or ""), text=str(text or ""),
            repost_text=str(repost.get("text") or ""), media_count=len(post.get("media") or []),
            comments_text=CommentCatalog(self.db).texts(str(platform), str(post_id))
            if int(version) == int(current_version) else "",
            status=index_status(str(status), int(current_version)),
            warc_file=cite.warc_file, warc_record_id=cite.record_id,
            payload_sha256=cite.payload_sha256, demo=self.all_demo or cite.demo,
        )

    def citation(self, collection_name: str, evidence: list[dict[str, Any]],
                 metadata_record_id: str) -> Citation:
        """The WARC file, record id and payload SHA-256 a researcher cites for a version."""
        collection = self._collection(collection_name)
        if collection is None:
            # The catalog knows the record ids even when the collection is elsewhere.
            main = _main_evidence(evidence)
            record = str(main["record_id"]) if main else metadata_record_id
            digest = str(main.get("payload_digest") or "") if main else ""
            return Citation("", record, _hex(digest), self.all_demo)
        for proof in sorted((e for e in evidence if e.get("role") in CITED_ROLES),
                            key=lambda e: CITED_ROLES.index(str(e["role"]))):
            entry = collection.index.by_record_id(str(proof["record_id"]))
            if entry is not None and entry.record_type == "revisit" and entry.digest:
                entry = collection.index.by_payload_digest(entry.digest)
            if entry is not None and entry.record_type == "response":
                return self._cite(collection, entry)
        entry = collection.index.by_record_id(metadata_record_id)
        if entry is not None:
            return self._cite(collection, entry)
        return Citation("", metadata_record_id, "", self.all_demo)

    def _cite(self, collection: Collection, entry: IndexEntry) -> Citation:
        return Citation(entry.filename, entry.record_id, _hex(entry.digest or ""),
                        self._is_demo_file(collection, entry.filename))

    def _collection(self, name: str) -> Collection | None:
        if name not in self._collections:
            source = self._source
            self._collections[name] = source.get(name) if isinstance(source, Mapping) \
                else source(name)
        return self._collections[name]

    def _is_demo_file(self, collection: Collection, filename: str) -> bool:
        key = (str(collection.root), filename)
        if key not in self._demo_files:
            try:
                fields = read_warcinfo(warc_path(collection, filename))
            except StoreError:  # the file is gone: nothing says it is a demo file
                fields = {}
            self._demo_files[key] = fields.get(DEMO_FIELD, "").lower() == "true"
        return self._demo_files[key]


CURSOR_NOTE = "catalog_cursor"  # the note (``SearchIndex.note``) holding the index's FeedCursor


def catch_up(index: SearchIndex, feed: DocumentFeed) -> int:
    """Bring ``index`` up to the catalog: every post that changed since the index's cursor is
    indexed again, whatever recorded it (a harvest, a repair after a crash, a rebuild). An index
    without a cursor, or one that follows recreated tables, is rebuilt whole. Returns how many
    versions were written."""
    start = FeedCursor.from_text(index.note(CURSOR_NOTE))
    # Taken before reading any document: what is recorded or indexed in a WARC file meanwhile
    # is caught up next time.
    end = feed.settled(start, feed.cursor())
    posts = feed.posts_since(start) if start is not None else None
    if posts is None:
        written = index.rebuild(feed.all())
    else:
        written = index.upsert(feed.for_posts(posts)) if posts else 0
    index.set_note(CURSOR_NOTE, end.to_text())
    return written


def rebuild_following(index: SearchIndex, feed: DocumentFeed,
                      docs: Iterable[IndexedPost] | None = None) -> int:
    """Rebuild ``index`` whole from the catalog (``docs``: the feed's, maybe counted on the
    way) and remember how far it reaches."""
    end = feed.settled(None, feed.cursor())
    written = index.rebuild(feed.all() if docs is None else docs)
    index.set_note(CURSOR_NOTE, end.to_text())
    return written


@dataclass(frozen=True)
class IndexLag:
    """How the index compares with the catalog it is derived from."""

    indexed: int  # post versions the index holds
    catalog: int  # post versions the catalog holds
    behind: bool  # some versions or status changes of the catalog are not in the index


def index_lag(index: SearchIndex, feed: DocumentFeed) -> IndexLag:
    """Whether ``index`` holds everything the catalog does (reads both, writes neither)."""
    indexed, total = index.count(), feed.count()
    cursor = FeedCursor.from_text(index.note(CURSOR_NOTE))
    end = feed.cursor()
    behind = indexed != total or (cursor is not None and (
        cursor.generation != end.generation or cursor.captures < end.captures
        or cursor.statuses < end.statuses))
    return IndexLag(indexed, total, behind)


def documents_for(db: Database, collections: CollectionSource, *,
                  harvest_ids: Iterable[str] = (), posts: Iterable[PostKey] = (),
                  all_demo: bool = False) -> list[IndexedPost]:
    """Every version of the posts that these harvests recorded a version or status for, and of
    the ``posts`` named (``(platform, post_id)``)."""
    feed = DocumentFeed(db, collections, all_demo=all_demo)
    keys = sorted(set(feed.posts_of_harvests(harvest_ids)) | set(posts))
    return list(feed.for_posts(keys))


def all_documents(db: Database, collections: CollectionSource, *,
                  all_demo: bool = False) -> Iterator[IndexedPost]:
    """Every post version of the catalog, streamed (for a rebuild)."""
    return DocumentFeed(db, collections, all_demo=all_demo).all()


def index_status(status: str, current_version: int) -> str:
    """The catalog's post status as the index knows it (see the module's note)."""
    if status in STATUSES:
        return status
    return "edited" if current_version > 1 else "live"


def _main_evidence(evidence: list[dict[str, Any]]) -> dict[str, Any] | None:
    for role in CITED_ROLES:
        for proof in evidence:
            if proof.get("role") == role:
                return proof
    return None


def _hex(digest: str) -> str:
    algorithm, sep, value = digest.partition(":")
    return value.lower() if sep and algorithm.lower() == "sha256" else ""


def _time(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    # A time without a zone is China's.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)
