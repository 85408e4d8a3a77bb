"""What one harvest is asked to do, and what it reports when it ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class HarvestJob:
    """One account's harvest. Credentials are values in memory only, never written anywhere."""

    platform: str
    account_id: str
    harvest_id: str
    mode: str = "incremental"  # "incremental": stop at the newest post already held; "full": backfill
    max_pages: int = 50  # listing pages a backfill may walk in one run
    recheck_days: float = 7.0  # re-check posts captured this recently for deletion or edits
    # Field values as the credentials file has them: text, or a list of texts (a ``urls`` source).
    credentials: dict[str, str | list[str]] = field(default_factory=dict, repr=False)
    credentials_ref: str = ""  # the name of the credentials entry (what a login pause applies to)
    media: bool = True  # fetch pictures and videos of new or edited posts
    browser: bool = True  # render new or edited posts' pages in Chromium (crawler.rendering)
    # comments read per new or edited post (pages of hotflow until this many); 0: none asked for
    comments_max: int = 0
    source: str | None = None  # listing source (Weibo: mobile, desktop; WeChat: api, backend, feed, urls)
    proxy: str = ""  # the platform emulator's address in tests and the demo; empty for the real ones
    egress: str = ""  # this machine's address and logins, by name: a refusal pauses only it
    # "start": this run begins a backfill from the top; "resume": it goes on from ``cursor``
    # (and walks the top for new posts); "": no backfill (see crawler.backfill)
    backfill: str = ""
    cursor: dict[str, Any] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return f"{self.platform}:{self.account_id}"


@dataclass
class HarvestSummary:
    account: str
    harvest_id: str
    outcome: str = "ok"  # ok, partial, stopped, failed
    reason: str = ""
    advice: str = ""
    posts_new: int = 0
    posts_edited: int = 0
    posts_unchanged: int = 0
    posts_deleted: int = 0
    posts_incomplete: int = 0
    pages: int = 0
    requests: int = 0
    exchanges: int = 0
    revisits: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    reported_total: int | None = None
    reported_unit: str = "posts"  # or "pushes" (WeChat counts pushes of several articles)
    captured_total: int = 0
    files: list[str] = field(default_factory=list)
    backfill: dict[str, Any] | None = None  # state (continuing, finished), pages, runs
    warnings: list[str] = field(default_factory=list)  # for the archivist, e.g. a file quarantined
    # browser capture (crawler.rendering): pages rendered and recorded, pages that failed (their
    # posts kept as the API gave them), what it added, its problems, and why it did not run
    browser_pages: int = 0
    browser_failed: int = 0
    browser_exchanges: int = 0
    browser_bytes: int = 0
    browser_problems: list[str] = field(default_factory=list)
    browser_note: str = ""
    # comments (opt-in per account): answers asked for, comment rows read, posts they were under
    comment_pages: int = 0
    comments: int = 0
    posts_with_comments: int = 0

    @property
    def gap(self) -> int | None:
        """Posts the platform says exist that the archive does not hold (None when not reported,
        or when the platform counts something else than posts)."""
        if self.reported_total is None or self.reported_unit != "posts":
            return None
        return max(self.reported_total - self.captured_total, 0)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["gap"] = self.gap
        return data
