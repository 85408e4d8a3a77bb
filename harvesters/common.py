"""What every platform harvester shares: the request it asks for and the result of a parse.

A harvester is pure platform knowledge. ``start_requests`` turns an account into
``RequestSpec``s; the crawler fetches each one and hands the answer to ``parse``, which returns
a ``ParseResult``: the records found, the next listing pages, the follow-up requests (long texts,
media, article pages) and any ``HarvestProblem`` the platform signalled. Everything a later
parse needs travels in ``RequestSpec.meta`` (JSON-safe), so harvesters keep no state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from harvesters.base62 import bid_to_mid, mid_to_bid
from harvesters.dates import SHANGHAI, from_unix, in_shanghai, parse_weibo_date
from harvesters.errors import (
    CaptchaRequired,
    HarvestError,
    HarvestProblem,
    LoginExpired,
    PlatformError,
    RateLimited,
    Unavailable,
    UnsupportedResponse,
)
from harvesters.purposes import Purpose
from harvesters.records import AccountInfo, Comment, Post
from harvesters.text import html_to_text, normalize_text, parse_count

__all__ = [
    "Purpose", "RequestSpec", "ParseResult", "HarvestError", "HarvestProblem", "RateLimited",
    "CaptchaRequired", "LoginExpired", "Unavailable", "PlatformError", "UnsupportedResponse",
    "SHANGHAI", "from_unix", "in_shanghai", "parse_weibo_date", "bid_to_mid", "mid_to_bid",
    "html_to_text", "normalize_text", "parse_count", "query_param", "read_items",
]

Item = TypeVar("Item")
# What a platform's odd item raises while it is read: a date in no known layout, a year 1,
# an id that is not a number, a field of the wrong type.
ITEM_ERRORS = (HarvestError, ValueError, TypeError, KeyError, AttributeError, OverflowError)


@dataclass
class RequestSpec:
    """One HTTP request a harvester wants made, with why and whether to archive it."""

    url: str
    purpose: Purpose  # a plain string naming one is taken too
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # Token exchanges and logins carry secrets and are not evidence: never archive them.
    archive: bool = True
    # JSON-safe values the parse of the answer needs: platform, account_id, source, page...
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            self.purpose = Purpose(self.purpose)
        except ValueError:
            raise ValueError(f"unknown request purpose {self.purpose!r}") from None

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "purpose": self.purpose.value, "method": self.method,
                "headers": dict(self.headers),
                "body": self.body.decode("utf-8") if self.body is not None else None,
                "archive": self.archive, "meta": dict(self.meta)}


@dataclass
class ParseResult:
    """Everything one response yielded."""

    posts: list[Post] = field(default_factory=list)
    account: AccountInfo | None = None
    # More pages of the same listing, in order.
    next_requests: list[RequestSpec] = field(default_factory=list)
    # Requests that complete the posts found: long texts, media, article pages, originals.
    follow_up_requests: list[RequestSpec] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reported_total: int | None = None  # how many items the platform says the listing holds
    # what reported_total counts: "posts", or "pushes" (a WeChat push, 群发 or 发布, may carry
    # several articles, and the platform counts pushes)
    reported_unit: str = "posts"
    end_of_listing: bool = False
    problem: HarvestProblem | None = None
    # Secrets the platform handed out in this answer (an access token): never archived or
    # shown, so the crawler must learn them before it makes the requests that carry them.
    secrets: list[str] = field(default_factory=list, repr=False)
    # Items of a listing that could not be read, one sentence each: the other items and the
    # next page are still taken (the answer itself is kept whole in the WARC).
    item_errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> list[RequestSpec]:
        return [*self.next_requests, *self.follow_up_requests]


def query_param(url: str, name: str) -> str:
    """The first value of one query parameter of ``url`` ("" when absent)."""
    values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name)
    return values[0] if values else ""


def read_items(items: Iterable[Any], read: Callable[[Any], list[Item]],
               errors: list[str]) -> list[Item]:
    """``read`` each item of a listing on its own: an item that fails is an error, not the page."""
    out: list[Item] = []
    for position, item in enumerate(items, start=1):
        try:
            out += read(item)
        except ITEM_ERRORS as exc:
            errors.append(f"item {position}{_item_id(item)} of the listing could not be read "
                          f"and was skipped ({_reason(exc)})")
    return out


def _item_id(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    inner: dict[str, Any] = item["mblog"] if isinstance(item.get("mblog"), dict) else item
    for key in ("idstr", "mid", "id", "aid", "appmsgid", "article_id"):
        if inner.get(key) not in (None, ""):
            return f" (id {str(inner[key])[:40]!r})"
    return " (it has no id)"


def _reason(exc: Exception) -> str:
    if isinstance(exc, HarvestError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:200]
