"""What other archives may read (跨馆利用): the posts an administrator opened.

Nothing is open until an administrator says so. A mark opens or closes either all posts of an
account (``kind="account"``) or one post (``kind="post"``); a post's own mark wins over its
account's, so one post of an open account can be kept closed, and one post of a closed account
opened. Each mark is a row of ``open_marks`` (append-only: who, when, why); the latest row per
subject is in force and the earlier ones are its history, as ``user_events`` are for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select

from catalog.account_fields import parse_account
from catalog.appraisal import kept_condition
from catalog.errors import N_, CatalogError
from catalog.schema import open_marks, posts

KINDS = ("account", "post")


class OpenAccessError(CatalogError):
    """A mark that cannot be set as asked."""


@dataclass(frozen=True)
class OpenMark:
    seq: int
    kind: str
    platform: str
    subject_id: str
    open: bool
    reason: str
    actor: str
    at: str

    @property
    def subject(self) -> str:
        return f"{self.platform}:{self.subject_id}"


def set_open(conn: Connection, kind: str, subject: str, is_open: bool, actor: str, at: str,
             reason: str = "") -> bool:
    """Open or close ``subject`` (an account ``platform:id``, or a post ``platform:post_id``);
    False when it already was so (nothing is written)."""
    if kind not in KINDS:
        raise OpenAccessError.told(N_("%(kind)s is neither account nor post"), kind=repr(kind))
    platform, subject_id = _subject(kind, subject)
    current = current_mark(conn, kind, platform, subject_id)
    if current is not None and current.open == is_open:
        return False
    conn.execute(open_marks.insert().values(kind=kind, platform=platform, subject_id=subject_id,
                                            open=is_open, reason=reason.strip(), actor=actor, at=at))
    return True


def _subject(kind: str, subject: str) -> tuple[str, str]:
    if kind == "account":
        return parse_account(subject)
    platform, sep, post_id = subject.strip().partition(":")
    if not sep or platform not in ("weibo", "wechat") or not post_id.strip() or len(post_id) > 200:
        raise OpenAccessError.told(N_("%(subject)s is not a post; write platform:post_id, e.g. "
                                      "weibo:4900009245559000"), subject=repr(subject))
    return platform, post_id.strip()


def _latest() -> Any:
    return (select(func.max(open_marks.c.seq))
            .group_by(open_marks.c.kind, open_marks.c.platform, open_marks.c.subject_id))


def current_mark(conn: Connection, kind: str, platform: str, subject_id: str) -> OpenMark | None:
    row = conn.execute(select(open_marks).where(
        open_marks.c.kind == kind, open_marks.c.platform == platform,
        open_marks.c.subject_id == subject_id).order_by(open_marks.c.seq.desc()).limit(1)).first()
    return _mark(row) if row is not None else None


def current_marks(conn: Connection, kind: str | None = None) -> list[OpenMark]:
    """The marks in force, by kind and subject."""
    query = select(open_marks).where(open_marks.c.seq.in_(_latest()))
    if kind is not None:
        query = query.where(open_marks.c.kind == kind)
    rows = conn.execute(query.order_by(open_marks.c.kind, open_marks.c.platform,
                                       open_marks.c.subject_id))
    return [_mark(r) for r in rows]


def mark_history(conn: Connection, limit: int = 50) -> list[OpenMark]:
    """The latest ``limit`` decisions, newest first."""
    rows = conn.execute(select(open_marks).order_by(open_marks.c.seq.desc()).limit(limit))
    return [_mark(r) for r in rows]


def _mark(row: Any) -> OpenMark:
    return OpenMark(int(row.seq), row.kind, row.platform, row.subject_id, bool(row.open),
                    row.reason, row.actor, row.at)


def open_condition() -> Any:
    """A condition on ``posts``: the post is open (its own mark, else its account's)."""
    current = select(open_marks).where(open_marks.c.seq.in_(_latest())).subquery()
    own = select(current.c.open).where(
        current.c.kind == "post", current.c.platform == posts.c.platform,
        current.c.subject_id == posts.c.post_id).scalar_subquery()
    account = select(current.c.open).where(
        current.c.kind == "account",
        current.c.platform.concat(literal(":")).concat(current.c.subject_id) == posts.c.account
    ).scalar_subquery()
    return or_(own == True, and_(own.is_(None), account == True))  # noqa: E712 - SQL, not Python


def open_posts(conn: Connection, *, platform: str | None = None, account: str | None = None,
               after: tuple[str, str, str] | None = None, since: str | None = None,
               until: str | None = None, limit: int = 100,
               keys: Sequence[tuple[str, str]] | None = None, kept: bool = False) -> list[Any]:
    """Rows of ``posts`` that are open, ordered by (last_captured, platform, post_id); ``after``
    pages on from such a triple, ``since``/``until`` bound ``last_captured`` (ISO UTC text);
    ``kept``: only those whose current appraisal is a keep (the archival records)."""
    c = posts.c
    query = select(posts).where(open_condition())
    if kept:
        query = query.where(kept_condition())
    if platform:
        query = query.where(c.platform == platform)
    if account:
        query = query.where(c.account == account)
    if since:
        query = query.where(c.last_captured >= since)
    if until:
        query = query.where(c.last_captured <= until)
    if keys is not None:
        query = query.where(or_(False, *(and_(c.platform == p, c.post_id == i) for p, i in keys)))
    if after is not None:
        at, plat, post_id = after
        query = query.where(or_(c.last_captured > at, and_(c.last_captured == at, or_(
            c.platform > plat, and_(c.platform == plat, c.post_id > post_id)))))
    query = query.order_by(c.last_captured, c.platform, c.post_id).limit(limit)
    return list(conn.execute(query))


def is_open(conn: Connection, platform: str, post_id: str) -> bool:
    return bool(open_posts(conn, keys=[(platform, post_id)], limit=1))
