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
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import ReturnTypeFromArgs

from catalog.account_fields import parse_account
from catalog.appraisal import kept_condition
from catalog.errors import N_, CatalogError
from catalog.schema import appraisals, open_marks, posts

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


class greatest(ReturnTypeFromArgs[Any]):  # noqa: N801 - the SQL function's name
    """The largest of its arguments: GREATEST on PostgreSQL, max() on SQLite."""

    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_on_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


def _current() -> Any:
    return select(open_marks).where(open_marks.c.seq.in_(_latest())).subquery()


def _own(current: Any, column: str) -> Any:
    return select(current.c[column]).where(
        current.c.kind == "post", current.c.platform == posts.c.platform,
        current.c.subject_id == posts.c.post_id).scalar_subquery()


def _account(current: Any, column: str) -> Any:
    return select(current.c[column]).where(
        current.c.kind == "account",
        current.c.platform.concat(literal(":")).concat(current.c.subject_id) == posts.c.account
    ).scalar_subquery()


def open_condition() -> Any:
    """A condition on ``posts``: the post is open (its own mark, else its account's)."""
    current = _current()
    own, account = _own(current, "open"), _account(current, "open")
    return or_(own == True, and_(own.is_(None), account == True))  # noqa: E712 - SQL, not Python


def changed_at() -> Any:
    """When what another archive sees of a post last changed: its last capture, or later its
    opening (its own mark or its account's) or its latest appraisal. OAI-PMH datestamps are
    this, so that a post opened or kept after its last capture reaches incremental harvests."""
    current, last = _current(), posts.c.last_captured
    appraised = select(func.max(appraisals.c.at)).where(
        appraisals.c.platform == posts.c.platform,
        appraisals.c.post_id == posts.c.post_id).scalar_subquery()
    return greatest(last, *(func.coalesce(moment, last) for moment in (
        _own(current, "at"), _account(current, "at"), appraised)))


def open_posts(conn: Connection, *, platform: str | None = None, account: str | None = None,
               after: tuple[str, str, str] | None = None, since: str | None = None,
               until: str | None = None, limit: int = 100,
               keys: Sequence[tuple[str, str]] | None = None, kept: bool = False) -> list[Any]:
    """Rows of ``posts`` that are open, with ``changed_at`` (see there), ordered by
    (changed_at, platform, post_id); ``after`` pages on from such a triple, ``since``/``until``
    bound ``changed_at`` (ISO UTC text as the catalog writes it); ``kept``: only those whose
    current appraisal is a keep (the archival records)."""
    c, changed = posts.c, changed_at()
    inner = select(posts, changed.label("changed_at")).where(open_condition())
    if kept:
        inner = inner.where(kept_condition())
    if platform:
        inner = inner.where(c.platform == platform)
    if account:
        inner = inner.where(c.account == account)
    if keys is not None:
        inner = inner.where(or_(False, *(and_(c.platform == p, c.post_id == i) for p, i in keys)))
    rows = inner.subquery()
    query = select(rows)
    if since:
        query = query.where(rows.c.changed_at >= since)
    if until:
        query = query.where(rows.c.changed_at <= until)
    if after is not None:
        at, plat, post_id = after
        query = query.where(or_(rows.c.changed_at > at, and_(rows.c.changed_at == at, or_(
            rows.c.platform > plat, and_(rows.c.platform == plat, rows.c.post_id > post_id)))))
    query = query.order_by(rows.c.changed_at, rows.c.platform, rows.c.post_id).limit(limit)
    return list(conn.execute(query))


def is_open(conn: Connection, platform: str, post_id: str) -> bool:
    return bool(open_posts(conn, keys=[(platform, post_id)], limit=1))
