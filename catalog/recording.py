"""Write a post's metadata record and record it in the catalog, with the very same values.

A rebuild reads back what the metadata record says, so the catalog must be told exactly that:
the same capture time, harvest id and evidence. Going through these functions (rather than
``post_metadata`` + ``write_metadata`` + ``record_version`` by hand) makes that hold by
construction: a second reading of the clock for the catalog is the classic way to break it.

The catalog is never ahead of the WARC file on disk: a version is committed only after the file
holding its metadata record was synced (``CaptureWriter.sync``), so a power cut can take back a
record that was not yet committed (``repair`` finds it in the file, or the next harvest captures
it again) but never one the catalog claims. ``Recorder`` batches this for a harvest: one sync and
one transaction for many posts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from catalog.metadata import BrowserLinks, Evidence, post_metadata, status_metadata
from catalog.posts import Capture, Decision, PostCatalog, decision
from harvesters.records import Post
from warc_store import CaptureWriter


def durable(writer: CaptureWriter) -> None:
    """Index lines appended and the WARC file synced: what the catalog may now refer to.

    The index goes first too: ``repair`` (perhaps in another process) takes a catalog row whose
    record the index lacks for one a power cut took."""
    writer.flush()
    writer.sync()


def write_post_version(writer: CaptureWriter, catalog: PostCatalog, post: Post, decision: Decision,
                       evidence: Sequence[Evidence | Mapping[str, Any]], harvest_id: str,
                       captured_at: dt.datetime, account: str | None = None) -> tuple[str, int]:
    """Write the metadata record of ``post`` then record it; returns (record id, version held)."""
    proofs = [Evidence.of(e) for e in evidence]
    uri, body, ctype = post_metadata(post, decision.version, decision.outcome, harvest_id, proofs,
                                     captured_at, account)
    written = writer.write_metadata(uri, body, ctype, refers_to=[p.record_id for p in proofs])
    durable(writer)
    version = catalog.record_version(post, decision.version, decision.outcome, written.record_id,
                                     proofs, harvest_id, captured_at)
    return written.record_id, version


def write_post_status(writer: CaptureWriter, catalog: PostCatalog, platform: str, post_id: str,
                      account: str, status: str, reason: str,
                      evidence: Sequence[Evidence | Mapping[str, Any]], harvest_id: str,
                      captured_at: dt.datetime) -> tuple[str, bool]:
    """Write a status event's metadata record then record it; returns (record id, newly recorded)."""
    proofs = [Evidence.of(e) for e in evidence]
    uri, body, ctype = status_metadata(platform, post_id, account, status, reason, harvest_id, proofs,
                                       captured_at, catalog.current_version(platform, post_id) or 0)
    written = writer.write_metadata(uri, body, ctype, refers_to=[p.record_id for p in proofs])
    durable(writer)
    proof = next((p.record_id for p in proofs if p.role == "recheck"),
                 proofs[0].record_id if proofs else None)
    recorded = catalog.record_status(platform, post_id, status, reason, proof, written.record_id,
                                     harvest_id, captured_at)
    return written.record_id, recorded


class Recorder:
    """Post versions for one harvest: each metadata record written at once, the catalog rows
    committed in batches, each batch after one sync of the WARC file (``commit``).

    A batch is committed when it reaches ``batch`` versions, when the caller says a page is done,
    before a status event of a post still waiting, and at the end (``commit``); ``decide``
    counts the waiting versions, so a post seen twice needs no early commit.
    """

    def __init__(self, writer: CaptureWriter, catalog: PostCatalog, batch: int = 20) -> None:
        self.writer = writer
        self.catalog = catalog
        self.batch = batch
        self._waiting: list[Capture] = []
        self._posts: dict[tuple[str, str], tuple[str, int]] = {}  # waiting: fingerprint, version
        self._held: dict[tuple[str, str], tuple[str, int]] = {}  # decided, record not written yet
        # the catalog's latest versions of posts looked up together, but those committed since
        self._latest: dict[tuple[str, str], tuple[int, str] | None] = {}

    def post_version(self, post: Post, decision: Decision,
                     evidence: Sequence[Evidence | Mapping[str, Any]], harvest_id: str,
                     captured_at: dt.datetime, account: str | None = None,
                     browser: BrowserLinks | None = None) -> str:
        """Write the metadata record of ``post`` now; its catalog version waits for ``commit``.
        ``browser``: the capture of its page, linked from the record (WARC-Refers-To too)."""
        proofs = [Evidence.of(e) for e in evidence]
        # The catalog gets the post as the record holds it: the harvest may still change the
        # objects it shares (the counts of a reposted original seen again) before the commit,
        # and a rebuild reads the record. One JSON copy serves the record, the catalog's
        # snapshot of the post and its row.
        snapshot = post.to_json()
        recorded = Post.from_json(snapshot)
        uri, body, ctype = post_metadata(recorded, decision.version, decision.outcome, harvest_id,
                                         proofs, captured_at, account, browser, snapshot)
        linked = [p.record_id for p in proofs] + (browser.record_ids if browser else [])
        written = self.writer.write_metadata(uri, body, ctype, refers_to=linked)
        self._waiting.append(Capture(recorded, decision.version, decision.outcome, written.record_id,
                                     proofs, harvest_id, captured_at, snapshot))
        self._posts[(post.platform, post.post_id)] = (post.content_fingerprint(), decision.version)
        self._held.pop((post.platform, post.post_id), None)
        if len(self._waiting) >= self.batch:
            self.commit()
        return written.record_id

    def hold(self, post: Post, decision: Decision) -> None:
        """A version decided now whose record is written later (after its page is rendered):
        ``decide`` already counts it, so a second sighting in this harvest is not new again."""
        self._held[(post.platform, post.post_id)] = (post.content_fingerprint(), decision.version)

    def waiting(self, platform: str, post_id: str) -> bool:
        """Whether a version of this post is written but not yet in the catalog."""
        return (platform, post_id) in self._posts or (platform, post_id) in self._held

    def look_up(self, posts: Sequence[Post]) -> None:
        """Ask the catalog at once about posts about to be decided (an answer's posts): their
        ``decide`` then needs no question of its own, until this recorder commits a version of
        the post (a long text answered later is decided from its listing page's look-up)."""
        by_platform: dict[str, list[str]] = {}
        for post in posts:
            if (post.platform, post.post_id) not in self._latest:
                by_platform.setdefault(post.platform, []).append(post.post_id)
        for platform, post_ids in by_platform.items():
            latest = self.catalog.latest_versions(platform, post_ids)
            self._latest.update({(platform, i): latest.get(i) for i in post_ids})

    def holds_none(self, post: Post) -> bool:
        """The last look-up found no version of ``post`` in the catalog (and none was committed
        since): what the catalog would answer about it is known without asking."""
        key = (post.platform, post.post_id)
        return key in self._latest and self._latest[key] is None

    def decide(self, post: Post) -> Decision:
        """``PostCatalog.decide``, counting the versions still waiting (without a sync for it)."""
        key = (post.platform, post.post_id)
        waiting = self._posts.get(key) or self._held.get(key)
        if waiting is None:
            if key in self._latest:
                return decision(post, self._latest[key])
            return self.catalog.decide(post)
        fingerprint, version = waiting
        if fingerprint == post.content_fingerprint():
            return Decision("unchanged", version)
        return Decision("edited", version + 1)

    def settle(self, platform: str, post_id: str) -> None:
        """Commit now if this post waits: the catalog is about to be asked about it."""
        if (platform, post_id) in self._posts:
            self.commit()

    def commit(self) -> None:
        """Sync the WARC file once, then record every waiting version in one transaction."""
        if not self._waiting:
            return
        durable(self.writer)
        waiting, self._waiting, self._posts = self._waiting, [], {}
        for capture in waiting:
            self._latest.pop((capture.post.platform, capture.post.post_id), None)
        self.catalog.record_versions(waiting)
