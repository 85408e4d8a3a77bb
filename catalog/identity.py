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
import sqlite3
from collections.abc import Sequence

from catalog.store import iso
from harvesters.records import Post

PLATFORMS = ("weibo", "wechat")
LINKED = "account identity linked"  # the catalog_events action of a new gh_ <-> __biz link


def record_identity(conn: sqlite3.Connection, post: Post, harvest_id: str,
                    when: dt.datetime) -> None:
    """Remember the names and linked ids ``post`` shows for its account (inside the caller's
    write); a link seen for the first time is logged as an event."""
    if not post.account_id:
        return
    seen = (iso(when), harvest_id)
    if post.account_name:
        conn.execute("INSERT OR IGNORE INTO account_identities VALUES (?, ?, 'name', ?, ?, ?)",
                     (post.platform, post.account_id, post.account_name, *seen))
    user_name = str(post.extras.get("user_name") or "")
    if post.platform != "wechat" or not user_name.startswith("gh_") or user_name == post.account_id:
        return
    added = conn.execute("INSERT OR IGNORE INTO account_identities VALUES (?, ?, 'user_name', ?, ?, ?)",
                         (post.platform, post.account_id, user_name, *seen)).rowcount
    if added:
        subject = _registered_key(conn, post.platform, (user_name, post.account_id))
        details = {"biz": post.account_id, "user_name": user_name, "harvest_id": harvest_id}
        conn.execute("INSERT INTO catalog_events (at, subject, action, details) VALUES (?, ?, ?, ?)",
                     (seen[0], subject, LINKED, json.dumps(details, sort_keys=True)))


def account_keys(conn: sqlite3.Connection, value: str, platform: str | None = None
                 ) -> frozenset[str]:
    """Every ``platform:id`` under which the account ``value`` names has posts or a register
    entry: ``value`` is an id (``gh_…`` or ``__biz``, with or without ``platform:``), the
    registered name, or a name the platform showed. Linked ids are followed both ways. Never
    empty: an unknown id stands for itself."""
    text = value.strip()
    head, sep, rest = text.partition(":")
    if sep and head.lower() in PLATFORMS:
        platform, text = head.lower(), rest.strip()
    platforms = (platform,) if platform else PLATFORMS
    keys = {(p, text) for p in platforms}
    keys |= _named(conn, text, platforms)
    frontier = set(keys)
    while frontier:
        found = set().union(*(_linked(conn, p, i) for p, i in frontier)) - keys
        keys |= found
        frontier = found
    return frozenset(f"{p}:{i}" for p, i in keys)


def _named(conn: sqlite3.Connection, name: str, platforms: Sequence[str]) -> set[tuple[str, str]]:
    marks = ", ".join("?" * len(platforms))
    rows = conn.execute(
        f"SELECT platform, account_id FROM account_identities WHERE kind = 'name' AND value = ? "
        f"AND platform IN ({marks})", (name, *platforms)).fetchall()
    if _has_registry(conn):
        rows += conn.execute(f"SELECT platform, account_id FROM accounts WHERE name = ? "
                             f"AND platform IN ({marks})", (name, *platforms)).fetchall()
    return {(str(r[0]), str(r[1])) for r in rows}


def _linked(conn: sqlite3.Connection, platform: str, account_id: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT account_id FROM account_identities WHERE platform = ? AND kind = 'user_name' "
        "AND value = ? UNION SELECT value FROM account_identities WHERE platform = ? "
        "AND kind = 'user_name' AND account_id = ?",
        (platform, account_id, platform, account_id)).fetchall()
    return {(platform, str(r[0])) for r in rows}


def _registered_key(conn: sqlite3.Connection, platform: str, ids: tuple[str, ...]) -> str:
    """The key the archivist registered among ``ids`` (else the last, the stored id)."""
    if _has_registry(conn):
        for account_id in ids:
            if conn.execute("SELECT 1 FROM accounts WHERE platform = ? AND account_id = ?",
                            (platform, account_id)).fetchone():
                return f"{platform}:{account_id}"
    return f"{platform}:{ids[-1]}"


def _has_registry(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'accounts'").fetchone() is not None
