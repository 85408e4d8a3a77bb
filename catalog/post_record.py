"""Everything the archive holds about one post, from the catalog, with where each record lies.

``post_record`` gathers what ``weidang show`` prints (and a web page could): every version with
its capture time and a text diff from the version before; every sighting; every status event
(deleted, blocked, restored) with when it was found and the record holding the platform's
answer; the media and their records; the appraisal decisions and 档号. Each record is named by
its id and located (WARC file and offset) through its collection's CDXJ index, so that it can
be read back with ``warc_store.read_record`` and cited.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from catalog.appraisal import archival_codes, decision_history
from catalog.errors import CatalogError
from catalog.metadata import MetadataError, read_metadata
from catalog.schema import captures, media, posts, statuses, versions
from warc_store import Collection, StoreError, read_record_at

Collections = Callable[[str], Collection | None]


@dataclass(frozen=True)
class RecordPlace:
    """A WARC record: its id, and its file and offset when its collection's index has it."""

    record_id: str
    warc_file: str = ""
    offset: int | None = None
    record_type: str = ""
    uri: str = ""


@dataclass(frozen=True)
class VersionView:
    version: int
    outcome: str
    captured_at: str
    harvest_id: str
    collection: str
    title: str
    text: str
    metadata_record: RecordPlace
    evidence: list[dict[str, Any]]  # the catalog's evidence, each with its place
    diff: str  # unified diff of title and text from the version before ("" for the first)
    # the browser capture its metadata record links (catalog.metadata.BrowserLinks as JSON, with
    # ``page``, ``screenshot``, ``dom``, ``pdf``: each record's place); None: its page not rendered
    browser: dict[str, Any] | None = None


@dataclass(frozen=True)
class StatusView:
    status: str
    reason: str
    found_at: str
    harvest_id: str
    collection: str
    metadata_record: RecordPlace
    evidence: RecordPlace | None  # the platform's answer


@dataclass
class PostView:
    platform: str
    post_id: str
    account: str
    url: str
    status: str
    published_at: str | None
    first_captured: str
    last_captured: str
    current_version: int
    versions: list[VersionView] = field(default_factory=list)
    sightings: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[StatusView] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def post_record(conn: Connection, platform: str, post_id: str, collections: Collections) -> PostView:
    """The whole record of one post, or CatalogError naming the post when there is none."""
    row = conn.execute(select(posts).where(posts.c.platform == platform,
                                           posts.c.post_id == post_id)).first()
    if row is None:
        raise CatalogError(f"{platform}:{post_id} is not in the catalog (check the platform and "
                           "id, or `weidang search` for it)")
    places = _Places(collections)
    view = PostView(platform, post_id, row.account, row.url, row.status, row.published_at,
                    row.first_captured, row.last_captured, int(row.current_version))
    view.versions = _versions(conn, platform, post_id, places)
    view.sightings = [dict(r._mapping) for r in conn.execute(
        select(captures.c.captured_at, captures.c.version, captures.c.outcome,
               captures.c.harvest_id, captures.c.metadata_record_id)
        .where(captures.c.platform == platform, captures.c.post_id == post_id)
        .order_by(captures.c.captured_at))]
    view.statuses = _statuses(conn, platform, post_id, places)
    view.media = _media(conn, platform, post_id, places, {v.version: v.collection
                                                          for v in view.versions})
    view.decisions = [asdict(d) for d in decision_history(conn, platform, post_id)]
    view.codes = [asdict(c) for c in archival_codes(conn, keys=[(platform, post_id)])]
    return view


def _versions(conn: Connection, platform: str, post_id: str, places: _Places) -> list[VersionView]:
    rows = conn.execute(select(versions).where(versions.c.platform == platform,
                                               versions.c.post_id == post_id)
                        .order_by(versions.c.version)).all()
    out: list[VersionView] = []
    before: list[str] | None = None
    for r in rows:
        lines = [r.title or "", *(r.text or "").splitlines()]
        diff = "" if before is None else "\n".join(difflib.unified_diff(
            before, lines, f"version {out[-1].version}", f"version {r.version}", lineterm=""))
        evidence = [{**proof, **_place_fields(places.find(r.collection, str(proof.get("record_id"))))}
                    for proof in json.loads(r.evidence or "[]")]
        metadata_place = places.find(r.collection, r.metadata_record_id)
        out.append(VersionView(int(r.version), r.outcome, r.captured_at, r.harvest_id,
                               r.collection, r.title or "", r.text or "", metadata_place,
                               evidence, diff, _browser(places, r.collection, metadata_place)))
        before = lines
    return out


@dataclass(frozen=True)
class VersionBrowser:
    """Where a version is stored and what its browser capture made (None: no browser capture)."""

    collection: str
    browser: dict[str, Any] | None


def browser_links(conn: Connection, platform: str, post_id: str,
                  collections: Collections) -> dict[int, VersionBrowser]:
    """Each version's browser capture, located: the part of ``post_record`` a post page needs on
    every view, without the statuses, media, sightings and diffs it would also read."""
    places = _Places(collections)
    rows = conn.execute(select(versions.c.version, versions.c.collection, versions.c.metadata_record_id)
                        .where(versions.c.platform == platform, versions.c.post_id == post_id))
    return {int(r.version): VersionBrowser(r.collection, _browser(
        places, r.collection, places.find(r.collection, r.metadata_record_id))) for r in rows}


def _browser(places: _Places, collection: str, metadata: RecordPlace) -> dict[str, Any] | None:
    """The browser capture the version's metadata record links, each record located."""
    found = places.collection(collection)
    if found is None or not metadata.warc_file or metadata.offset is None:
        return None
    try:
        links = read_metadata(read_record_at(found, metadata.warc_file, metadata.offset).payload).browser
    except (MetadataError, StoreError):
        return None  # the version's other lines say where its record is; verify says what is wrong
    if links is None:
        return None
    data = links.to_json()
    for name in ("page", "screenshot", "dom", "pdf"):
        record_id = data[f"{name}_record_id"]
        data[name] = asdict(places.find(collection, record_id)) if record_id else None
    return data


def _statuses(conn: Connection, platform: str, post_id: str, places: _Places) -> list[StatusView]:
    rows = conn.execute(select(statuses).where(statuses.c.platform == platform,
                                               statuses.c.post_id == post_id)
                        .order_by(statuses.c.at, statuses.c.seq))
    return [StatusView(r.status, r.reason, r.at, r.harvest_id, r.collection,
                       places.find(r.collection, r.metadata_record_id),
                       places.find(r.collection, r.evidence_record_id)
                       if r.evidence_record_id else None) for r in rows]


def _media(conn: Connection, platform: str, post_id: str, places: _Places,
           collection_of: dict[int, str]) -> list[dict[str, Any]]:
    rows = conn.execute(select(media).where(media.c.platform == platform,
                                            media.c.post_id == post_id)
                        .order_by(media.c.version, media.c.position))
    out = []
    for r in rows:
        item = dict(r._mapping)
        if r.record_id:
            item.update(_place_fields(places.find(collection_of.get(int(r.version), "default"),
                                                  r.record_id)))
        out.append(item)
    return out


def _place_fields(place: RecordPlace) -> dict[str, Any]:
    return {"warc_file": place.warc_file, "offset": place.offset}


class _Places:
    """Record ids to their place, one collection opened once."""

    def __init__(self, collections: Collections) -> None:
        self._source = collections
        self._open: dict[str, Collection | None] = {}

    def collection(self, name: str) -> Collection | None:
        if name not in self._open:
            self._open[name] = self._source(name)
        return self._open[name]

    def find(self, collection: str, record_id: str) -> RecordPlace:
        found = self.collection(collection)
        entry = found.index.by_record_id(record_id) if found is not None else None
        if entry is None:
            return RecordPlace(record_id)
        return RecordPlace(record_id, entry.filename, entry.offset, entry.record_type or "",
                           entry.url or "")
