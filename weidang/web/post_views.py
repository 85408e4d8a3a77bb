"""The post page: every archived version with what changed, its status findings with their
evidence, its pictures served from the WARC records, and the citation of each version."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from catalog.appraisal import current_decisions
from catalog.index_feed import documents_for
from catalog.open_access import is_open
from catalog.post_history import StatusEvent, status_events
from catalog.post_record import browser_links
from catalog.posts import PostCatalog, StoredVersion
from catalog.search import SearchHit
from harvesters.records import Media, Post
from warc_store import read_record
from warc_store.errors import StoreError
from warc_store.reader import StoredRecord, read_record_at
from weidang.citation import hit_lines
from weidang.web import labels, lang
from weidang.web.archive_views import RETENTIONS
from weidang.web.sanitize import clean_html
from weidang.web.security import CSP, MEDIA_CSP, requires

blueprint = Blueprint("posts", __name__)
PICTURE_KINDS = ("picture", "cover", "live_photo")


@dataclass(frozen=True)
class MediaItem:
    number: int  # its place among the version's fetched media: the address /media/<number>
    kind: str
    url: str  # where the platform served it (shown, never fetched by the page)
    picture: bool


@dataclass(frozen=True)
class VersionView:
    version: StoredVersion
    post: Post
    body: Markup  # sanitised
    media: list[MediaItem]
    missing_media: int  # media the post names that no capture could fetch
    diff: list[tuple[str, str]]  # (equal | insert | delete, text) against the version before
    citation: list[str]
    # the browser capture its metadata record links (catalog.post_record.browser_links)
    browser: dict[str, Any] | None = None
    replay: str = ""  # the address of its page's replay, "" when there is none


@dataclass(frozen=True)
class Replays:
    """Where this request's reader sees replays: the replay origin, or why there is none."""

    origin: str  # e.g. http://archive.example:8471 ; "" = no replays
    missing: str  # why not, for the page ("" when there are replays, or the server has none)

    @classmethod
    def here(cls) -> Replays:
        config = current_app.config
        if config["REPLAY"] is None:
            return cls("", lang.told(config["REPLAY_MISSING"]))
        if config["SETTINGS"]["WEB_REPLAY_URL"]:
            return cls(str(config["SETTINGS"]["WEB_REPLAY_URL"]).rstrip("/"), "")
        if not config["REPLAY_PORT"]:
            return cls("", "")  # served without a replay origin (`--replay-port 0`)
        host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return cls(f"{request.scheme}://{host}:{config['REPLAY_PORT']}", "")

    def address(self, version: StoredVersion, browser: dict[str, Any] | None) -> str:
        """The replay of the page the browser capture rendered for ``version``, if pywb holds it."""
        if not self.origin or not browser or not browser.get("page"):
            return ""
        path = current_app.config["REPLAY"].address(version.collection, browser["url"])
        return f"{self.origin}{path}" if path else ""


@blueprint.route("/posts/<key>")
@requires("read")
def post(key: str) -> Any:
    platform, post_id = _split(key)
    db, collections = current_app.config["DB"], current_app.config["COLLECTIONS"]
    replays = Replays.here()
    catalog = PostCatalog(db)
    versions = catalog.versions(platform, post_id)
    if not versions:
        abort(404)
    status = catalog.status(platform, post_id) or ""
    docs = {d.version: d for d in documents_for(db, collections, posts=[(platform, post_id)],
                                                all_demo=current_app.config["HOME"].is_demo())}
    with db.read() as conn:
        browsers = {n: v.browser for n, v in browser_links(conn, platform, post_id, collections).items()}
        events = status_events(conn, platform, post_id)
        opened = is_open(conn, platform, post_id)
        decision = next(iter(current_decisions(conn, [(platform, post_id)])), None)
    views, before = [], ""
    for version in versions:
        doc = docs.get(version.version)
        cite = hit_lines(version.version, SearchHit.from_post(doc, 0.0, "", ())) if doc else []
        browser = browsers.get(version.version)
        views.append(_view(version, before, cite, browser, replays.address(version, browser)))
        before = version.text
    page = render_template("post.html", key=key, platform=platform, post_id=post_id, status=status,
                           versions=list(reversed(views)), events=events, labels=labels,
                           finding=_finding(status, events), opened=opened,
                           decision=decision, retentions=RETENTIONS, replays=replays)
    response = Response(page)
    if replays.origin:  # the replay frames, and nothing else, may come from the replay origin
        response.headers["Content-Security-Policy"] = f"{CSP}; frame-src {replays.origin}"
    return response


@blueprint.route("/posts/<key>/v<int:version>/<any(screenshot, pdf):kind>")
@requires("read")
def rendition(key: str, version: int, kind: str) -> Response:
    """The screenshot (PNG) or PDF the browser capture made of a version's page, as archived."""
    platform, post_id = _split(key)
    with current_app.config["DB"].read() as conn:
        found = browser_links(conn, platform, post_id, current_app.config["COLLECTIONS"]).get(version)
    place = (found.browser or {}).get(kind) if found else None
    collection = current_app.config["COLLECTIONS"](found.collection) if found else None
    if not place or not place.get("warc_file") or collection is None:
        abort(404)
    try:
        stored = read_record_at(collection, place["warc_file"], int(place["offset"]))
    except StoreError:
        abort(404)
    if kind == "pdf":  # a PDF may carry scripts of its own: saved, never shown by this site
        response = Response(stored.payload, mimetype="application/pdf")
        name = f"{platform}-{post_id}-v{version}.pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = Response(stored.payload, mimetype="image/png")
    return _as_archived(response)


@blueprint.route("/posts/<key>/v<int:version>/media/<int:number>")
@requires("read")
def media(key: str, version: int, number: int) -> Response:
    """The bytes of one fetched media item of a version, exactly as archived."""
    platform, post_id = _split(key)
    found = [v for v in PostCatalog(current_app.config["DB"]).versions(platform, post_id)
             if v.version == version]
    if not found:
        abort(404)
    proofs = [e for e in found[0].evidence if e.role == "media"]
    if not 0 <= number < len(proofs):
        abort(404)
    collection = current_app.config["COLLECTIONS"](found[0].collection)
    if collection is None:
        abort(404)
    try:
        record = read_record(collection, proofs[number].record_id)
        if record.record_type == "revisit":  # the bytes lie in the record it refers to
            record = read_record(collection, record.header("WARC-Refers-To") or proofs[number].revisit_of
                                 or "")
    except StoreError:
        abort(404)
    return _media_response(record)


def _media_response(record: StoredRecord) -> Response:
    headers = {k.lower(): v for k, v in record.http_headers}
    kind = headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    response = Response(record.payload, mimetype=kind if kind.startswith("image/") else
                        "application/octet-stream")
    if not kind.startswith("image/") or kind == "image/svg+xml":
        response.headers["Content-Disposition"] = "attachment"  # never shown as a page
    if headers.get("content-encoding", "identity").lower() not in ("", "identity"):
        response.headers["Content-Encoding"] = headers["content-encoding"]
    return _as_archived(response)


def _as_archived(response: Response) -> Response:
    """Bytes out of a WARC record: never run as a page, and cached (archived bytes never change)."""
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _view(version: StoredVersion, before: str, citation: list[str],
          browser: dict[str, Any] | None, replay: str) -> VersionView:
    post = version.post()
    fetched = [e for e in version.evidence if e.role == "media"]
    items, named = [], _all_media(post)
    for number, proof in enumerate(fetched):
        item = next((m for m in named if proof.url in (m.url, *m.alternatives)), None)
        kind = item.kind if item is not None else "media"
        items.append(MediaItem(number, kind, proof.url, kind in PICTURE_KINDS))
    body = clean_html(post.text_html) if post.text_html else clean_html(_paragraphs(version.text))
    diff = _diff(before, version.text) if version.version > 1 else []
    return VersionView(version, post, body, items, max(0, len(named) - len(items)), diff, citation,
                       browser, replay)


def _finding(status: str, events: list[StatusEvent]) -> StatusEvent | None:
    """The finding that gave the post its present status (deleted, blocked...), if any."""
    return next((e for e in reversed(events) if e.status == status), None)


def _all_media(post: Post) -> list[Media]:
    return list(post.media) + (list(post.repost.media) if post.repost is not None else [])


def _paragraphs(text: str) -> str:
    from html import escape

    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """What changed, character by character (Chinese has no spaces to split words at)."""
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("equal", after[b1:b2]))
            continue
        if a2 > a1:
            out.append(("delete", before[a1:a2]))
        if b2 > b1:
            out.append(("insert", after[b1:b2]))
    return out


def _split(key: str) -> tuple[str, str]:
    platform, sep, post_id = key.partition(":")
    if not sep or not post_id or platform not in labels.PLATFORMS:
        abort(404)
    return platform, post_id
