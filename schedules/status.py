"""What `weidang status` shows: each account's last run, next run and health at a glance."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from catalog.accounts import AccountRegistry
from catalog.backfills import Backfills, progress_note
from catalog.db import Database
from catalog.posts import PostCatalog
from catalog.runs import INTERRUPTED, Run, RunLog, stopping
from catalog.schema import iso
from crawler.account_lock import harvest_running
from schedules.plan import JobPlan, backoff_until, consecutive_failures, parse_time
from schedules.store import next_run_times

HEALTH = ("ok", "partial", "running", "interrupted", "failing", "login expired", "rate limited", "paused",
          "never run")


@dataclass(frozen=True)
class AccountStatus:
    account: str
    name: str
    schedule: str
    health: str
    last_started: str | None
    last_outcome: str | None
    posts_new: int
    posts_edited: int
    posts_deleted: int
    next_run: str | None
    failures_in_a_row: int
    backed_off_until: str | None
    note: str  # the last run's reason, or the pause's, in the crawler's words
    backfill: str = ""  # where the account's backfill stands, if it has one
    # completeness, from the last run that counted: posts in the catalog, and what the platform
    # says the account holds (None: not known)
    captured_total: int | None = None
    reported_total: int | None = None
    # a running harvest: new or edited versions recorded so far, and seconds until it is likely
    # done (the last finished run's duration less the time it has run; None: no such run)
    running_recorded: int | None = None
    running_eta_seconds: int | None = None


def account_statuses(db: Database, store_url: str, default_interval: int, default_jitter: int,
                     backoff_max_seconds: int, now: dt.datetime,
                     locks: Path | None = None) -> list[AccountStatus]:
    """Each account's status; ``locks`` (HOME/locks) tells a running harvest from a killed one."""
    runs = RunLog(db)
    nexts = next_run_times(store_url)
    pauses = runs.active_pauses(now)
    out = []
    for account in AccountRegistry(db, via="status").list():
        key = account.key
        plan = JobPlan.of(account, default_interval, default_jitter)
        history = runs.history(key, 20)
        last = history[0] if history else None
        paused = stopping(pauses, key, account.credentials)
        failures = consecutive_failures(history)
        problem = plan.problem  # a stored schedule the daemon cannot run: it leaves the account out
        until = backoff_until(plan, history, now, backoff_max_seconds) if problem is None else None
        note = ""
        if paused:
            health = paused[0].target.health
            note = paused[0].reason + (f" {paused[0].advice}" if paused[0].advice else "")
        elif last is None:
            health = "never run"
        elif last.ended_at is None:
            # A killed harvest never closes its run; only its lock, released by any death, tells.
            alive = harvest_running(locks, key) if locks is not None else None
            health = "interrupted" if alive is False else "running"
            note = INTERRUPTED if alive is False else ""
        elif failures:
            health = "failing"
            note = last.reason
        else:
            health = "ok" if last.outcome == "ok" else "partial"
            note = last.reason
        if problem is not None:
            health, note = "failing", problem
        next_run = nexts.get(key)
        if until is not None and (next_run is None or next_run < until):
            next_run = until
        out.append(AccountStatus(
            account=key, name=account.name, schedule=plan.signature, health=health,
            last_started=last.started_at if last else None, last_outcome=last.outcome if last else None,
            posts_new=last.posts_new if last else 0, posts_edited=last.posts_edited if last else 0,
            posts_deleted=last.posts_deleted if last else 0,
            next_run=iso(next_run) if next_run else None, failures_in_a_row=failures,
            backed_off_until=iso(until) if until else None, note=note,
            backfill=_backfill(db, key, last), **_completeness(history),
            **(_progress(db, history, now) if health == "running" else {})))
    return out


def _completeness(history: list[Run]) -> dict[str, int | None]:
    counted = next((r for r in history if r.captured_total is not None), None)
    return {"captured_total": counted.captured_total if counted else None,
            "reported_total": counted.reported_total if counted else None}


def _progress(db: Database, history: list[Run], now: dt.datetime) -> dict[str, int | None]:
    """How far the running harvest (``history[0]``) has come, and when it is likely done."""
    running = history[0]
    elapsed = (now - parse_time(running.started_at)).total_seconds()
    finished = next((r for r in history[1:] if r.ended_at), None)
    eta = None
    if finished is not None:
        took = (parse_time(finished.ended_at or "") - parse_time(finished.started_at)).total_seconds()
        eta = max(0, round(took - elapsed))
    return {"running_recorded": PostCatalog(db).versions_of_harvest(running.run_id),
            "running_eta_seconds": eta}


def _backfill(db: Database, key: str, last: Run | None) -> str:
    state = Backfills(db).get(key)
    if state is None or (state.finished and (last is None or last.run_id != state.last_run_id)):
        return ""  # none, or finished before the last run: nothing to say any more
    return progress_note(state, last.captured_total if last else None,
                         last.reported_total if last else None)


def daemon_state(home: Path) -> str:
    """Whether a daemon runs on this home, from the file it keeps beside its lock."""
    info_path = home / "locks" / "daemon.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "not running"
    if info.get("host") == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return "not running (it was stopped without a clean shutdown)"
        except PermissionError:
            pass
    return f"running (process {pid} on {info.get('host')}, since {info.get('started_at')})"


def as_json(statuses: list[AccountStatus]) -> list[dict[str, object]]:
    return [asdict(s) for s in statuses]
