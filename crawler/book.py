"""The harvest's bookkeeping: which posts are waiting for what, and what each one became.

A listing gives posts, some cut short; a post is decided (new, edited or unchanged) only once
whole (after its long text or article page), its media are fetched only if it is new or edited,
and its metadata record, linking it to every record it came from, is written once all of those
are in. Nothing here talks to the network: the spider feeds it.

With browser capture (``render``), the record of a new or edited post is held back once the post
is whole: the harvest renders its page after the crawl and hands the capture to ``write_held``,
so that the post's one metadata record links its page and renditions too (crawler.rendering).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.metadata import BrowserLinks
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


def _marks(post: Post) -> tuple[list[str], str]:
    """What a cut post still shows of its content besides the text: pictures and repost."""
    return [m.id or m.url for m in post.media], post.repost.post_id if post.repost else ""


def evidence(records: ExchangeRecords | None, role: str) -> list[dict[str, Any]]:
    if records is None:
        return []
    return [{"record_id": records.response_id, "url": records.url, "role": role,
             "payload_digest": records.payload_digest,
             **({"revisit_of": records.revisit_of} if records.revisit_of else {})}]


class CaptureBook:
    """The one owner of the posts' state in a harvest: the spider tells it what came, it decides.

    What the spider tells it: a post seen (``offer``), the media asked for a new or edited post
    (``expect_media``), a follow-up or media answered or failed (``answered``, ``media_done``),
    a post found gone (``unavailable``), a listing page done (``page_done``), the end (``close``).
    """

    def __init__(self, job: HarvestJob, writer: CaptureWriter, posts: PostCatalog,
                 summary: HarvestSummary, clock: Callable[[], datetime],
                 render: bool = False) -> None:
        self.job = job
        self.writer = writer
        self.catalog = posts
        self.summary = summary
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        self._seen: set[str] = set()
        self._rechecked: dict[str, Post] = {}  # posts of earlier harvests asked again
        self.disk_full = False  # the last versions could not be written: no space left
        self._counted: dict[str, str] = {}  # post key -> what the summary counted it as, this run
        self._originals: set[str] = set()  # posts reposted by the account (another account's posts)
        self._incomplete: set[str] = set()  # posts counted as incomplete (a follow-up failed)
        # versions reach the catalog in batches, each after the WARC file was synced
        self.recorder = Recorder(writer, posts)
        self.render = render  # hold new versions back for the browser (see the module docstring)
        self._held: list[Pending] = []

    @staticmethod
    def key(post: Post) -> str:
        return f"{post.platform}:{post.post_id}"

    @property
    def posts_seen(self) -> int:
        """Posts any answer of this harvest showed."""
        return len(self._seen)

    def waiting(self, key: str) -> int | None:
        """Follow-up and media answers the post still waits for (None: no post waits under ``key``)."""
        entry = self._pending.get(key)
        return entry.waiting if entry is not None else None

    def seen(self, post: Post) -> bool:
        """Some answer of this harvest showed ``post``."""
        return self.key(post) in self._seen

    # -- what the spider tells it ------------------------------------------------------------
    def rechecking(self, post: Post) -> str:
        """A post of an earlier harvest is asked for again; its key, for the re-check's answer."""
        key = self.key(post)
        self._rechecked[key] = post
        return key

    def held_whole(self, post: Post) -> bool:
        """``post`` is shown cut (its long text not read) and the archive holds it whole with the
        same edit count, pictures and repost. On a platform that counts every edit, reading its
        long text again could show no change: the spider need not ask (``offer(held_whole=True)``)."""
        if post.long_text_complete or self.recorder.holds_none(post):
            return False
        held = self.catalog.current_post(post.platform, post.post_id)
        return (held is not None and held.long_text_complete and held.edit_count == post.edit_count
                and _marks(held) == _marks(post))

    def look_up(self, posts: Sequence[Post]) -> None:
        """An answer's posts are about to be offered: the catalog is asked about them at once."""
        self.recorder.look_up(posts)

    def offer(self, post: Post, records: ExchangeRecords | None, role: str,
              follow_ups: int = 0, held_whole: bool = False) -> Post | None:
        """A post seen in an answer that asks ``follow_ups`` more requests to complete it.

        Merged with what is known of it in this harvest. A post whole and waiting for nothing
        this answer asks is decided now: the post is returned when new or edited (its media
        are to be asked for, then told with ``expect_media``); an unchanged one is finished.
        ``held_whole``: a cut post whose long text was not asked for again (``held_whole()``),
        unchanged.
        """
        key = self.key(post)
        self._seen.add(key)
        if post.repost is not None:
            self._originals.add(self.key(post.repost))
        entry = self._pending.get(key)
        if entry is None:
            entry = self._pending[key] = Pending(post)
        elif post.long_text_complete or not entry.post.long_text_complete:
            # a whole post replaces a partial one; pinned is a listing fact the follow-up lacks
            entry.post = post.merged(pinned=entry.post.pinned or post.pinned)
        entry.evidence += evidence(records, role)
        entry.waiting += follow_ups
        if held_whole and not entry.post.long_text_complete and not entry.waiting:
            entry.outcome, entry.decided = "unchanged", True
            self._finish(key)
            return None
        if not entry.post.long_text_complete or entry.decided or follow_ups:
            return None
        if self._decide(entry) == "unchanged":
            self._finish(key)
            return None
        return entry.post

    def expect_media(self, key: str, count: int) -> None:
        """The media asked for a new or edited post: its record waits for them (none: written now)."""
        entry = self._pending.get(key)
        if count == 0:
            self._finish(key)
        elif entry is not None:
            entry.waiting += count

    def media_done(self, key: str | None, records: ExchangeRecords | None, ok: bool,
                   error: str = "") -> None:
        entry = self._pending.get(key) if key else None
        if entry is None:
            return
        entry.evidence += evidence(records, "media")
        if not ok:
            self.summary.errors.append(error or f"a media file of {key} could not be fetched")
        self.answered(key)

    def answered(self, key: str | None) -> None:
        """A request the post waited for was answered, or failed."""
        entry = self._pending.get(key) if key else None
        if key is None or entry is None:
            return
        entry.waiting = max(entry.waiting - 1, 0)
        if entry.waiting == 0 and entry.decided:
            self._finish(key)

    def unavailable(self, key: str | None, shown: Post | None, status: str, reason: str,
                    records: ExchangeRecords | None) -> bool:
        """The platform showed a post gone (``shown``, or the one ``key`` was asked for): an event
        with its evidence. False when no post is known: the account itself is gone."""
        post = shown or self._known(key)
        if post is not None:
            self._status(post, status, reason, records)
        if key:
            self._pending.pop(key, None)
        return post is not None

    def _known(self, key: str | None) -> Post | None:
        if key is None:
            return None
        entry = self._pending.get(key)
        return entry.post if entry is not None else self._rechecked.get(key)

    def _decide(self, entry: Pending) -> str:
        """new, edited or unchanged, against the catalog's latest version."""
        decision = self.recorder.decide(entry.post)
        entry.outcome, entry.version, entry.decided = decision.outcome, decision.version, True
        return entry.outcome

    def _finish(self, key: str) -> None:
        """Write the post's metadata record and its version in the catalog (new or edited only)."""
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        if not entry.decided:
            self._decide(entry)
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
        if self.render and entry.post.long_text_complete:
            self.recorder.hold(entry.post, Decision(entry.outcome, entry.version))
            self._held.append(entry)
        else:
            self._write(entry, None)
        self._count(entry, entry.outcome)

    def _write(self, entry: Pending, browser: BrowserLinks | None) -> None:
        self.recorder.post_version(entry.post, Decision(entry.outcome, entry.version),
                                   entry.evidence, self.job.harvest_id, self.clock(),
                                   account=f"{entry.post.platform}:{entry.post.account_id}",
                                   browser=browser)

    @property
    def held(self) -> list[Post]:
        """Posts whose record waits for their page to be rendered, in the order decided."""
        return [entry.post for entry in self._held]

    def write_held(self, render: Callable[[Post], BrowserLinks | None] | None) -> None:
        """Write the held records, each with what ``render(post)`` captured of its page (None,
        or no ``render``: the record without it). On a full disk the rest stays unwritten, as
        in ``close``."""
        try:
            while self._held:
                entry = self._held[0]
                links = render(entry.post) if render is not None else None
                self._held.pop(0)
                self._write(entry, links)
            self.recorder.commit()
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.disk_full = True
            self._held.clear()

    def _release(self, post: Post) -> None:
        """A held post about to get a status event: its version is written first, unrendered."""
        for entry in [e for e in self._held if self.key(e.post) == self.key(post)]:
            self._held.remove(entry)
            self._write(entry, None)

    def _count(self, entry: Pending, outcome: str) -> None:
        """Count a post once per run, in its own account's summary.

        A post is finished again when a later answer of the same run shows it (a re-check, an
        overlapping page): counted once, as what changed most (new or edited over unchanged).
        The original of a repost is recorded in its own account and not counted here.
        """
        key = self.key(entry.post)
        if key in self._originals and entry.post.account_id != self.job.account_id:
            return
        if outcome == "incomplete":
            if key not in self._incomplete:
                self._incomplete.add(key)
                self.summary.posts_incomplete += 1
            return
        before = self._counted.get(key)
        if before is not None and (before != "unchanged" or outcome == "unchanged"):
            return
        if before == "unchanged":  # seen unchanged, then written (new or edited) in this run
            self.summary.posts_unchanged -= 1
        self._counted[key] = outcome
        field = f"posts_{outcome}"
        setattr(self.summary, field, getattr(self.summary, field) + 1)

    def _status(self, post: Post, status: str, reason: str, records: ExchangeRecords | None) -> None:
        """A post found deleted, blocked or otherwise gone: an event with its evidence; never removal.

        Recorded when the status changes: a post seen deleted again (by its listing and its
        re-check, or at the next harvest) adds no second event.
        """
        self._release(post)
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
            for key in list(self._pending):
                self._finish(key)
            self.recorder.commit()
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.disk_full = True

    def page_done(self) -> None:
        """A listing page was handled: commit the versions finished meanwhile (one sync)."""
        self.recorder.commit()
