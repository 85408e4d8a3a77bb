"""Appraisal (鉴定): keep or discard a post, with its retention period, and the 档号 a keep gives.

Every decision is one row of ``appraisals`` (append-only) and one PREMIS "appraisal" event in the
hash-chained event log of the collection holding the post, written in the same operation: the
event first, then the row naming the event (its number and hash) in the same catalog write, so
that the audit can match one against the other (an appraisal event no row names is a write that
failed after its event: the decision was not taken, and the event says so to whoever compares
them). A later decision supersedes an earlier one; both
stay. Discarding never touches the WARC files: the post is only left out of transfer.

档号 follow DA/T 22-2015: ``全宗号-门类代码·年度-保管期限-机构代码-件号``, e.g.
``0194-XM·2026-Y-BGS-0001``. The year is the post's publication year in China time (its first
capture's year when the platform gave no date). Item numbers (件号) count up within each group
(the code less its item number) from 1, with no gap: they are given inside the catalog's write
lock, which admits one writer at a time on SQLite and on PostgreSQL, and the table's UNIQUE
constraints refuse a repeat should anything else write. A 档号 is never reused and never changes:
a post discarded after a keep keeps its number reserved (listed, marked by the current decision),
and kept again in the same group gets the same number back; kept with another retention period
(another group) it gets a new number, and the old one stays reserved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, tuple_

from catalog.db import Database
from catalog.errors import CatalogError
from catalog.schema import (
    RETENTION_CODES,
    account_archive_codes,
    appraisals,
    iso,
    posts,
    versions,
)
from catalog.schema import archival_codes as code_table
from harvesters.dates import SHANGHAI

# What records a decision's event: (collection name, event detail) -> (event number, event hash).
EventSink = Callable[[str, dict[str, Any]], tuple[int, str]]
_CODE_PART = re.compile(r"[0-9A-Za-z]{1,16}")


class AppraisalError(CatalogError):
    """A decision that cannot be taken as asked; the message says why."""


@dataclass(frozen=True)
class ArchiveCodes:
    """The parts of a 档号 an archive sets: 全宗号, 档案门类代码, 机构（问题）代码."""

    fonds: str
    category: str
    unit: str

    def check(self, where: str) -> ArchiveCodes:
        for name, value in (("fonds (全宗号)", self.fonds), ("category (门类代码)", self.category),
                            ("unit (机构代码)", self.unit)):
            if not _CODE_PART.fullmatch(value or ""):
                raise AppraisalError(
                    f"the {name} code {value!r} {where} is not usable in a 档号: write 1 to 16 "
                    "letters or digits, e.g. 0194, XM, BGS")
        return self


@dataclass(frozen=True)
class Decision:
    seq: int
    platform: str
    post_id: str
    decision: str  # keep | discard
    retention: str  # 永久 | 定期30年 | 定期10年
    reason: str
    classification: str
    reviewer: str
    at: str
    code: str | None
    collection: str
    event_seq: int
    event_hash: str


@dataclass(frozen=True)
class ArchivalCode:
    code: str
    grouping: str
    item: int
    platform: str
    post_id: str
    assigned_at: str
    current: bool  # the post's current decision is a keep under this code


@dataclass(frozen=True)
class Ask:
    """One decision asked for, the same for every post it is applied to."""

    keep: bool
    retention: str
    reviewer: str
    reason: str = ""
    classification: str = ""

    def check(self) -> Ask:
        if self.retention not in RETENTION_CODES:
            raise AppraisalError(f"{self.retention!r} is not a retention period; use "
                                 + ", ".join(RETENTION_CODES))
        if not self.keep and not self.reason.strip():
            raise AppraisalError("a discard needs a reason (--reason), so that the decision can "
                                 "be understood later")
        if not self.reviewer.strip():
            raise AppraisalError("name the reviewer (--reviewer)")
        return self


# -- codes per account ------------------------------------------------------------------------
def set_account_codes(conn: Connection, account: str, codes: ArchiveCodes, actor: str,
                      when: dt.datetime) -> None:
    """Give an account's posts these fonds, category and unit codes from now on."""
    codes.check(f"for {account}")
    conn.execute(insert(account_archive_codes).values(
        account=account, fonds=codes.fonds, category=codes.category, unit=codes.unit,
        at=iso(when), actor=actor))


def account_codes(conn: Connection, account: str) -> ArchiveCodes | None:
    """The codes last set for an account, if any."""
    row = conn.execute(
        select(account_archive_codes.c.fonds, account_archive_codes.c.category,
               account_archive_codes.c.unit)
        .where(account_archive_codes.c.account == account)
        .order_by(account_archive_codes.c.seq.desc()).limit(1)).first()
    return ArchiveCodes(*row) if row else None


# -- deciding -----------------------------------------------------------------------------------
def appraise(db: Database, keys: Iterable[tuple[str, str]], ask: Ask, defaults: ArchiveCodes | None,
             sink: EventSink, clock: Callable[[], dt.datetime]) -> list[Decision]:
    """Record the decision for each post, one write each (a 档号 and an event per post)."""
    ask.check()
    done = []
    for platform, post_id in keys:
        with db.write() as conn:
            done.append(_decide(conn, platform, post_id, ask, defaults, sink, clock()))
    return done


def _decide(conn: Connection, platform: str, post_id: str, ask: Ask, defaults: ArchiveCodes | None,
            sink: EventSink, when: dt.datetime) -> Decision:
    post = conn.execute(select(posts.c.account, posts.c.published_at, posts.c.first_captured)
                        .where(posts.c.platform == platform, posts.c.post_id == post_id)).first()
    if post is None:
        raise AppraisalError(f"{platform}:{post_id} is not in the catalog; only captured posts "
                             "can be appraised")
    collection = conn.execute(select(versions.c.collection).where(
        versions.c.platform == platform, versions.c.post_id == post_id)
        .order_by(versions.c.version.desc()).limit(1)).scalar() or "default"
    code = None
    if ask.keep:
        codes = account_codes(conn, post.account) or defaults
        if codes is None:
            raise AppraisalError(
                f"no fonds, category and unit codes are set for {post.account}; set them with "
                f"`weidang accounts codes {post.account} --fonds … --category … --unit …` or the "
                "settings CATALOG_ARCHIVE_FONDS, CATALOG_ARCHIVE_CATEGORY, CATALOG_ARCHIVE_UNIT")
        year = _year(post.published_at or post.first_captured)
        code = _code_for(conn, platform, post_id, _grouping(codes, year, ask.retention), when)
    detail = {"post": f"{platform}:{post_id}", "decision": "keep" if ask.keep else "discard",
              "retention": ask.retention, "reason": ask.reason,
              "classification": ask.classification, "reviewer": ask.reviewer, "code": code}
    event_seq, event_hash = sink(collection, detail)
    row: dict[str, Any] = dict(platform=platform, post_id=post_id, decision=detail["decision"],
               retention=ask.retention, reason=ask.reason, classification=ask.classification,
               reviewer=ask.reviewer, at=iso(when), code=code, collection=collection,
               event_seq=event_seq, event_hash=event_hash)
    seq = conn.execute(insert(appraisals).values(**row).returning(appraisals.c.seq)).scalar_one()
    return Decision(seq=int(seq), **row)


def _year(utc_text: str) -> int:
    moment = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return moment.astimezone(SHANGHAI).year


def _grouping(codes: ArchiveCodes, year: int, retention: str) -> str:
    return f"{codes.fonds}-{codes.category}·{year}-{RETENTION_CODES[retention]}-{codes.unit}"


def _code_for(conn: Connection, platform: str, post_id: str, grouping: str, when: dt.datetime) -> str:
    """The post's 档号 in this group: the one it was given before, else the next item number."""
    codes = code_table.c
    given = conn.execute(select(codes.code).where(
        codes.platform == platform, codes.post_id == post_id, codes.grouping == grouping)).scalar()
    if given is not None:
        return str(given)
    last = conn.execute(select(func.max(codes.item)).where(codes.grouping == grouping)).scalar()
    item = int(last or 0) + 1
    code = f"{grouping}-{item:04d}"
    conn.execute(insert(code_table).values(code=code, grouping=grouping, item=item,
                                               platform=platform, post_id=post_id,
                                               assigned_at=iso(when)))
    return code


# -- reading -------------------------------------------------------------------------------------
def _latest_seqs(keys: Sequence[tuple[str, str]] | None) -> Any:
    latest = select(func.max(appraisals.c.seq).label("seq")).group_by(
        appraisals.c.platform, appraisals.c.post_id)
    if keys is not None:
        latest = latest.where(_key_filter(keys))
    return latest.subquery()


def kept_condition() -> Any:
    """A condition on ``posts``: the post's current decision is a keep (it is an archival record)."""
    latest = _latest_seqs(None)
    kept = select(appraisals.c.platform, appraisals.c.post_id).join(
        latest, appraisals.c.seq == latest.c.seq).where(appraisals.c.decision == "keep")
    return tuple_(posts.c.platform, posts.c.post_id).in_(kept)


def _key_filter(keys: Sequence[tuple[str, str]]) -> Any:
    if not keys:
        return or_(False)
    return tuple_(appraisals.c.platform, appraisals.c.post_id).in_(list(keys))


def current_decisions(conn: Connection, keys: Sequence[tuple[str, str]] | None = None,
                      decision: str | None = None) -> list[Decision]:
    """Each post's current (latest) decision; ``keys`` limits the posts, ``decision`` to keep or
    discard. In post order."""
    latest = _latest_seqs(keys)
    query = select(appraisals).join(latest, appraisals.c.seq == latest.c.seq)
    if decision is not None:
        query = query.where(appraisals.c.decision == decision)
    rows = conn.execute(query.order_by(appraisals.c.platform, appraisals.c.post_id))
    return [Decision(**row._mapping) for row in rows]


def decision_history(conn: Connection, platform: str, post_id: str) -> list[Decision]:
    """Every decision taken on a post, oldest first (the last one is current)."""
    rows = conn.execute(select(appraisals).where(
        appraisals.c.platform == platform, appraisals.c.post_id == post_id)
        .order_by(appraisals.c.seq))
    return [Decision(**row._mapping) for row in rows]


def archival_codes(conn: Connection, grouping: str | None = None,
                      keys: Sequence[tuple[str, str]] | None = None) -> list[ArchivalCode]:
    """Every 档号 ever given (reserved ones too), by group and item number; ``current`` says
    whether the post's current decision is a keep under it."""
    codes = code_table.c
    latest = _latest_seqs(keys)
    current = select(appraisals.c.code).join(latest, appraisals.c.seq == latest.c.seq).where(
        appraisals.c.decision == "keep", appraisals.c.code.is_not(None))
    query = select(code_table, codes.code.in_(current).label("current"))
    if grouping is not None:
        query = query.where(codes.grouping == grouping)
    if keys is not None:
        query = query.where(_code_key_filter(keys))
    rows = conn.execute(query.order_by(codes.grouping, codes.item))
    return [ArchivalCode(**{**row._mapping, "current": bool(row.current)}) for row in rows]


def _code_key_filter(keys: Sequence[tuple[str, str]]) -> Any:
    if not keys:
        return or_(False)
    return tuple_(code_table.c.platform, code_table.c.post_id).in_(list(keys))


def unmatched_events(conn: Connection, collection: str, entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """What does not match between a collection's appraisal events (``EventLog.entries()``) and
    the catalog's decisions recorded there: a row whose event is missing or different, an event
    no row names. Empty when every decision and event agree."""
    events = {e.get("seq"): e for e in entries if e.get("type") == "appraisal"}
    rows = conn.execute(select(appraisals).where(appraisals.c.collection == collection)
                        .order_by(appraisals.c.seq)).all()
    problems = []
    for row in rows:
        event = events.pop(row.event_seq, None)
        post = f"{row.platform}:{row.post_id}"
        if event is None:
            problems.append(f"decision {row.seq} ({post}) names event {row.event_seq}, which is not "
                            "an appraisal event of the log")
        elif event.get("hash") != row.event_hash or (event.get("detail") or {}).get("post") != post \
                or (event.get("detail") or {}).get("code") != row.code:
            problems.append(f"decision {row.seq} ({post}) and event {row.event_seq} disagree")
    problems += [f"appraisal event {seq} has no decision in the catalog (its write failed)"
                 for seq in sorted(events, key=lambda s: int(s or 0))]
    return problems
