"""The post metadata record: how a WARC file says which post version its records captured.

The crawler writes one WARC ``metadata`` record per captured post version (and one per status
event, e.g. a post found deleted), so that the WARC files alone say what was captured: the
catalog's post tables are rebuilt from these records (``catalog.rebuild``).

Format ``weidang-post/1``
-------------------------
- WARC-Type ``metadata``, ``Content-Type: application/vnd.weidang.post+json; version=1``.
- WARC-Target-URI ``urn:weidang:post:<platform>:<post_id>:v<version>`` for a captured version
  (the same URI again when a later harvest finds the version unchanged), and
  ``urn:weidang:post:<platform>:<post_id>:status:<status>:<YYYYMMDDhhmmss>`` for a status event.
  ``<post_id>`` is percent-encoded (WeChat ids may be links). Every record of a post is thus
  found by the URI prefix ``urn:weidang:post:<platform>:<post_id>:`` in the CDXJ index.
- WARC-Refers-To: the first evidence record (the store adds all of them in
  ``WARC-Weidang-Refers-To-All``).
- Body: one UTF-8 JSON object:

  ``format``       ``"weidang-post/1"``
  ``outcome``      ``"new"`` | ``"edited"`` | ``"unchanged"`` | ``"status"``
  ``platform``, ``post_id``
  ``version``      the version number (1, 2, ...); for a status event the version current then
  ``post``         ``Post.to_json()`` (harvesters.records), ``null`` for a status event
  ``fingerprint``  ``Post.content_fingerprint()`` when the record was written
  ``harvest_id``   the run (``runs.run_id``) that wrote it
  ``account``      ``"platform:id"``
  ``evidence``     ``[{record_id, url, role, payload_digest}]``: the WARC records the post (or
                   status) was read from; ``role`` is listing | long_text | detail | article |
                   media | recheck; a media item stored as a revisit adds ``revisit_of``
  ``captured_at``  ISO 8601 with offset
  ``browser``      only when the harvest rendered the post's page in Chromium (crawler.browser):
                   ``{url, page_record_id, screenshot_record_id, dom_record_id, pdf_record_id,
                   exchanges, images_total, images_loaded, problems}``; the ids name the page's
                   response and the three resource records (``null`` for what was not written),
                   ``problems`` the sentences of a capture that failed in part or whole. A
                   reader that does not know it ignores it: the post and its evidence are unchanged.
  ``status``, ``reason``  for a status event only (status: deleted, blocked, expired,
                   unavailable or live)

Readers refuse a ``format`` they do not know instead of guessing; a later layout gets a new
format name and content type version, and this module learns to read both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from catalog.errors import CatalogError
from harvesters.records import POST_STATUSES, Post

FORMAT = "weidang-post/1"
CONTENT_TYPE = "application/vnd.weidang.post+json; version=1"
MEDIA_TYPE = "application/vnd.weidang.post+json"
URI_PREFIX = "urn:weidang:post:"
OUTCOMES = ("new", "edited", "unchanged", "status")
ROLES = ("listing", "long_text", "detail", "article", "media", "recheck")


class MetadataError(CatalogError):
    """A post metadata record cannot be written or read."""


@dataclass(frozen=True)
class Evidence:
    """One WARC record a post or status was read from."""

    record_id: str
    url: str
    role: str
    payload_digest: str | None = None
    revisit_of: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise MetadataError(f"evidence role {self.role!r} is not one of {', '.join(ROLES)}")
        if not self.record_id:
            raise MetadataError("an evidence entry has no WARC record id")

    @classmethod
    def of(cls, value: Evidence | Mapping[str, Any]) -> Evidence:
        if isinstance(value, Evidence):
            return value
        try:
            return cls(record_id=str(value["record_id"]), url=str(value.get("url") or ""),
                       role=str(value["role"]), payload_digest=value.get("payload_digest"),
                       revisit_of=value.get("revisit_of"))
        except KeyError as exc:
            raise MetadataError(f"an evidence entry lacks its {exc.args[0]}") from exc

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"record_id": self.record_id, "url": self.url, "role": self.role,
                                "payload_digest": self.payload_digest}
        if self.revisit_of:
            data["revisit_of"] = self.revisit_of
        return data


@dataclass(frozen=True)
class BrowserLinks:
    """The browser capture of a post version: its page's response and its renditions."""

    url: str
    page_record_id: str | None = None
    screenshot_record_id: str | None = None
    dom_record_id: str | None = None
    pdf_record_id: str | None = None
    exchanges: int = 0
    images_total: int = 0
    images_loaded: int = 0
    problems: tuple[str, ...] = ()

    @property
    def record_ids(self) -> list[str]:
        """The records this capture links: page response, screenshot, DOM, PDF."""
        return [i for i in (self.page_record_id, self.screenshot_record_id, self.dom_record_id,
                            self.pdf_record_id) if i]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = list(self.problems)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BrowserLinks:
        try:
            return cls(url=str(data["url"]), **{k: (str(data[k]) if data.get(k) else None) for k in (
                "page_record_id", "screenshot_record_id", "dom_record_id", "pdf_record_id")},
                exchanges=int(data.get("exchanges") or 0),
                images_total=int(data.get("images_total") or 0),
                images_loaded=int(data.get("images_loaded") or 0),
                problems=tuple(str(p) for p in data.get("problems") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise MetadataError(f"a post metadata record has a malformed browser field ({exc})") from exc


@dataclass(frozen=True)
class MetadataRecord:
    """A post metadata record read back (see the module docstring for each field)."""

    outcome: str
    platform: str
    post_id: str
    version: int
    post: Post | None
    fingerprint: str
    harvest_id: str
    account: str
    evidence: tuple[Evidence, ...]
    captured_at: dt.datetime
    status: str = ""
    reason: str = ""
    browser: BrowserLinks | None = None


def post_uri(platform: str, post_id: str, version: int) -> str:
    return f"{URI_PREFIX}{platform}:{quote(post_id, safe='')}:v{version}"


def status_uri(platform: str, post_id: str, status: str, when: dt.datetime) -> str:
    stamp = when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"{URI_PREFIX}{platform}:{quote(post_id, safe='')}:status:{status}:{stamp}"


def post_metadata(post: Post, version: int, outcome: str, harvest_id: str,
                  evidence: Sequence[Evidence | Mapping[str, Any]],
                  captured_at: dt.datetime | None = None,
                  account: str | None = None,
                  browser: BrowserLinks | None = None,
                  post_json: Mapping[str, Any] | None = None) -> tuple[str, bytes, str]:
    """The metadata record of one captured post version: ``(target URI, body, content type)``.

    ``captured_at`` defaults to ``post.captured_at``; one of them must be set. ``account``
    defaults to the post's own (``platform:account_id``); ``browser``: its page's capture;
    ``post_json``: ``post.to_json()`` when the caller has taken it already.
    """
    if outcome not in OUTCOMES or outcome == "status":
        raise MetadataError(f"a post version's outcome must be new, edited or unchanged, not {outcome!r}")
    if version < 1:
        raise MetadataError(f"version numbers start at 1 (got {version})")
    when = captured_at or post.captured_at
    if when is None:
        raise MetadataError(f"post {post.platform}:{post.post_id} has no capture time")
    body = {
        "format": FORMAT, "outcome": outcome, "platform": post.platform, "post_id": post.post_id,
        "version": version, "post": post_json or post.to_json(), "fingerprint": post.content_fingerprint(),
        "harvest_id": harvest_id, "account": account or f"{post.platform}:{post.account_id}",
        "evidence": [Evidence.of(e).to_json() for e in evidence], "captured_at": when.isoformat(),
    }
    if browser is not None:
        body["browser"] = browser.to_json()
    return post_uri(post.platform, post.post_id, version), _encode(body), CONTENT_TYPE


def status_metadata(platform: str, post_id: str, account: str, status: str, reason: str,
                    harvest_id: str, evidence: Sequence[Evidence | Mapping[str, Any]],
                    captured_at: dt.datetime, version: int = 0) -> tuple[str, bytes, str]:
    """The metadata record of a status event (a re-check found the post deleted, blocked, ...)."""
    if status not in POST_STATUSES:
        raise MetadataError(f"post status {status!r} is not one of {', '.join(POST_STATUSES)}")
    when = captured_at
    if when.tzinfo is None:
        raise MetadataError("a status event needs a time with its time zone")
    body = {
        "format": FORMAT, "outcome": "status", "platform": platform, "post_id": post_id,
        "version": version, "post": None, "fingerprint": "", "harvest_id": harvest_id,
        "account": account, "evidence": [Evidence.of(e).to_json() for e in evidence],
        "captured_at": when.isoformat(), "status": status, "reason": reason,
    }
    return status_uri(platform, post_id, status, when), _encode(body), CONTENT_TYPE


def is_post_metadata(content_type: str | None) -> bool:
    """Whether a record's WARC Content-Type says it is a post metadata record (any version)."""
    return (content_type or "").split(";")[0].strip().lower() == MEDIA_TYPE


def read_metadata(body: bytes) -> MetadataRecord:
    """Read a post metadata record's body; refuses formats this weidang does not know."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"a post metadata record is not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MetadataError("a post metadata record does not hold a JSON object")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise MetadataError(f"a post metadata record is in the format {fmt!r}, which this weidang "
                            f"cannot read (it reads {FORMAT}); upgrade weidang")
    try:
        outcome = data["outcome"]
        if outcome not in OUTCOMES:
            raise MetadataError(f"a post metadata record has the unknown outcome {outcome!r}")
        post = Post.from_json(data["post"]) if data.get("post") else None
        if post is None and outcome != "status":
            raise MetadataError(f"the {outcome} post metadata record of "
                                f"{data.get('platform')}:{data.get('post_id')} holds no post")
        return MetadataRecord(
            outcome=outcome, platform=str(data["platform"]), post_id=str(data["post_id"]),
            version=int(data["version"]), post=post, fingerprint=str(data.get("fingerprint") or ""),
            harvest_id=str(data["harvest_id"]), account=str(data["account"]),
            evidence=tuple(Evidence.of(e) for e in data.get("evidence") or []),
            captured_at=dt.datetime.fromisoformat(data["captured_at"]),
            status=str(data.get("status") or ""), reason=str(data.get("reason") or ""),
            browser=BrowserLinks.from_json(data["browser"]) if data.get("browser") else None)
    except KeyError as exc:
        raise MetadataError(f"a post metadata record lacks its {exc.args[0]!r} field") from exc
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"a post metadata record has a malformed field ({exc})") from exc


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
