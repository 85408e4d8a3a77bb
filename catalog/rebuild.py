"""Recreate the derived post tables from the WARC files alone, or repair them after a crash.

``rebuild`` reads every post metadata record (``catalog.metadata``) and every archived comments
answer (``catalog.comments``) of every WARC file of the collections, closed and still open, in
file-name order (the order their writers opened them) and offset order within a file, several
collections merged by capture time, and feeds them to ``PostCatalog`` exactly as the harvests
did: the derived tables come out equal to what the harvests wrote (``PostCatalog`` makes the
result independent of the order in which identical captures arrive). It runs in one
transaction, so readers see the old tables until the new ones are complete, and a failure
leaves the old ones in place. Authoritative tables (accounts, runs, pauses, events) are not
touched.

``repair`` is the cheap path a harvest takes at start-up: it finds the post metadata records in
the CDXJ index (their URIs start with ``urn:weidang:post:``), and reads back only those the
catalog lacks (written to a WARC file just before a crash, never recorded). It also looks the
other way: a catalog row whose metadata record is in no WARC file (the end of an open file lost
to a power cut; a catalog restored from a later backup than the files) is not evidence. Every
row of such a post is dropped and the post read again from the records that remain, so the
catalog says what the files hold, and the next harvest captures what was lost as new.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from catalog.comments import CommentCatalog, comments_in_answer, is_comment_answer
from catalog.db import Database
from catalog.errors import CatalogError
from catalog.metadata import (
    URI_PREFIX,
    MetadataError,
    MetadataRecord,
    is_post_metadata,
    read_metadata,
)
from catalog.posts import PostCatalog
from catalog.schema import create_derived, iso, mark_rebuilt, metadata
from harvesters import HarvestError
from warc_store import (
    OPEN_SUFFIX,
    Collection,
    DamagedRecord,
    StoredRecord,
    StoreError,
    iter_records,
    metadata_entries,
    read_record_at,
)


class RebuildError(CatalogError):
    """The catalog cannot be rebuilt or repaired from the WARC files."""


@dataclass
class RebuildSummary:
    files: int = 0
    metadata_records: int = 0
    posts: int = 0
    versions: int = 0
    statuses: int = 0
    comments: int = 0  # comment rows read from archived comments answers
    problems: list[str] = field(default_factory=list)


@dataclass
class RepairSummary:
    metadata_records: int = 0  # post metadata records in the index
    added: int = 0  # of which the catalog lacked, now recorded
    dropped: int = 0  # catalog captures and status events whose metadata record is in no file
    dropped_posts: list[str] = field(default_factory=list)  # platform:post_id of those
    problems: list[str] = field(default_factory=list)


def warc_files(collection: Collection) -> list[Path]:
    """Closed and open files together, in the order their writers opened them."""
    files = collection.closed_files() + collection.open_files()
    return sorted(files, key=lambda p: (p.name.removesuffix(OPEN_SUFFIX), p.name))


def rebuild(db: Database, collections: Collection | Sequence[Collection],
            progress: Callable[[Path], None] | None = None) -> RebuildSummary:
    """Drop the derived tables and recreate them from the collections' metadata records.

    ``progress`` is called after each file.
    """
    targets = [collections] if isinstance(collections, Collection) else list(collections)
    for collection in targets:
        _refuse_live_writers(collection)
    summary = RebuildSummary()
    catalogs = {c.name: PostCatalog(db, c.name) for c in targets}
    streams = [_collection_records(c, CommentCatalog(db, c.name), summary, progress) for c in targets]
    with db.write() as conn:
        create_derived(conn)
        merged = heapq.merge(*streams, key=lambda r: r[0])
        for name, run in itertools.groupby(merged, key=lambda r: r[1]):
            catalogs[name].apply_many((record, record_id) for _, _, record_id, record in run)
        mark_rebuilt(conn)
    with db.read() as conn:
        for table in ("posts", "versions", "statuses", "comments"):
            count = conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one()
            setattr(summary, table, int(count))
    return summary


def _collection_records(collection: Collection, comments: CommentCatalog, summary: RebuildSummary,
                        progress: Callable[[Path], None] | None
                        ) -> Iterator[tuple[str, str, str, MetadataRecord]]:
    """``(capture time, collection, record id, record)`` of a collection's post metadata
    records, file after file; its archived comments answers go to ``comments`` as they are
    read; what cannot be read is counted and said in ``summary``."""
    for path in warc_files(collection):
        for stored in _records(path, summary.problems, ("metadata", "response")):
            if stored.record_type == "response":
                summary.comments += _comments(comments, stored, summary.problems)
                continue
            summary.metadata_records += 1
            try:
                record = read_metadata(stored.payload)
            except MetadataError as exc:
                summary.problems.append(f"{path.name}: record {stored.record_id}: {exc}")
                continue
            yield iso(record.captured_at), collection.name, stored.record_id, record
        summary.files += 1
        if progress is not None:
            progress(path)


def repair(db: Database, collection: Collection) -> RepairSummary:
    """Record the post metadata records that reached the WARC files but not the catalog.

    Run it after the WARC store's recovery (which re-indexes what a dead writer left), before
    deciding about new posts: a version written just before a crash is then known again.
    """
    catalog = PostCatalog(db, collection.name)
    summary = RepairSummary()
    # The catalog first, then the index: a harvest running meanwhile adds its index lines
    # before the catalog rows that need them, so a row read here has its line in the index.
    recorded = catalog.recorded()
    entries = list(metadata_entries(collection, URI_PREFIX))
    summary.metadata_records = len(entries)
    indexed = {e.record_id for e in entries}
    gone = _truly_gone(collection, {r for r in recorded if r not in indexed})
    lost = {recorded[record_id] for record_id in gone}
    if lost:  # their remaining records are read again below, in the order they were written
        summary.dropped = catalog.forget(lost)
        summary.dropped_posts = sorted(f"{p}:{i}" for p, i in lost)
    known = catalog.known_metadata_ids()
    missing = sorted((e for e in entries if e.record_id not in known),
                     key=lambda e: (e.filename, e.offset))
    if not missing:
        return summary
    with catalog.batch():
        for entry in missing:
            try:
                stored = read_record_at(collection, entry.filename, entry.offset)
                if not is_post_metadata(stored.header("Content-Type")):
                    continue
                catalog.apply(read_metadata(stored.payload), entry.record_id)
                summary.added += 1
            except (StoreError, MetadataError) as exc:
                summary.problems.append(f"{entry.filename}: record {entry.record_id}: {exc}")
    return summary


def _truly_gone(collection: Collection, unindexed: set[str]) -> set[str]:
    """Of record ids the index lacks, those in no file of the collection.

    The index is appended without an fsync of its own: after a power cut it may miss lines of a
    file that was closed (and synced) before. Such a file has fewer index lines than its
    manifest entry counts records; it is read before a row is taken for lost.
    """
    if not unindexed:
        return set()
    lines = Counter(e.filename for e in collection.index)
    gone = set(unindexed)
    for entry in collection.manifest.entries():
        if lines.get(entry.file, 0) < entry.records and (collection.warcs / entry.file).exists():
            found = _metadata_bodies(collection.warcs / entry.file, [])
            gone -= {record_id for record_id, _ in found}
    return gone


def _metadata_bodies(path: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """``(record id, body)`` of each post metadata record of one file, in offset order."""
    for record in _records(path, problems, ("metadata",)):
        yield record.record_id, record.payload


def _comments(catalog: CommentCatalog, record: StoredRecord, problems: list[str]) -> int:
    """The comment rows an archived comments answer gives (0 for any other response)."""
    body = record.decoded_payload()
    if body is None or not is_comment_answer(record.uri):
        return 0
    when = dt.datetime.fromisoformat(record.date.replace("Z", "+00:00"))
    try:
        found = comments_in_answer(record.uri, record.http_status or 0, dict(record.http_headers),
                                   body, when)
    except HarvestError as exc:
        problems.append(f"{record.filename}: record {record.record_id}: {exc}")
        return 0
    return catalog.record(found, record.record_id)


def _records(path: Path, problems: list[str], kinds: tuple[str, ...]) -> Iterator[StoredRecord]:
    """The post metadata records (and responses, if asked) of one file, in offset order."""
    try:
        for record in iter_records(path, record_types=kinds):
            if record.record_type != "metadata" or is_post_metadata(record.header("Content-Type")):
                yield record
    except DamagedRecord as exc:
        if path.name.endswith(OPEN_SUFFIX):
            problems.append(f"{path.name} ends in an unfinished record (a writer stopped there); "
                            "the records before it were read")
        else:
            problems.append(f"{path.name} is damaged ({exc.reason}); run `weidang verify` on it")
    except StoreError as exc:
        problems.append(str(exc))


def _refuse_live_writers(collection: Collection) -> None:
    """A file still locked by its writer is growing: rebuilding now would miss its end."""
    for path in collection.open_files():
        try:
            with open(path, "rb") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        except BlockingIOError:
            raise RebuildError(
                f"a harvest is still writing to the collection {collection.name} (file "
                f"{path.name}); rebuild the catalog once it has finished") from None
        except OSError as exc:
            raise RebuildError(f"the WARC file {path} cannot be read ({exc.strerror})") from exc
