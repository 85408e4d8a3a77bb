"""The harvest's bookkeeping: which posts are waiting for what, and what each one became.

A listing gives posts, some cut short; a post is decided (new, edited or unchanged) only once
whole (after its long text or article page), its media are fetched only if it is new or edited,
and its metadata record, linking it to every record it came from, is written once all of those
are in. Nothing here talks to the network: the spider feeds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.posts import Decision, PostCatalog
from catalog.recording import Recorder, write_post_status
from crawler.job import HarvestJob, HarvestSummary
from harvesters import Post
from harvesters.records import WITHDRAWN
from warc_store import CaptureWriter, ExchangeRecords
from warc_store.lines import is_disk_full


@dataclass
class Pending:
    post: Post
    evidence: list[dict[str, Any]] = field(default_factory=list)
    waiting: int = 0  # follow-up and media requests not answered yet
    outcome: str = ""
    version: int = 0
    decided: bool = False


def evidence(records: ExchangeRecords | None, role: str) -> list[dict[str, Any]]:
    if records is None:
        return []
    return [{"record_id": records.response_id, "url": records.url, "role": role,
             "payload_digest": records.payload_digest,
             **({"revisit_of": records.revisit_of} if records.revisit_of else {})}]


class CaptureBook:
    def __init__(self, job: HarvestJob, writer: CaptureWriter, posts: PostCatalog,
                 summary: HarvestSummary, clock: Callable[[], datetime]) -> None:
        self.job = job
        self.writer = writer
        self.catalog = posts
        self.summary = summary
        self.clock = clock
        self.pending: dict[str, Pending] = {}
        self.seen: set[str] = set()
        self.disk_full = False  # the last versions could not be written: no space left
        self.counted: dict[str, str] = {}  # post key -> what the summary counted it as, this run
        self.originals: set[str] = set()  # posts reposted by the account (another account's posts)
        self.incomplete: set[str] = set()  # posts counted as incomplete (a follow-up failed)
        # versions reach the catalog in batches, each after the WARC file was synced
        self.recorder = Recorder(writer, posts)

    @staticmethod
    def key(post: Post) -> str:
        return f"{post.platform}:{post.post_id}"

    # -- what the spider tells it ------------------------------------------------------------
    def offer(self, post: Post, records: ExchangeRecords | None, role: str) -> Pending:
        """A post seen in an answer; merges with what is known of it in this harvest."""
        key = self.key(post)
        self.seen.add(key)
        if post.repost is not None:
            self.originals.add(self.key(post.repost))
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = Pending(post)
        elif post.long_text_complete or not entry.post.long_text_complete:
            # a whole post replaces a partial one; pinned is a listing fact the follow-up lacks
            entry.post = post.merged(pinned=entry.post.pinned or post.pinned)
        entry.evidence += evidence(records, role)
        return entry

    def decide(self, entry: Pending) -> str:
        """new, edited or unchanged, against the catalog's latest version."""
        decision = self.recorder.decide(entry.post)
        entry.outcome, entry.version, entry.decided = decision.outcome, decision.version, True
        return entry.outcome

    def media_done(self, key: str | None, records: ExchangeRecords | None, ok: bool,
                   error: str = "") -> None:
        entry = self.pending.get(key) if key else None
        if entry is None:
            return
        entry.evidence += evidence(records, "media")
        if not ok:
            self.summary.errors.append(error or f"a media file of {key} could not be fetched")
        self.done_waiting(key)

    def done_waiting(self, key: str | None) -> None:
        entry = self.pending.get(key) if key else None
        if key is None or entry is None:
            return
        entry.waiting = max(entry.waiting - 1, 0)
        if entry.waiting == 0 and entry.decided:
            self.finish(key)

    def finish(self, key: str) -> None:
        """Write the post's metadata record and its version in the catalog (new or edited only)."""
        entry = self.pending.pop(key, None)
        if entry is None:
            return
        if not entry.decided:
            self.decide(entry)
        if entry.outcome == "unchanged":
            self._count(entry, "unchanged")
            return
        if not entry.post.long_text_complete:
            self._count(entry, "incomplete")
            post = entry.post
            if self.catalog.known(post.platform, post.post_id) or self.recorder.waiting(
                    post.platform, post.post_id):
                # its follow-up failed: a cut text must not pass for an edit of the whole one
                return
        self.recorder.post_version(entry.post, Decision(entry.outcome, entry.version),
                                   entry.evidence, self.job.harvest_id, self.clock(),
                                   account=f"{entry.post.platform}:{entry.post.account_id}")
        self._count(entry, entry.outcome)

    def _count(self, entry: Pending, outcome: str) -> None:
        """Count a post once per run, in its own account's summary.

        A post is finished again when a later answer of the same run shows it (a re-check, an
        overlapping page): counted once, as what changed most (new or edited over unchanged).
        The original of a repost is recorded in its own account and not counted here.
        """
        key = self.key(entry.post)
        if key in self.originals and entry.post.account_id != self.job.account_id:
            return
        if outcome == "incomplete":
            if key not in self.incomplete:
                self.incomplete.add(key)
                self.summary.posts_incomplete += 1
            return
        before = self.counted.get(key)
        if before is not None and (before != "unchanged" or outcome == "unchanged"):
            return
        if before == "unchanged":  # seen unchanged, then written (new or edited) in this run
            self.summary.posts_unchanged -= 1
        self.counted[key] = outcome
        field = f"posts_{outcome}"
        setattr(self.summary, field, getattr(self.summary, field) + 1)

    def status(self, post: Post, status: str, reason: str, records: ExchangeRecords | None) -> None:
        """A post found deleted, blocked or otherwise gone: an event with its evidence; never removal.

        Recorded when the status changes: a post seen deleted again (by its listing and its
        re-check, or at the next harvest) adds no second event.
        """
        self.recorder.settle(post.platform, post.post_id)
        if self.catalog.status(post.platform, post.post_id) == status:
            return
        _record_id, changed = write_post_status(
            self.writer, self.catalog, post.platform, post.post_id,
            f"{post.platform}:{post.account_id or self.job.account_id}", status, reason,
            evidence(records, "recheck"), self.job.harvest_id, self.clock())
        if changed and status in WITHDRAWN:
            self.summary.posts_deleted += 1

    def close(self) -> None:
        """Finish what is still waiting (its follow-ups failed or the harvest was stopped).

        On a full disk what is left stays unrecorded (``disk_full`` says so): the WARC file
        is recovered and the catalog repaired at the next harvest, once there is space."""
        try:
            for key in list(self.pending):
                self.finish(key)
            self.recorder.commit()
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.disk_full = True

    def page_done(self) -> None:
        """A listing page was handled: commit the versions finished meanwhile (one sync)."""
        self.recorder.commit()
