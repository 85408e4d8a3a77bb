"""The normalized records every platform's parser produces: posts, their media, accounts.

Records are plain dataclasses; ``to_json()`` gives a JSON-safe dict (times as ISO 8601 with
offset) and ``from_json()`` reads it back, so records can travel in request meta and catalogs.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from harvesters.text import normalize_text

MEDIA_KINDS = ("picture", "video", "live_photo", "cover", "audio", "embed")
# A post's status, defined here once for every layer. What the platform showed when the post was
# last looked at: live, withdrawn, or not shown (which does not say it was withdrawn).
LIVE = "live"
WITHDRAWN = ("deleted", "blocked")
NOT_SHOWN = ("expired", "unavailable")
POST_STATUSES = (LIVE, *WITHDRAWN, *NOT_SHOWN)
# A post's status in the catalog: a live post captured in more than one version is edited.
EDITED = "edited"
CATALOG_STATUSES = (LIVE, EDITED, *WITHDRAWN, *NOT_SHOWN)


@dataclass
class Media:
    """One picture, video, sound or embed of a post, at the best quality the response offers."""

    kind: str
    url: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    alternatives: list[str] = field(default_factory=list)  # other URLs of the same item
    id: str = ""  # stable across captures (signed URLs are not): a pid, a file id, a URL path

    def to_json(self) -> dict[str, Any]:
        return {name: _plain_copy(getattr(self, name)) for name in _field_names(Media)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Media:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Post:
    """One post as captured at ``captured_at``; ``repost`` is the post it forwards, if any."""

    platform: str
    account_id: str
    post_id: str
    account_name: str = ""
    platform_ids: dict[str, str] = field(default_factory=dict)
    url: str = ""
    published_at: dt.datetime | None = None
    title: str = ""
    text_html: str = ""
    text: str = ""
    long_text_complete: bool = True
    media: list[Media] = field(default_factory=list)
    repost: Post | None = None
    repost_note: str = ""  # e.g. why the reposted original cannot be seen
    counts: dict[str, int] = field(default_factory=dict)
    edited: bool = False
    edit_count: int = 0
    edited_at: dt.datetime | None = None
    location: str = ""
    source: str = ""
    pinned: bool = False
    status: str = "live"
    captured_at: dt.datetime | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # platform fields worth keeping

    def normalized_text(self) -> str:
        return normalize_text(self.text)

    def content_fingerprint(self) -> str:
        """A hash of what makes a new version of the post: never counts, never signed URLs."""
        content = {
            "title": normalize_text(self.title),
            "text": self.normalized_text(),
            "media": [m.id or m.url for m in self.media],
            "edit_count": self.edit_count,
            "repost": self.repost.post_id if self.repost is not None else "",
        }
        encoded = json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()

    def media_urls(self) -> list[str]:
        return [m.url for m in self.media]

    def merged(self, **changes: Any) -> Post:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in _field_names(Post):
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            elif name == "media":
                value = [m.to_json() for m in value]
            elif name == "repost":
                value = value.to_json() if value is not None else None
            else:
                # a copy: a post rebuilt from this (a follow-up request's meta) and changed by
                # its answer must not change this post (counts, extras) behind its back
                value = _plain_copy(value)
            data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Post:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("published_at", "edited_at", "captured_at"):
            if values.get(name):
                values[name] = dt.datetime.fromisoformat(values[name])
        values["media"] = [Media.from_json(m) for m in values.get("media") or []]
        if values.get("repost"):
            values["repost"] = cls.from_json(values["repost"])
        return cls(**values)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _plain_copy(value: Any) -> Any:
    """A deep copy of JSON-like data, several times faster than ``copy.deepcopy`` for the
    small dicts of a post (serialised more than once for every post captured)."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return copy.deepcopy(value)


@dataclass
class AccountInfo:
    """What the platform says about an account at capture time."""

    platform: str
    account_id: str
    name: str = ""
    reported_total: int | None = None  # posts the platform says the account has
    followers: int | None = None
    verified: bool = False
    verified_reason: str = ""
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountInfo:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Comment:
    """A comment under a post; weidang may archive them, the parser always reads them."""

    platform: str
    post_id: str
    comment_id: str
    author_id: str = ""
    author_name: str = ""
    text_html: str = ""
    text: str = ""
    published_at: dt.datetime | None = None
    likes: int | None = None
    reply_count: int | None = None
    replies: list[Comment] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        data["replies"] = [r.to_json() for r in self.replies]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comment:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        if values.get("published_at"):
            values["published_at"] = dt.datetime.fromisoformat(values["published_at"])
        values["replies"] = [cls.from_json(r) for r in values.get("replies") or []]
        return cls(**values)
