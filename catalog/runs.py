"""The harvest history and the pauses: authoritative, kept through rebuilds, every change logged.

A run is one harvest of one account; its id is the harvest id the crawler writes into every
metadata record, so a run and what it captured can always be matched. A pause stops harvests
of everything in its scope until it expires or is cleared:

- ``platform:weibo`` / ``platform:wechat``: the platform rate-limits or asks for a captcha (both
  apply to the whole address, so to every account);
- ``login:<credentials reference>``: an expired login, for every account using those credentials
  (``login:weibo:<uid>`` for an account harvested without a named login);
- ``weibo:<uid>`` / ``wechat:<id>``: one account.

``catalog.pauses.PauseScope`` is the one definition of these scopes.

Each change (a run started, finished or found interrupted; a pause set, extended or cleared) is
written to ``catalog_events`` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import Connection, select, text

from catalog.account_fields import parse_account
from catalog.db import Database
from catalog.errors import CatalogError
from catalog.pauses import PauseScope, ScopeError, scopes_for
from catalog.schema import catalog_events, iso, pauses, runs, utc_now
from catalog.secret_shapes import scrub_secrets

Clock = Callable[[], dt.datetime]
T = TypeVar("T", "Run", "Pause")
KINDS = ("harvest", "full", "recheck")
OUTCOMES = ("ok", "partial", "failed", "stopped")
INTERRUPTED = ("the harvest ended without finishing (the process was killed or crashed); "
               "what it had written is kept")

_RUN_COLUMNS = ("run_id, account, kind, started_at, ended_at, outcome, reason, advice, posts_new, "
                "posts_edited, posts_unchanged, posts_deleted, bytes_written, requests, errors, "
                "reported_total, captured_total")
_PAUSE_COLUMNS = "id, scope, reason, advice, since, until, cleared_at, run_id"


class RunError(CatalogError):
    """A run or pause cannot be recorded as asked."""


@dataclass(frozen=True)
class Run:
    run_id: str
    account: str
    kind: str
    started_at: str
    ended_at: str | None
    outcome: str | None  # None while running (or if the process died: see RunLog.start)
    reason: str
    advice: str
    posts_new: int
    posts_edited: int
    posts_unchanged: int
    posts_deleted: int
    bytes_written: int
    requests: int
    errors: int
    reported_total: int | None
    captured_total: int | None

    @property
    def gap(self) -> int | None:
        """Posts the platform reports that the archive does not hold (None if either is unknown)."""
        if self.reported_total is None or self.captured_total is None:
            return None
        return self.reported_total - self.captured_total


@dataclass(frozen=True)
class Pause:
    id: int
    scope: str
    reason: str
    advice: str
    since: str
    until: str | None
    cleared_at: str | None
    run_id: str | None

    @property
    def target(self) -> PauseScope:
        """What the pause stops, read back from its stored label."""
        return PauseScope.parse(self.scope)


class RunLog:
    """Runs and pauses of an open catalog."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        with self.db.read() as conn:
            return list(conn.execute(text(sql), params).fetchall())

    # -- runs ------------------------------------------------------------------------------
    def start(self, account: str, kind: str = "harvest", clock: Clock | None = None,
              run_id: str | None = None) -> str:
        """Open a run and return its id (the harvest id). Runs of the account left open by a
        process that died are closed first as failed: an account is never harvested twice at once.
        """
        platform, account_id = parse_account(account)
        if kind not in KINDS:
            raise RunError(f"a run is a {', '.join(KINDS)}, not {kind!r}")
        now = (clock or self.clock)()
        key = f"{platform}:{account_id}"
        run_id = run_id or (f"{now.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{platform}-"
                            f"{account_id.rstrip('=')}-{secrets.token_hex(3)}")
        with self.db.write() as conn:
            for (stale,) in conn.execute(select(runs.c.run_id).where(
                    runs.c.account == key, runs.c.ended_at.is_(None))).fetchall():
                conn.execute(runs.update().where(runs.c.run_id == stale).values(
                    ended_at=iso(now), outcome="failed", reason=INTERRUPTED))
                self._event(conn, stale, "run interrupted", {"found_by": run_id}, now)
            if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first():
                raise RunError(f"a run with the id {run_id} is already recorded")
            conn.execute(runs.insert().values(run_id=run_id, account=key, kind=kind,
                                              started_at=iso(now)))
            self._event(conn, run_id, "run started", {"account": key, "kind": kind}, now)
        return run_id

    def finish(self, run_id: str, outcome: str, *, reason: str = "", advice: str = "",
               posts_new: int = 0, posts_edited: int = 0, posts_unchanged: int = 0,
               posts_deleted: int = 0, bytes_written: int = 0, requests: int = 0, errors: int = 0,
               reported_total: int | None = None, captured_total: int | None = None,
               clock: Clock | None = None) -> Run:
        """Close a run with its outcome, what it found and what the archivist should do, if anything."""
        if outcome not in OUTCOMES:
            raise RunError(f"a run ends {', '.join(OUTCOMES)}, not {outcome!r}")
        now = (clock or self.clock)()
        # append-only history: a secret the caller missed must still never be written
        reason, advice = scrub_secrets(reason), scrub_secrets(advice)
        values = {"outcome": outcome, "reason": reason, "advice": advice, "posts_new": posts_new,
                  "posts_edited": posts_edited, "posts_unchanged": posts_unchanged,
                  "posts_deleted": posts_deleted, "bytes_written": bytes_written,
                  "requests": requests, "errors": errors, "reported_total": reported_total,
                  "captured_total": captured_total}
        with self.db.write() as conn:
            run = self.get(run_id)
            if run is None:
                raise RunError(f"there is no run {run_id} in the catalog")
            if run.ended_at is not None:
                raise RunError(f"the run {run_id} already ended ({run.outcome}) at {run.ended_at}")
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(
                ended_at=iso(now), **values))
            self._event(conn, run_id, "run finished", values, now)
        finished = self.get(run_id)
        assert finished is not None
        return finished

    def get(self, run_id: str) -> Run | None:
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = :run_id", run_id=run_id)
        return _shown(Run(*rows[0])) if rows else None

    def last(self, account: str) -> Run | None:
        runs = self.history(account, 1)
        return runs[0] if runs else None

    def latest(self) -> dict[str, Run]:
        """Every account's newest run, in one query (a daemon placing many jobs at once)."""
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM (SELECT {_RUN_COLUMNS}, ROW_NUMBER() OVER "
                          "(PARTITION BY account ORDER BY started_at DESC, run_id DESC) AS n "
                          "FROM runs) newest WHERE n = 1")
        return {run.account: run for run in (_shown(Run(*row)) for row in rows)}

    def history(self, account: str, limit: int = 20) -> list[Run]:
        """The account's runs, newest first."""
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs WHERE account = :account "
                          "ORDER BY started_at DESC, run_id DESC LIMIT :limit",
                          account=account, limit=limit)
        return [_shown(Run(*row)) for row in rows]

    # -- pauses ----------------------------------------------------------------------------
    def pause(self, scope: str | PauseScope, reason: str, advice: str = "",
              until: dt.datetime | None = None, run_id: str | None = None) -> Pause:
        """Pause a platform, a login or an account (``until`` None: until cleared by hand).

        Pausing a scope that is paused already updates that pause instead of adding another.
        """
        scope = check_scope(scope)
        now = self.clock()
        reason, advice = scrub_secrets(reason), scrub_secrets(advice)  # as in finish
        details = {"reason": reason, "advice": advice, "until": iso(until) if until else None,
                   "run_id": run_id}
        fields = {"reason": reason, "advice": advice, "until": details["until"], "run_id": run_id}
        with self.db.write() as conn:
            current = self._active(scope, now)
            if current is not None:
                conn.execute(pauses.update().where(pauses.c.id == current.id).values(**fields))
                self._event(conn, scope, "pause extended", details, now)
                pause_id = current.id
            else:
                pause_id = int(conn.execute(pauses.insert().values(
                    scope=scope, since=iso(now), **fields).returning(pauses.c.id)).scalar_one())
                self._event(conn, scope, "paused", details, now)
        return self._pause(pause_id)

    def active_pauses(self, now: dt.datetime | None = None) -> list[Pause]:
        """Pauses in force at ``now``: not cleared, and not expired."""
        moment = iso(now or self.clock())
        rows = self._rows(f"SELECT {_PAUSE_COLUMNS} FROM pauses WHERE cleared_at IS NULL "
                          "AND (until IS NULL OR until > :moment) ORDER BY since, id", moment=moment)
        return [_shown(Pause(*row)) for row in rows]

    def pauses_for(self, account: str, credentials: str | None = None,
                   now: dt.datetime | None = None, egress: str = "") -> list[Pause]:
        """The pauses that stop ``account`` (its platform's, on ``egress`` too, its login's, its own)."""
        return stopping(self.active_pauses(now), account, credentials, egress)

    def clear(self, scope: str | PauseScope) -> int:
        """End the pauses of ``scope`` now (the archivist refreshed the cookie, ...); returns how many."""
        scope = check_scope(scope)
        now = self.clock()
        with self.db.write() as conn:
            cleared = conn.execute(pauses.update().where(
                pauses.c.scope == scope, pauses.c.cleared_at.is_(None)).values(cleared_at=iso(now))).rowcount
            if cleared:
                self._event(conn, scope, "pause cleared", {"pauses": cleared}, now)
        return int(cleared)

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        """The logged changes (of one run or scope), oldest first."""
        where = "WHERE subject = :subject" if subject else ""
        rows = self._rows(f"SELECT seq, at, subject, action, details FROM catalog_events {where} "
                          "ORDER BY seq", **({"subject": subject} if subject else {}))
        return [{"seq": r[0], "at": r[1], "subject": r[2], "action": r[3], "details": json.loads(r[4])}
                for r in rows]

    # -- internals -------------------------------------------------------------------------
    def _active(self, scope: str, now: dt.datetime) -> Pause | None:
        return next((p for p in self.active_pauses(now) if p.scope == scope), None)

    def _pause(self, pause_id: int) -> Pause:
        [row] = self._rows(f"SELECT {_PAUSE_COLUMNS} FROM pauses WHERE id = :id", id=pause_id)
        return _shown(Pause(*row))

    @staticmethod
    def _event(conn: Connection, subject: str, action: str, details: dict[str, Any],
               now: dt.datetime) -> None:
        encoded = json.dumps({k: scrub_secrets(v) if isinstance(v, str) else v
                              for k, v in details.items()}, ensure_ascii=False, sort_keys=True)
        conn.execute(catalog_events.insert().values(at=iso(now), subject=subject, action=action,
                                                    details=encoded))


def _shown(item: T) -> T:
    """A run or pause as told to the archivist: a secret written by an older weidang, before the
    history was scrubbed on the way in, is not shown again."""
    return replace(item, reason=scrub_secrets(item.reason), advice=scrub_secrets(item.advice))


def check_scope(scope: str | PauseScope) -> str:
    """A pause scope's stored label: ``platform:NAME``, ``login:REFERENCE`` or an account ``platform:id``."""
    if isinstance(scope, PauseScope):
        return scope.label()
    try:
        return PauseScope.parse(scope).label()
    except ScopeError as exc:
        raise RunError(str(exc)) from None


def stopping(pauses: list[Pause], account: str, credentials: str | None,
             egress: str = "") -> list[Pause]:
    """Those of ``pauses`` that stop ``account`` (``weidang status`` reads all pauses once)."""
    labels = {scope.label() for scope in scopes_for(account, credentials, egress)}
    return [p for p in pauses if p.scope in labels]
