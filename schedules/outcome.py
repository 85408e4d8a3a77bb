"""What a finished harvest child means: the run history completed, and alerts for the archivist."""

from __future__ import annotations

import datetime as dt
import signal
from typing import Any

from catalog.db import Database
from catalog.runs import RunLog
from catalog.schema import iso
from schedules.alerts import Alerts
from schedules.child import ChildResult


def settle(db: Database, runs: RunLog, key: str, started: dt.datetime, result: ChildResult,
           alerts: Alerts, quiet: bool) -> tuple[str, str, dict[str, Any] | None]:
    """Record and alert what the child's result says; returns (what, detail, summary).

    ``quiet``: the daemon itself stopped the child, so its end is no news for the archivist.
    """
    if result.kind == "crashed":
        if quiet and result.returncode == -signal.SIGTERM and not _began(runs, key, started):
            # The daemon's stop reached it before it opened its run: it did nothing, so nothing
            # is recorded (a failure here would back the account off); the next start runs it.
            return "not-started", "the daemon was stopping before the harvest began", None
        record_crash(runs, key, started, result.error)
        if not quiet:
            alerts.send("failed", key, result.error)
        return "failed", result.error, None
    s = result.summary or {}
    detail = (f"new {s.get('posts_new', 0)}, edited {s.get('posts_edited', 0)}, "
              f"deleted {s.get('posts_deleted', 0)}")
    if result.outcome in ("failed", "stopped") and not quiet:
        kind = "failed"
        if result.outcome == "stopped":  # the crawler paused what stopped it: say what
            run_id = s.get("harvest_id")
            paused = next((p for p in runs.active_pauses() if run_id and p.run_id == run_id), None)
            if paused is not None:
                kind = paused.target.health
        alerts.send(kind, key, str(s.get("reason") or f"the harvest {result.outcome}"),
                    str(s.get("advice") or ""), s.get("harvest_id"))
    for notice in s.get("login_notices") or []:
        alerts.send("login expires soon", key, str(notice), "Log in again before it expires.",
                    s.get("harvest_id"))
    for warning in s.get("warnings") or []:  # told on the child's stderr, which nobody reads
        alerts.send("quarantined", key, str(warning),
                    "Find out who put the file there; it is kept in the quarantine folder.",
                    s.get("harvest_id"))
    return result.outcome, detail, s


def _began(runs: RunLog, key: str, started: dt.datetime) -> bool:
    last = runs.last(key)
    return last is not None and last.started_at >= iso(started)


def record_crash(runs: RunLog, key: str, started: dt.datetime, error: str) -> None:
    """A child that died or refused before finishing its run: the run history must say so."""
    last = runs.last(key)
    if last is not None and last.started_at >= iso(started) and last.ended_at is None:
        runs.finish(last.run_id, "failed", reason=error)
    elif last is None or last.started_at < iso(started):
        run_id = runs.start(key, "harvest")
        runs.finish(run_id, "failed", reason=error)
