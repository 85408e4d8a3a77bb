"""The read-only JSON API for other archives (跨馆利用): search and post records, of open posts only.

No login: what it serves is what an administrator opened (``catalog.open_access``), the same for
everyone, so a client sends no key and the API sets no cookie. A post that is not open answers
exactly as one that does not exist (404), so the API does not tell what the archive holds
beyond what is open. The description is ``/api/openapi.json`` (``weidang.web.openapi``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from catalog.open_access import is_open, open_posts
from catalog.search import SearchHit
from catalog.search.document import STATUSES
from catalog.search.errors import QueryError, SearchError
from weidang.indexing import open_search_index
from weidang.searching import build_filters, every_hit, with_account_keys
from weidang.web import openapi
from weidang.web.open_data import open_record

blueprint = Blueprint("api", __name__)
PLATFORMS = ("weibo", "wechat")
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_QUERY = 500  # characters: a search longer than a paragraph is a mistake or an attack


class BadRequest(Exception):
    """A parameter the API cannot use; the message names it."""


@blueprint.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 400


@blueprint.route("/api/openapi.json")
def description() -> Response:
    return jsonify(openapi.DESCRIPTION)


@blueprint.route("/api/v1/search")
def search() -> Response | tuple[Response, int]:
    args = _Args()
    q = args.text("q", MAX_QUERY)
    platform, status = args.choice("platform", PLATFORMS), args.choice("status", STATUSES)
    account, since, until = args.text("account", 200), args.date("since"), args.date("until")
    page, per_page = args.number("page", 1, MAX_PAGE, 1), args.number("per_page", 1, MAX_PER_PAGE, 20)
    home, settings = current_app.config["HOME"], current_app.config["SETTINGS"]
    try:
        filters = with_account_keys(home, settings, build_filters(account or None, platform or None,
                                                                  since or None, until or None,
                                                                  status or None))
        with open_search_index(home, settings) as index:
            hits = _open_hits(every_hit(index, q, filters))
            skip, out, total = (page - 1) * per_page, [], 0
            for hit in hits:
                if skip <= total < skip + per_page:
                    out.append(_hit(hit))
                total += 1
    except QueryError as exc:  # filters that contradict each other (an until before since): none match
        return jsonify(total=0, page=page, per_page=per_page, hits=[], note=str(exc))
    except SearchError as exc:  # the index is being rebuilt, or its server is down: try later
        return jsonify(error=str(exc)), 503
    return jsonify(total=total, page=page, per_page=per_page, hits=out)


def _open_hits(hits: Any) -> Any:
    """The hits of open posts, asking the catalog once per post."""
    db, seen = current_app.config["DB"], {}
    with db.read() as conn:
        for hit in hits:
            key = (hit.platform, hit.post_id)
            if key not in seen:
                seen[key] = is_open(conn, *key)
            if seen[key]:
                yield hit


def _hit(hit: SearchHit) -> dict[str, Any]:
    return {"id": f"{hit.platform}:{hit.post_id}", "platform": hit.platform,
            "post_id": hit.post_id, "version": hit.version, "account_id": hit.account_id,
            "account_name": hit.account_name, "url": hit.url, "status": hit.status,
            "title": hit.title, "snippet": hit.snippet,
            "highlights": [list(h) for h in hit.highlights],
            "published_at": hit.published_at.isoformat(), "captured_at": hit.captured_at.isoformat(),
            "warc_file": hit.warc_file, "warc_record_id": hit.warc_record_id,
            "payload_sha256": hit.payload_sha256}


@blueprint.route("/api/v1/posts/<key>")
def post(key: str) -> Response | tuple[Response, int]:
    platform, sep, post_id = key.partition(":")
    if not sep or platform not in PLATFORMS or not post_id:
        raise BadRequest("a post is named platform:post_id, e.g. weibo:4900009245559000")
    with current_app.config["DB"].read() as conn:
        if not open_posts(conn, keys=[(platform, post_id)], limit=1):
            return jsonify(error=f"{key} is not open to other archives, or not held"), 404
        return jsonify(open_record(conn, platform, post_id))


@blueprint.route("/api/v1/open")
def listing() -> Response:
    """Every open post, in the order it last changed (captured, opened, appraised), a page at a
    time (for whole-archive copies)."""
    args = _Args()
    page, per_page = args.number("page", 1, MAX_PAGE, 1), args.number("per_page", 1, MAX_PER_PAGE, 100)
    with current_app.config["DB"].read() as conn:
        rows = open_posts(conn, limit=page * per_page)[(page - 1) * per_page:]
    return jsonify(page=page, per_page=per_page,
                   posts=[{"id": f"{r.platform}:{r.post_id}", "url": r.url, "status": r.status,
                           "last_captured": r.last_captured} for r in rows])


class _Args:
    """The query string, each parameter checked against what the description says."""

    def text(self, name: str, longest: int) -> str:
        value = request.args.get(name, "").strip()
        if len(value) > longest or "\x00" in value:
            raise BadRequest(f"{name} is longer than {longest} characters or holds a NUL")
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = request.args.get(name, "")
        if value and value not in allowed:
            raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
        return value

    def date(self, name: str) -> str:
        import datetime as dt  # noqa: PLC0415

        value = request.args.get(name, "")
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise BadRequest(f"{name} must be a date, YYYY-MM-DD") from None
            if len(value) != 10:
                raise BadRequest(f"{name} must be a date, YYYY-MM-DD")
        return value

    def number(self, name: str, low: int, high: int, default: int) -> int:
        value = request.args.get(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
            raise BadRequest(f"{name} must be a whole number from {low} to {high}")
        return int(value)
