"""What a kept post brings into a package: its whole record (``post_record``), the WARC files
holding its records, and one page per version for the WACZ's ``pages.jsonl``.

The records of a post are its versions' metadata records and evidence, its media and its status
events with the platform's answers; the WACZ of its account takes every WARC file holding one of
them (whole files: the fixity manifest vouches for files, not for parts of them), plus the files
holding the originals of revisits among them (``replay_index.with_originals``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from catalog.appraisal import Decision
from catalog.audit.usability import PAGE_ROLES
from catalog.post_record import PostView, RecordPlace, post_record
from catalog.schema import versions
from catalog.transfer.errors import TransferError
from warc_store import Collection
from warc_store.wacz import Page

Collections = Callable[[str], Collection | None]


@dataclass
class Item:
    """One kept post in the package."""

    decision: Decision
    view: PostView
    collection: str
    files: set[str] = field(default_factory=set)  # WARC files of the collection holding its records
    pages: list[Page] = field(default_factory=list)
    post: dict[str, Any] = field(default_factory=dict)  # the current version's parsed post

    @property
    def key(self) -> str:
        return f"{self.view.platform}:{self.view.post_id}"

    @property
    def code(self) -> str:
        return self.decision.code or ""


def gather(conn: Connection, kept: list[Decision], collections: Collections) -> list[Item]:
    """Every kept post's record, files and pages; TransferError when a record cannot be found.
    ``collections`` should open each collection once (its index is read on opening)."""
    items = []
    for decision in kept:
        view = post_record(conn, decision.platform, decision.post_id, collections)
        name = view.versions[-1].collection if view.versions else decision.collection
        collection = collections(name)
        if collection is None:
            raise TransferError(f"the collection {name!r} holding {decision.platform}:{decision.post_id} "
                                "is not in this home")
        item = Item(decision, view, name, post=_current_post(conn, view))
        for place in _places(view):
            if not place.warc_file:
                raise TransferError(f"record {place.record_id} of {item.key} is not in the index of "
                                    f"the collection {name!r}; run `weidang verify` and "
                                    "`weidang catalog repair` before transferring it")
            item.files.add(place.warc_file)
        item.pages = _pages(view, collection)
        items.append(item)
    return items


def _current_post(conn: Connection, view: PostView) -> dict[str, Any]:
    text = conn.execute(select(versions.c.post).where(
        versions.c.platform == view.platform, versions.c.post_id == view.post_id,
        versions.c.version == view.current_version)).scalar()
    return dict(json.loads(text)) if text else {}


def _places(view: PostView) -> list[RecordPlace]:
    places = []
    for version in view.versions:
        places.append(version.metadata_record)
        places += [RecordPlace(str(e.get("record_id")), e.get("warc_file") or "", e.get("offset"))
                   for e in version.evidence]
    places += [RecordPlace(str(m["record_id"]), m.get("warc_file") or "", m.get("offset"))
               for m in view.media if m.get("record_id")]
    for status in view.statuses:
        places.append(status.metadata_record)
        if status.evidence is not None:
            places.append(status.evidence)
    return places


def _pages(view: PostView, collection: Collection) -> list[Page]:
    """One page per version: the record its text was read from (the article page for WeChat,
    the platform's answer for Weibo), which is what a replay of that version shows."""
    pages = []
    for version in view.versions:
        evidence = next((e for role in PAGE_ROLES for e in version.evidence if e.get("role") == role),
                        None)
        entry = collection.index.by_record_id(str(evidence["record_id"])) if evidence else None
        if entry is None or entry.record_type not in ("response", "revisit"):
            continue
        title = version.title or version.text[:60]
        pages.append(Page(entry.url, entry.timestamp, title, text=version.text,
                          id=f"{view.platform}:{view.post_id}:v{version.version}"))
    return pages
