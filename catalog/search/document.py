"""What the catalog hands the index (one post version) and what a search hands back (a hit).

This is the contract between the catalog and every index backend: the catalog builds one
``IndexedPost`` per post version it holds, and a search returns ``SearchHit`` objects that carry
everything a citation needs, so a result can be cited without going back to the catalog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from harvesters.records import EDITED, LIVE, WITHDRAWN

# The statuses the index knows: a post not shown (expired, unavailable) is indexed as live or edited.
STATUSES = (LIVE, EDITED, *WITHDRAWN)

# Marks around highlighted words in ``SearchHit.marked()`` (not 【】, which Weibo posts use
# themselves). The hit keeps plain text and character spans, so a web page or a spreadsheet
# can show highlights its own way.
# The text fields every backend searches, in this order, with the weight of a match in each: the
# title counts most, a repost less, the comments under the post least (readers' words, not the
# publisher's).
TEXT_WEIGHTS = {"title": 3.0, "text": 1.0, "repost_text": 0.5, "comments_text": 0.3}
MARK_OPEN = "«"
MARK_CLOSE = "»"


def _aware(value: Any, name: str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a date and time with its time zone, not {value!r}")
    return value


def make_doc_id(platform: str, post_id: str, version: int) -> str:
    return f"{platform}:{post_id}:v{version}"


@dataclass(frozen=True)
class IndexedPost:
    """One version of one post, as indexed. Times must carry their time zone."""

    platform: str
    account_id: str
    account_name: str
    post_id: str
    version: int
    url: str
    published_at: dt.datetime
    captured_at: dt.datetime
    title: str = ""
    text: str = ""  # plain text, the long text included when the platform folds it
    repost_text: str = ""  # the text of the post this one reposts, if any
    # the texts of the comments archived under the post, one a line (its current version only)
    comments_text: str = ""
    media_count: int = 0
    status: str = "live"
    appraisal: dict[str, Any] = field(default_factory=dict)  # e.g. retention, archival_code (档号)
    warc_file: str = ""
    warc_record_id: str = ""
    payload_sha256: str = ""
    demo: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "published_at", _aware(self.published_at, "published_at"))
        object.__setattr__(self, "captured_at", _aware(self.captured_at, "captured_at"))
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ValueError(f"version must be a whole number from 1, not {self.version!r}")
        for name in ("platform", "post_id"):
            value = getattr(self, name)
            if not value or ":" in value:
                raise ValueError(f"{name} must be non-empty and without ':', not {value!r}")

    @property
    def doc_id(self) -> str:
        """``<platform>:<post_id>:v<version>``: upserting the same version twice replaces it."""
        return make_doc_id(self.platform, self.post_id, self.version)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 with their offset, ``doc_id`` included."""
        # Field by field rather than asdict(), whose deep copies dominate bulk indexing time.
        out: dict[str, Any] = {"doc_id": self.doc_id}
        for f in _POST_FIELDS:
            out[f] = getattr(self, f)
        out["published_at"] = self.published_at.isoformat()
        out["captured_at"] = self.captured_at.isoformat()
        out["appraisal"] = dict(self.appraisal)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexedPost:
        names = {f.name for f in fields(cls)}
        post = cls(**{k: v for k, v in data.items() if k in names})
        if "doc_id" in data and data["doc_id"] != post.doc_id:
            raise ValueError(f"doc_id {data['doc_id']!r} does not match {post.doc_id!r}")
        return post


_POST_FIELDS = tuple(f.name for f in fields(IndexedPost))


@dataclass(frozen=True)
class SearchHit:
    """One matching post version with its citation and a snippet of the text around the match.

    ``snippet`` is plain text; ``highlights`` are ``(start, end)`` character offsets into it.
    """

    doc_id: str
    platform: str
    account_id: str
    account_name: str
    post_id: str
    version: int
    url: str
    published_at: dt.datetime
    captured_at: dt.datetime
    title: str
    status: str
    warc_file: str
    warc_record_id: str
    payload_sha256: str
    demo: bool
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()

    def marked(self, open_mark: str = MARK_OPEN, close_mark: str = MARK_CLOSE) -> str:
        """The snippet with each highlighted stretch put between marks."""
        out, last = [], 0
        for start, end in self.highlights:
            out += [self.snippet[last:start], open_mark, self.snippet[start:end], close_mark]
            last = end
        out.append(self.snippet[last:])
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published_at"] = self.published_at.isoformat()
        out["captured_at"] = self.captured_at.isoformat()
        out["highlights"] = [list(span) for span in self.highlights]
        return out

    @classmethod
    def from_post(
        cls, post: IndexedPost, score: float, snippet: str, highlights: tuple[tuple[int, int], ...]
    ) -> SearchHit:
        return cls(
            doc_id=post.doc_id, platform=post.platform, account_id=post.account_id,
            account_name=post.account_name, post_id=post.post_id, version=post.version,
            url=post.url, published_at=post.published_at, captured_at=post.captured_at,
            title=post.title, status=post.status, warc_file=post.warc_file,
            warc_record_id=post.warc_record_id, payload_sha256=post.payload_sha256,
            demo=post.demo, score=score, snippet=snippet, highlights=highlights,
        )


@dataclass(frozen=True)
class SearchResults:
    """One page of hits, best first, and how many versions match in all.

    A backend may stop counting at a cap: then ``total`` is that cap, ``total_is_exact`` is
    False and at least ``total`` versions match (exports and scans still return every one).
    """

    total: int
    hits: list[SearchHit]
    total_is_exact: bool = True

    def total_text(self) -> str:
        """The total as shown to people: ``10,000+`` when it is only a lower bound."""
        return f"{self.total:,}" if self.total_is_exact else f"{self.total:,}+"
