"""One identity per account, whatever it is called: ids, links between them, and names.

A platform may know an account under more than one id. A WeChat official account has its
``__biz`` (in every article link; its posts are stored under it) and its original id, the
``gh_`` user name (on its article pages, and what an agency often gives); an archivist may
register either. The first capture that shows both records the link in ``account_identities``
(authoritative and append-only: a link, once seen, stays), with an event in ``catalog_events``.
The same table keeps every name the platform showed for an account.

``account_keys`` is the one place a name for an account becomes the account's ``platform:id``
keys: the registered id, any id linked to it, the registered name, or a name the platform
showed. Post counts, the crawler's questions about an account's posts and every account filter
(search, its exports, status) go through it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select, text, union

from catalog.schema import (
    account_identities,
    accounts,
    catalog_events,
    insert_ignore,
    insert_ignore_many,
    iso,
)
from harvesters.records import Post

PLATFORMS = ("weibo", "wechat")
LINKED = "account identity linked"  # the catalog_events action of a new gh_ <-> __biz link


def record_identity(conn: Connection, post: Post, harvest_id: str, when: dt.datetime) -> None:
    """Remember the names and linked ids ``post`` shows for its account (inside the caller's
    write); a link seen for the first time is logged as an event."""
    record_identities(conn, [(post, harvest_id, when)])


def record_identities(conn: Connection, sightings: Sequence[tuple[Post, str, dt.datetime]]) -> None:
    """``record_identity`` for many posts, in their order: the names in one statement."""
    names: dict[tuple[str, str, str], dict[str, str]] = {}
    for post, harvest_id, when in sightings:
        if post.account_id and post.account_name:  # the first sighting of a name is its first
            names.setdefault((post.platform, post.account_id, post.account_name), {
                **_seen(post, harvest_id, when), "kind": "name", "value": post.account_name})
    insert_ignore_many(conn, account_identities, list(names.values()))
    for post, harvest_id, when in sightings:
        _link_user_name(conn, post, harvest_id, when)


def _seen(post: Post, harvest_id: str, when: dt.datetime) -> dict[str, str]:
    return {"platform": post.platform, "account_id": post.account_id, "first_seen": iso(when),
            "harvest_id": harvest_id}


def _link_user_name(conn: Connection, post: Post, harvest_id: str, when: dt.datetime) -> None:
    """A WeChat article shows both the ``__biz`` and the ``gh_`` id: remember the link."""
    user_name = str(post.extras.get("user_name") or "")
    if not post.account_id or post.platform != "wechat" or not user_name.startswith("gh_") \
            or user_name == post.account_id:
        return
    seen = _seen(post, harvest_id, when)
    if insert_ignore(conn, account_identities, {**seen, "kind": "user_name", "value": user_name}):
        subject = _registered_key(conn, post.platform, (user_name, post.account_id))
        details = {"biz": post.account_id, "user_name": user_name, "harvest_id": harvest_id}
        conn.execute(catalog_events.insert().values(
            at=seen["first_seen"], subject=subject, action=LINKED,
            details=json.dumps(details, sort_keys=True)))


def account_keys(conn: Connection, value: str, platform: str | None = None) -> frozenset[str]:
    """Every ``platform:id`` under which the account ``value`` names has posts or a register
    entry: ``value`` is an id (``gh_…`` or ``__biz``, with or without ``platform:``), the
    registered name, or a name the platform showed. Linked ids are followed both ways. Never
    empty: an unknown id stands for itself."""
    text_ = value.strip()
    head, sep, rest = text_.partition(":")
    if sep and head.lower() in PLATFORMS:
        platform, text_ = head.lower(), rest.strip()
    platforms = (platform,) if platform else PLATFORMS
    keys = {(p, text_) for p in platforms}
    keys |= _named(conn, text_, platforms)
    frontier = set(keys)
    while frontier:
        found = set().union(*(_linked(conn, p, i) for p, i in frontier)) - keys
        keys |= found
        frontier = found
    return frozenset(f"{p}:{i}" for p, i in keys)


def _named(conn: Connection, name: str, platforms: Sequence[str]) -> set[tuple[str, str]]:
    ids = account_identities.c
    shown = select(ids.platform, ids.account_id).where(
        ids.kind == "name", ids.value == name, ids.platform.in_(platforms))
    registered = select(accounts.c.platform, accounts.c.account_id).where(
        accounts.c.name == name, accounts.c.platform.in_(platforms))
    return {(str(r[0]), str(r[1])) for r in conn.execute(union(shown, registered))}


_LINKED = text(
    "SELECT account_id FROM account_identities WHERE platform = :platform AND kind = 'user_name' "
    "AND value = :id UNION SELECT value FROM account_identities WHERE platform = :platform "
    "AND kind = 'user_name' AND account_id = :id").bindparams(bindparam("platform"), bindparam("id"))


def _linked(conn: Connection, platform: str, account_id: str) -> set[tuple[str, str]]:
    rows = conn.execute(_LINKED, {"platform": platform, "id": account_id})
    return {(platform, str(r[0])) for r in rows}


def _registered_key(conn: Connection, platform: str, ids: tuple[str, ...]) -> str:
    """The key the archivist registered among ``ids`` (else the last, the stored id)."""
    for account_id in ids:
        if conn.execute(select(accounts.c.id).where(
                accounts.c.platform == platform, accounts.c.account_id == account_id)).first():
            return f"{platform}:{account_id}"
    return f"{platform}:{ids[-1]}"
