"""The face's side of appraisal and topics: which posts a command means, and where events go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError
from warc_store import Collection
from weidang.context import AppContext
from weidang.i18n import _
from weidang.store import open_collection

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from catalog.appraisal import ArchiveCodes
    from catalog.db import Database


def parse_post(text: str) -> tuple[str, str]:
    """``platform:post_id`` -> (platform, post_id), or CatalogError saying what is wrong."""
    platform, sep, post_id = (text or "").strip().partition(":")
    if not sep or platform not in ("weibo", "wechat") or not post_id.strip():
        raise CatalogError(_("%(text)s does not name a post; write platform:post_id, e.g. "
                             "weibo:5012345678901234 or wechat:2247483650_1", text=repr(text)))
    return platform, post_id.strip()


def collection_source(app: AppContext) -> Any:
    """A collection by name, or None when the home has no such collection."""
    def find(name: str) -> Collection | None:
        try:
            return open_collection(app.home, name)
        except (OSError, ValueError):
            return None
    return find


def event_sink(app: AppContext) -> Any:
    """Appraisal events go to the event log of the collection holding the post."""
    def sink(collection: str, detail: dict[str, Any]) -> tuple[int, str]:
        entry = open_collection(app.home, collection).record_event("appraisal", "success", detail)
        return int(entry["seq"]), str(entry["hash"])
    return sink


def default_codes(app: AppContext) -> ArchiveCodes | None:
    from catalog.appraisal import ArchiveCodes  # noqa: PLC0415 - SQLAlchemy loads with the catalog

    s = app.settings
    parts = (str(s["CATALOG_ARCHIVE_FONDS"]), str(s["CATALOG_ARCHIVE_CATEGORY"]),
             str(s["CATALOG_ARCHIVE_UNIT"]))
    if not all(parts):
        return None
    return ArchiveCodes(*parts)


def selected_posts(app: AppContext, db: Database, posts: Iterable[str], account: str | None,
                   since: str | None, until: str | None, topic: str | None,
                   query: str | None,
                   options: str = "--account, --from/--to, --topic or --query") -> list[tuple[str, str]]:
    """The posts named, then those of an account and/or publication dates, a topic or a search;
    ``options`` names the command's selection options for the message when nothing is selected."""
    keys = [parse_post(p) for p in posts]
    with db.read() as conn:
        if account is not None or since is not None or until is not None:
            keys += _by_account(conn, account, since, until)
        if topic is not None:
            keys += topic_posts(app, conn, topic)
    if query is not None:
        keys += searched_posts(app, {"text": query})
    unique = list(dict.fromkeys(keys))
    if not unique:
        raise CatalogError(_("no post was selected: name posts (weibo:ID), or choose them with "
                             "%(options)s", options=options))
    return unique


def _by_account(conn: Connection, account: str | None, since: str | None,
                until: str | None) -> list[tuple[str, str]]:
    from sqlalchemy import select  # noqa: PLC0415

    from catalog.identity import account_keys  # noqa: PLC0415
    from catalog.schema import iso, posts  # noqa: PLC0415
    from weidang.searching import parse_date  # noqa: PLC0415

    query = select(posts.c.platform, posts.c.post_id)
    if account is not None:
        query = query.where(posts.c.account.in_(sorted(account_keys(conn, account))))
    start, end = parse_date(since, "--from", end=False), parse_date(until, "--to", end=True)
    if start is not None:
        query = query.where(posts.c.published_at >= iso(start))
    if end is not None:
        query = query.where(posts.c.published_at <= iso(end))
    return [(str(p), str(i)) for p, i in conn.execute(query.order_by(posts.c.published_at,
                                                                     posts.c.post_id))]


def topic_posts(app: AppContext, conn: Connection, name: str) -> list[tuple[str, str]]:
    """A topic's posts: its hand-picked members, or what its saved search finds now."""
    from catalog.topics import members, require_topic  # noqa: PLC0415

    topic = require_topic(conn, name)
    if topic.kind == "list":
        return members(conn, name)
    return searched_posts(app, topic.query)


def searched_posts(app: AppContext, saved: dict[str, Any]) -> list[tuple[str, str]]:
    """The posts a search finds (each post once, whichever of its versions matched)."""
    from weidang.indexing import open_search_index  # noqa: PLC0415
    from weidang.searching import build_filters, every_hit, with_account_keys  # noqa: PLC0415

    filters = with_account_keys(app.home, app.settings, build_filters(
        saved.get("account"), saved.get("platform"), saved.get("since"), saved.get("until"),
        saved.get("status")))
    with open_search_index(app.home, app.settings) as index:
        hits = list(every_hit(index, str(saved.get("text") or ""), filters))
    return list(dict.fromkeys((h.platform, h.post_id) for h in hits))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
